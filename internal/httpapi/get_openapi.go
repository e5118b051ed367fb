package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"

	"github.com/feddi/partner-api/gen/api"
)

// openapiDocument is the embedded document in its two representations,
// prepared once: the exact YAML bytes, and the same content as JSON.
type openapiDocument struct {
	yaml, json         []byte
	yamlETag, jsonETag string
}

func newOpenapiDocument(raw, asJSON []byte) openapiDocument {
	return openapiDocument{yaml: raw, yamlETag: etag(raw), json: asJSON, jsonETag: etag(asJSON)}
}

func etag(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

// GetOpenapi serves the embedded document: YAML bytes exactly as in openapi/,
// JSON when the client asks for it, with an ETag and 304 on a match.
func (s *Server) GetOpenapi(ctx context.Context, req api.GetOpenapiRequestObject) (api.GetOpenapiResponseObject, error) {
	body, tag, contentType := s.openapi.yaml, s.openapi.yamlETag, "application/yaml"
	if r := httpRequest(ctx); r != nil && wantsJSON(r.Header.Get("Accept")) {
		body, tag, contentType = s.openapi.json, s.openapi.jsonETag, "application/json"
	}
	if req.Params.IfNoneMatch != nil && etagMatches(*req.Params.IfNoneMatch, tag) {
		return api.GetOpenapi304Response{Headers: api.GetOpenapi304ResponseHeaders{ETag: &tag}}, nil
	}
	return rawDocument{body: body, etag: tag, contentType: contentType}, nil
}

type rawDocument struct {
	body        []byte
	etag        string
	contentType string
}

func (r rawDocument) VisitGetOpenapiResponse(w http.ResponseWriter) error {
	w.Header().Set("Content-Type", r.contentType)
	w.Header().Set("ETag", r.etag)
	w.Header().Set("Content-Length", fmt.Sprint(len(r.body)))
	w.WriteHeader(http.StatusOK)
	_, err := bytes.NewReader(r.body).WriteTo(w)
	return err
}

func wantsJSON(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		mediaType, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		switch strings.TrimSpace(mediaType) {
		case "application/json":
			return true
		case "application/yaml", "application/x-yaml", "text/yaml", "*/*":
			return false
		}
	}
	return false
}

func etagMatches(header, tag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == tag || t == "*" {
			return true
		}
	}
	return false
}
