package spec

import "github.com/getkin/kin-openapi/openapi3filter"

// kin-openapi decodes no text/html body of its own: GET /docs answers one,
// a string to its schema like any text/plain body.
func init() {
	openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder)
}
