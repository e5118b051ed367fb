package spec_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// derivedSuffixes are the names mainstream client generators make up for an
// operation on their own, as <OperationId><suffix>: @hey-api/openapi-ts
// (Data, Error, Errors, Response, Responses), oapi-codegen (Params, JSONBody,
// JSONRequestBody, RequestObject, ResponseObject, and Response for
// ClientWithResponses), openapi-generator (Request and 200Response for inline
// bodies), orval (Body, Params, Result, MutationBody, MutationResult,
// QueryResult) and ogen (Req, Res, OK).
var derivedSuffixes = []string{
	"", "Data", "Error", "Errors", "Response", "Responses", "Params", "JSONBody", "JSONRequestBody",
	"RequestObject", "ResponseObject", "Request", "RequestBody", "200Response", "Body", "Result",
	"MutationBody", "MutationResult", "QueryResult", "Req", "Res", "OK",
}

// TestSchemaNamesLeaveGeneratedNamesFree keeps component schema names apart
// from the names generators derive from operation ids: a schema called
// CreatePaymentResponse made @hey-api/openapi-ts emit CreatePaymentResponse2.
// Request and response envelopes are <OperationId>Input and
// <OperationId>Output instead.
func TestSchemaNamesLeaveGeneratedNamesFree(t *testing.T) {
	s := load(t)
	for _, o := range s.Operations() {
		base := strings.ToUpper(o.ID[:1]) + o.ID[1:]
		for _, suffix := range derivedSuffixes {
			_, taken := s.Doc.Components.Schemas[base+suffix]
			assert.Falsef(t, taken, "component schema %s is a name generators derive for operation %s", base+suffix, o.ID)
		}
	}
}
