// Package spec loads the embedded OpenAPI document once and answers, for every
// operation, what the server must enforce: accepted credentials and scopes,
// idempotency, stability and the error codes it may return. Everything that
// the document states is read from here, never restated in Go.
package spec

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"go.yaml.in/yaml/v3"
)

// Idempotency is the value of an operation's x-idempotency extension.
type Idempotency string

// The three idempotency modes of the contract.
const (
	IdempotencyRequired Idempotency = "required"
	IdempotencyOptional Idempotency = "optional"
	IdempotencyNone     Idempotency = "none"
)

// The security schemes of the document.
const (
	SchemeAPIKey      = "ApiKeyAuth"
	SchemeTerminalJWT = "TerminalJWT"
)

// Requirement is one accepted way to call an operation: a security scheme and
// the scopes the credential must hold.
type Requirement struct {
	Scheme string
	Scopes []string
}

// Operation is what the server enforces for one operation of the document.
type Operation struct {
	ID           string
	Method       string
	Path         string // the OpenAPI path template, /payments/{id}
	EchoPath     string // the same path for echo's router, /payments/:id
	Stability    string
	Idempotency  Idempotency
	ErrorCodes   []string
	Security     []Requirement // empty: unauthenticated
	RequiredRole string
	// PageSizes bound the page of a listing (an operation with a limit
	// query parameter), nil for every other operation.
	PageSizes *PageSizes
	PathItem  *openapi3.PathItem
	Op        *openapi3.Operation
}

// PageSizes are a listing's page sizes, as its limit parameter states them:
// Default when the request gives no limit, Max the largest it accepts.
type PageSizes struct {
	Default int
	Max     int
}

// LimitParameter is the query parameter that sizes a listing's page.
const LimitParameter = "limit"

// pageSizesOf reads the default and maximum of a limit parameter's schema;
// a listing must state both.
func pageSizesOf(p *openapi3.Parameter) (PageSizes, error) {
	if p.Schema == nil || p.Schema.Value == nil {
		return PageSizes{}, fmt.Errorf("parameter %s has no schema", p.Name)
	}
	sch := p.Schema.Value
	def, ok := sch.Default.(float64)
	if !ok || sch.Max == nil || def != float64(int(def)) || *sch.Max != float64(int(*sch.Max)) {
		return PageSizes{}, fmt.Errorf("parameter %s must state an integer default and maximum", p.Name)
	}
	return PageSizes{Default: int(def), Max: int(*sch.Max)}, nil
}

// Authenticated says whether the operation needs a credential.
func (o *Operation) Authenticated() bool { return len(o.Security) > 0 }

// Accepts returns the requirement of a scheme, if the operation accepts it.
func (o *Operation) Accepts(scheme string) (Requirement, bool) {
	for _, r := range o.Security {
		if r.Scheme == scheme {
			return r, true
		}
	}
	return Requirement{}, false
}

// MayReturn says whether code is one of the operation's documented codes.
func (o *Operation) MayReturn(code string) bool { return slices.Contains(o.ErrorCodes, code) }

// Spec is the loaded document.
type Spec struct {
	Doc *openapi3.T
	// ValidationDoc is Doc presented to kin-openapi as OpenAPI 3.0 for
	// validating requests and (in tests) responses. For a 3.1 document
	// kin-openapi compiles a JSON Schema 2020-12 validator from scratch on
	// every call (measured: 718 µs and 6 000 allocations per confirmTopup
	// request, against 9.6 µs for its 3.0 validator, which caches). The
	// schemas use no keyword that only the 2020-12 validator knows but
	// `const`, which Load restates as a one-value `enum` (a test holds them
	// to that), so both validators accept and refuse the same messages.
	ValidationDoc *openapi3.T
	Bytes         []byte
	// JSON is the same document as JSON (GET /openapi serves it on request),
	// rendered once here rather than per server.
	JSON            []byte
	APIVersion      string
	ops             []*Operation
	inDocumentOrder []*Operation
	commonPageSizes PageSizes
	byRoute         map[string]*Operation
	byID            map[string]*Operation
}

var pathParam = regexp.MustCompile(`\{([^}]+)\}`)

// Load parses and validates the document and indexes its operations.
func Load(data []byte) (*Spec, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("loading OpenAPI document: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("validating OpenAPI document: %w", err)
	}
	doc.Servers = nil // requests are matched on their path alone
	asLegacy := *doc
	asLegacy.OpenAPI = "3.0.3"
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("reading OpenAPI document: %w", err)
	}
	var tree any
	if err := root.Decode(&tree); err != nil {
		return nil, fmt.Errorf("reading OpenAPI document: %w", err)
	}
	asJSON, err := json.Marshal(tree)
	if err != nil {
		return nil, fmt.Errorf("rendering OpenAPI document as JSON: %w", err)
	}
	s := &Spec{
		Doc:           doc,
		ValidationDoc: &asLegacy,
		Bytes:         data,
		JSON:          asJSON,
		APIVersion:    doc.Info.Version,
		byRoute:       map[string]*Operation{},
		byID:          map[string]*Operation{},
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			o, err := newOperation(path, method, item, op)
			if err != nil {
				return nil, err
			}
			s.ops = append(s.ops, o)
			s.byRoute[method+" "+o.EchoPath] = o
			s.byID[o.ID] = o
		}
	}
	for _, o := range s.ops {
		if err := forEachSchema(o.Op, restateConst); err != nil {
			return nil, err
		}
	}
	sort.Slice(s.ops, func(i, j int) bool {
		if s.ops[i].Path != s.ops[j].Path {
			return s.ops[i].Path < s.ops[j].Path
		}
		return s.ops[i].Method < s.ops[j].Method
	})
	limit := doc.Components.Parameters["Limit"]
	if limit == nil || limit.Value == nil {
		return nil, fmt.Errorf("the document has no Limit parameter")
	}
	if s.commonPageSizes, err = pageSizesOf(limit.Value); err != nil {
		return nil, err
	}
	position := operationPositions(&root)
	s.inDocumentOrder = slices.Clone(s.ops)
	sort.SliceStable(s.inDocumentOrder, func(i, j int) bool {
		return position[s.inDocumentOrder[i].ID] < position[s.inDocumentOrder[j].ID]
	})
	return s, nil
}

// operationPositions numbers the operationIds in the order the YAML text
// lists them (kin-openapi keeps paths in a map, so the order is read from
// the text itself).
func operationPositions(root *yaml.Node) map[string]int {
	position := map[string]int{}
	if len(root.Content) == 0 {
		return position
	}
	paths := mappingValue(root.Content[0], "paths")
	if paths == nil {
		return position
	}
	for i := 1; i < len(paths.Content); i += 2 {
		item := paths.Content[i]
		for j := 1; j < len(item.Content); j += 2 {
			if id := mappingValue(item.Content[j], "operationId"); id != nil {
				position[id.Value] = len(position)
			}
		}
	}
	return position
}

func mappingValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// restateConst gives a schema with `const` the same one-value `enum`, which
// kin-openapi's OpenAPI 3.0 validator (ValidationDoc) enforces; `const`
// alone it would ignore. Both keywords then say the same thing.
func restateConst(sc *openapi3.Schema) {
	if sc.Const != nil && len(sc.Enum) == 0 {
		sc.Enum = []any{sc.Const}
	}
}

// forEachSchema calls fn on every schema an operation's parameters, request
// body and responses reach, through references.
func forEachSchema(op *openapi3.Operation, fn func(*openapi3.Schema)) error {
	visit := func(ref *openapi3.SchemaRef) error {
		if ref == nil {
			return nil
		}
		return ref.WalkSubtree(func(_ string, r *openapi3.SchemaRef) error {
			if r.Value != nil {
				fn(r.Value)
			}
			return nil
		})
	}
	for _, p := range op.Parameters {
		if err := visit(p.Value.Schema); err != nil {
			return err
		}
	}
	if op.RequestBody != nil {
		for _, mt := range op.RequestBody.Value.Content {
			if err := visit(mt.Schema); err != nil {
				return err
			}
		}
	}
	for _, r := range op.Responses.Map() {
		for _, mt := range r.Value.Content {
			if err := visit(mt.Schema); err != nil {
				return err
			}
		}
		for _, h := range r.Value.Headers {
			if err := visit(h.Value.Schema); err != nil {
				return err
			}
		}
	}
	return nil
}

func newOperation(path, method string, item *openapi3.PathItem, op *openapi3.Operation) (*Operation, error) {
	o := &Operation{
		ID:          op.OperationID,
		Method:      method,
		Path:        path,
		EchoPath:    pathParam.ReplaceAllString(path, ":$1"),
		Stability:   extString(op, "x-stability"),
		Idempotency: Idempotency(extString(op, "x-idempotency")),
		ErrorCodes:  extStrings(op, "x-error-codes"),
		PathItem:    item,
		Op:          op,
	}
	o.RequiredRole = extString(op, "x-required-role")
	if o.ID == "" {
		return nil, fmt.Errorf("%s %s: missing operationId", method, path)
	}
	for _, ref := range slices.Concat(item.Parameters, op.Parameters) {
		if p := ref.Value; p != nil && p.In == openapi3.ParameterInQuery && p.Name == LimitParameter {
			sizes, err := pageSizesOf(p)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", o.ID, err)
			}
			o.PageSizes = &sizes
		}
	}
	switch o.Stability {
	case "ga", "beta":
	default:
		return nil, fmt.Errorf("%s: x-stability must be ga or beta, got %q", o.ID, o.Stability)
	}
	switch o.Idempotency {
	case IdempotencyRequired, IdempotencyOptional, IdempotencyNone:
	default:
		return nil, fmt.Errorf("%s: x-idempotency must be required, optional or none, got %q", o.ID, o.Idempotency)
	}
	if op.Security == nil {
		return nil, fmt.Errorf("%s: every operation states its security, [] when public", o.ID)
	}
	for _, alt := range *op.Security {
		if len(alt) != 1 {
			return nil, fmt.Errorf("%s: each security alternative names exactly one scheme", o.ID)
		}
		for scheme, scopes := range alt {
			o.Security = append(o.Security, Requirement{Scheme: scheme, Scopes: scopes})
		}
	}
	return o, nil
}

func extString(op *openapi3.Operation, name string) string {
	s, _ := op.Extensions[name].(string)
	return s
}

func extStrings(op *openapi3.Operation, name string) []string {
	raw, _ := op.Extensions[name].([]any)
	out := make([]string, 0, len(raw))
	for _, v := range raw {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// Operations lists every operation, ordered by path then method.
func (s *Spec) Operations() []*Operation { return s.ops }

// CommonPageSizes are the page sizes of the shared Limit parameter
// (components/parameters/Limit), which the listings refer to unless one
// states its own; each listing's are its Operation.PageSizes.
func (s *Spec) CommonPageSizes() PageSizes { return s.commonPageSizes }

// OperationsInDocumentOrder lists every operation in the order the document
// writes them (GET /capabilities reports them so), computed once at Load.
// The slice is shared: do not modify it.
func (s *Spec) OperationsInDocumentOrder() []*Operation { return s.inDocumentOrder }

// ByRoute finds the operation behind an echo route (method and echo path).
func (s *Spec) ByRoute(method, echoPath string) (*Operation, bool) {
	o, ok := s.byRoute[method+" "+echoPath]
	return o, ok
}

// ByID finds an operation by its operationId.
func (s *Spec) ByID(id string) (*Operation, bool) {
	o, ok := s.byID[id]
	return o, ok
}

// ErrorCodes is the ErrorCode enum of the document.
func (s *Spec) ErrorCodes() []string {
	ref := s.Doc.Components.Schemas["ErrorCode"]
	if ref == nil || ref.Value == nil {
		return nil
	}
	out := make([]string, 0, len(ref.Value.Enum))
	for _, v := range ref.Value.Enum {
		out = append(out, fmt.Sprint(v))
	}
	return out
}

// HasBody says whether requests of the method carry a JSON body.
func HasBody(method string) bool {
	return method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch
}

// ScopeList renders scopes for messages.
func ScopeList(scopes []string) string { return strings.Join(scopes, " ") }
