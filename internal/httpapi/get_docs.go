package httpapi

import (
	"bytes"
	"context"
	"sync"

	"github.com/feddi/partner-api/gen/api"
	"github.com/feddi/partner-api/gen/docsui"
	"github.com/feddi/partner-api/internal/platform/docspage"
)

// docsPage is the reference page, built on its first request: most servers
// (every test's) never serve it.
type docsPage struct {
	once sync.Once
	page docspage.Page
}

// GetDocs serves the interactive reference: the embedded document rendered
// by the embedded Redoc bundle, in one self-contained page.
func (s *Server) GetDocs(_ context.Context, _ api.GetDocsRequestObject) (api.GetDocsResponseObject, error) {
	s.docs.once.Do(func() {
		s.docs.page = docspage.Build(docsui.RedocStandalone, s.Spec.JSON, s.Spec.Doc.Info.Title+" reference")
	})
	p := s.docs.page
	return api.GetDocs200TexthtmlResponse{
		Body:          bytes.NewReader(p.HTML),
		ContentLength: int64(len(p.HTML)),
		Headers:       api.GetDocs200ResponseHeaders{ContentSecurityPolicy: &p.CSP},
	}, nil
}
