package spec_test

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"

	"github.com/feddi/partner-api/internal/platform/spec"
)

// flows are the walks a stateful contract tester should find: the operation
// that creates (or lists) something, and the operations its links lead to.
var flows = map[string][]string{
	"createApiKey":          {"revokeApiKey", "regenerateApiKey", "deleteApiKey"},
	"initiateEnrollment":    {"verifyEnrollment", "resendEnrollment", "listCustomerGrants"},
	"identifyCustomer":      {"listCustomerGrants"},
	"createCheckoutSession": {"getCheckoutSession", "identifyCheckoutSession"},
	"createPayment":         {"getPayment", "capturePayment", "refundPayment"},
	"mintQr":                {"createPayment"},
	"listTransactions":      {"getTransaction"},
	"createWebhookEndpoint": {"listWebhookDeliveries", "rotateWebhookEndpointSecret", "deleteWebhookEndpoint"},
	"listEvents":            {"getEvent"},
}

// TestLinksWalkTheFlows holds every OpenAPI link to the document: its target
// operation exists, it fills only parameters and body fields the target has,
// and each runtime expression names a field of the response it starts from
// (or a path parameter of the request), so a stateful tester that follows it
// sends a real id.
func TestLinksWalkTheFlows(t *testing.T) {
	s := load(t)
	found := map[string][]string{}
	for _, o := range s.Operations() {
		for code, resp := range o.Op.Responses.Map() {
			for name, ref := range resp.Value.Links {
				link := ref.Value
				where := o.ID + " " + code + " links." + name
				target, ok := s.ByID(link.OperationID)
				if !assert.Truef(t, ok, "%s: no operation %q", where, link.OperationID) {
					continue
				}
				found[o.ID] = append(found[o.ID], link.OperationID)
				from := expressions{op: o, body: jsonSchema(resp.Value.Content)}
				for param, value := range link.Parameters {
					assert.Truef(t, hasParameter(target, param), "%s: %s has no parameter %q", where, target.ID, param)
					from.check(t, where+".parameters."+param, value)
				}
				if link.RequestBody != nil {
					if assert.NotNilf(t, target.Op.RequestBody, "%s: %s takes no body", where, target.ID) {
						from.checkBody(t, where+".requestBody", link.RequestBody, jsonSchema(target.Op.RequestBody.Value.Content))
					}
				}
			}
		}
	}
	for op, to := range flows {
		assert.ElementsMatchf(t, to, found[op], "links of %s", op)
	}
	assert.ElementsMatch(t, slices.Collect(maps.Keys(flows)), slices.Collect(maps.Keys(found)), "operations with links")
}

func jsonSchema(c openapi3.Content) *openapi3.Schema {
	if mt := c.Get("application/json"); mt != nil && mt.Schema != nil {
		return mt.Schema.Value
	}
	return nil
}

func parameters(o *spec.Operation) openapi3.Parameters {
	return append(slices.Clone(o.Op.Parameters), o.PathItem.Parameters...)
}

func hasParameter(o *spec.Operation, name string) bool {
	return slices.ContainsFunc(parameters(o), func(p *openapi3.ParameterRef) bool { return p.Value.Name == name })
}

// expressions resolves the runtime expressions of links that start at one
// operation's response.
type expressions struct {
	op   *spec.Operation
	body *openapi3.Schema
}

// checkBody holds a link's literal request body to the target's request
// schema, and each runtime expression in it to the response it starts from.
func (e expressions) checkBody(t *testing.T, where string, value any, schema *openapi3.Schema) {
	t.Helper()
	obj, ok := value.(map[string]any)
	if !ok {
		e.check(t, where, value)
		return
	}
	for k, v := range obj {
		if prop := propertyOf(schema, k); assert.NotNilf(t, prop, "%s: the request has no property %q", where, k) {
			e.checkBody(t, where+"."+k, v, prop)
		}
	}
}

func (e expressions) check(t *testing.T, where string, value any) {
	t.Helper()
	expr, ok := value.(string)
	if !ok || !strings.HasPrefix(expr, "$") {
		return // a literal value
	}
	switch {
	case strings.HasPrefix(expr, "$response.body#/"):
		sc := e.body
		for _, token := range strings.Split(strings.TrimPrefix(expr, "$response.body#/"), "/") {
			if _, err := strconv.Atoi(token); err == nil && sc.Items != nil {
				sc = sc.Items.Value
				continue
			}
			if sc = propertyOf(sc, token); !assert.NotNilf(t, sc, "%s: %s: the response has no %q", where, expr, token) {
				return
			}
		}
	case strings.HasPrefix(expr, "$request.path."):
		name := strings.TrimPrefix(expr, "$request.path.")
		assert.Truef(t, hasParameter(e.op, name), "%s: %s has no path parameter %q", where, e.op.ID, name)
	default:
		t.Errorf("%s: %s is not an expression this test resolves", where, expr)
	}
}

// propertyOf is the schema of a named property, looking through allOf,
// oneOf and anyOf; nil when the schema has none.
func propertyOf(sc *openapi3.Schema, name string) *openapi3.Schema {
	if sc == nil {
		return nil
	}
	if p, ok := sc.Properties[name]; ok {
		return p.Value
	}
	for _, group := range []openapi3.SchemaRefs{sc.AllOf, sc.OneOf, sc.AnyOf} {
		for _, s := range group {
			if p := propertyOf(s.Value, name); p != nil {
				return p
			}
		}
	}
	return nil
}
