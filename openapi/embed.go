// Package openapi embeds the OpenAPI 3.1 document, the single source of the
// Feddi Partner API. The server validates requests against these bytes, the
// generated code in gen/ was produced from them, and GET /openapi serves them
// unchanged.
package openapi

import _ "embed"

// Document is the exact content of openapi.yaml.
//
//go:embed openapi.yaml
var Document []byte
