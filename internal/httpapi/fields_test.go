package httpapi

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/internal/auth"
	"github.com/feddi/partner-api/internal/checkout"
	"github.com/feddi/partner-api/internal/enrollment"
	"github.com/feddi/partner-api/internal/events"
	"github.com/feddi/partner-api/internal/identity"
	"github.com/feddi/partner-api/internal/payments"
	"github.com/feddi/partner-api/internal/platform/fielderr"
	"github.com/feddi/partner-api/internal/platform/spec"
	"github.com/feddi/partner-api/internal/topup"
	"github.com/feddi/partner-api/internal/transactions"
	"github.com/feddi/partner-api/internal/wallets"
	"github.com/feddi/partner-api/internal/webhooks"
	"github.com/feddi/partner-api/openapi"
)

// TestFieldPointersExistInTheirRequests resolves every pointer of the table
// in the request of each operation it names: the body schema for /data/...
// (through properties, list items and allOf/oneOf/anyOf), the query
// parameters for /query/....
func TestFieldPointersExistInTheirRequests(t *testing.T) {
	t.Parallel()
	doc, err := spec.Load(openapi.Document)
	require.NoError(t, err)
	for field, fp := range fieldPointers {
		require.NotEmpty(t, fp.ops, "%s names no operation", field)
		for _, id := range fp.ops {
			op, ok := doc.ByID(id)
			require.True(t, ok, "%s: no operation %s", field, id)
			found := requestHas(op, fp.pointer)
			if fp.absent != "" {
				require.False(t, found, "%s: %s is in %s now; drop the exception", field, fp.pointer, id)
				continue
			}
			require.True(t, found, "%s: %s is not in the request of %s", field, fp.pointer, id)
		}
	}
}

func requestHas(op *spec.Operation, pointer string) bool {
	segs := strings.Split(strings.TrimPrefix(pointer, "/"), "/")
	switch segs[0] {
	case "query":
		if len(segs) != 2 {
			return false
		}
		params := slices.Concat(op.PathItem.Parameters, op.Op.Parameters)
		return slices.ContainsFunc(params, func(p *openapi3.ParameterRef) bool {
			return p.Value != nil && p.Value.In == openapi3.ParameterInQuery && p.Value.Name == segs[1]
		})
	case "data":
		if op.Op.RequestBody == nil || op.Op.RequestBody.Value == nil {
			return false
		}
		media := op.Op.RequestBody.Value.Content.Get("application/json")
		if media == nil || media.Schema == nil {
			return false
		}
		return schemaHas(media.Schema.Value, segs)
	}
	return false
}

// schemaHas says whether the path of property names ("*": any list
// element) leads somewhere in the schema.
func schemaHas(s *openapi3.Schema, path []string) bool {
	if s == nil {
		return false
	}
	if len(path) == 0 {
		return true
	}
	for _, refs := range []openapi3.SchemaRefs{s.AllOf, s.OneOf, s.AnyOf} {
		for _, r := range refs {
			if schemaHas(r.Value, path) {
				return true
			}
		}
	}
	if path[0] == "*" {
		return s.Items != nil && schemaHas(s.Items.Value, path[1:])
	}
	p, ok := s.Properties[path[0]]
	return ok && schemaHas(p.Value, path[1:])
}

// TestEveryDomainFieldIsMapped reads the domain (and platform) packages'
// source: every field a package declares (a constant of type fielderr.Field) follows the
// naming convention and has a pointer in the table, and no domain names an
// input any other way (a literal field, a JSON pointer).
func TestEveryDomainFieldIsMapped(t *testing.T) {
	t.Parallel()
	convention := regexp.MustCompile(`^([a-z]+)\.[A-Z][A-Za-z]*(\.[A-Za-z][A-Za-z]*(\[\])?)*$`)
	wirePath := regexp.MustCompile(`^"/(data|query)\b`)
	declared := map[fielderr.Field]string{}
	params := map[string][]string{} // "pkg.Func", "pkg.Recv.Method" → parameter names
	fset := token.NewFileSet()
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (path == filepath.Join("..", "httpapi") || path == filepath.Join("..", "platform", "fielderr")) {
			return filepath.SkipDir
		}
		// Platform pieces below the HTTP layer (httpx) may write pointers.
		domain := !strings.HasPrefix(path, filepath.Join("..", "platform")+string(filepath.Separator))
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncDecl:
				var names []string
				for _, p := range n.Type.Params.List {
					for _, name := range p.Names {
						names = append(names, name.Name)
					}
				}
				params[f.Name.Name+"."+n.Name.Name] = names
				if n.Recv != nil && len(n.Recv.List) == 1 {
					recv := n.Recv.List[0].Type
					if star, ok := recv.(*ast.StarExpr); ok {
						recv = star.X
					}
					if id, ok := recv.(*ast.Ident); ok {
						params[f.Name.Name+"."+id.Name+"."+n.Name.Name] = names
					}
				}
			case *ast.ValueSpec:
				if !isFielderr(n.Type, "Field") {
					return true
				}
				for i, name := range n.Names {
					lit, ok := n.Values[i].(*ast.BasicLit)
					require.True(t, ok, "%s: %s: declare a field as a string constant", fset.Position(n.Pos()), name)
					v, err := strconv.Unquote(lit.Value)
					require.NoError(t, err)
					m := convention.FindStringSubmatch(v)
					require.NotNil(t, m, "%s: %q is not package.Input.Field", fset.Position(n.Pos()), v)
					require.Equal(t, f.Name.Name, m[1], "%s: %q names another package", fset.Position(n.Pos()), v)
					declared[fielderr.Field(v)] = fset.Position(n.Pos()).String()
				}
			case *ast.CallExpr:
				if isFielderr(n.Fun, "Field") {
					t.Errorf("%s: declare the field as a constant instead of converting", fset.Position(n.Pos()))
				}
				if isFielderr(n.Fun, "New") && len(n.Args) > 1 {
					_, lit := n.Args[1].(*ast.BasicLit)
					require.False(t, lit, "%s: name a declared field constant", fset.Position(n.Pos()))
				}
			case *ast.CompositeLit:
				if isFielderr(n.Type, "Input") {
					for _, el := range n.Elts {
						if kv, ok := el.(*ast.KeyValueExpr); ok {
							_, lit := kv.Value.(*ast.BasicLit)
							require.False(t, lit, "%s: name a declared field constant", fset.Position(n.Pos()))
						}
					}
				}
			case *ast.BasicLit:
				require.False(t, domain && n.Kind == token.STRING && wirePath.MatchString(n.Value),
					"%s: %s is the wire's name; name the input in the domain's terms (fielderr.Field)", fset.Position(n.Pos()), n.Value)
			}
			return true
		})
		return nil
	})
	require.NoError(t, err)
	require.NotEmpty(t, declared)
	for field, at := range declared {
		_, ok := fieldPointers[field]
		require.True(t, ok, "%s: %s has no pointer in fieldPointers", at, field)
	}
	for field := range fieldPointers {
		_, ok := declared[field]
		require.True(t, ok, "fieldPointers maps %s, which no domain declares", field)
	}
	for field, at := range declared {
		require.True(t, namesARealInput(string(field), params), "%s: %s names no field of an input type in inputTypes, nor a parameter of a function", at, field)
	}
}

// inputTypes are the domain input types the fields name: a renamed type
// fails to compile here, a renamed field fails namesARealInput.
var inputTypes = map[string]reflect.Type{}

func init() {
	for _, v := range []any{
		auth.NewKey{}, enrollment.Enrollee{}, enrollment.Target{}, enrollment.Proof{},
		payments.Request{}, payments.CaptureRequest{}, identity.Credential{}, payments.RefundRequest{}, checkout.SessionRequest{}, checkout.Completion{},
		topup.Confirmation{}, topup.SkuSale{}, topup.SkuInput{}, topup.ReloadBonusInput{},
		wallets.NewWallet{}, transactions.Query{}, events.Query{}, webhooks.NewEndpoint{},
	} {
		inputTypes[reflect.TypeOf(v).String()] = reflect.TypeOf(v)
	}
}

// namesARealInput says whether a field (package.Input.Path) names a field
// path of a known input type, or a parameter of a function or method
// (package.Func.param, package.Recv.Method.param).
func namesARealInput(field string, params map[string][]string) bool {
	segs := strings.Split(field, ".")
	if typ, ok := inputTypes[segs[0]+"."+segs[1]]; ok {
		for _, seg := range segs[2:] {
			name, list := strings.CutSuffix(seg, "[]")
			for typ.Kind() == reflect.Pointer {
				typ = typ.Elem()
			}
			f, ok := typ.FieldByName(name)
			if !ok || !f.IsExported() {
				return false
			}
			typ = f.Type
			if list {
				if typ.Kind() != reflect.Slice {
					return false
				}
				typ = typ.Elem()
			}
		}
		return true
	}
	last := strings.TrimSuffix(segs[len(segs)-1], "[]")
	return slices.Contains(params[strings.Join(segs[:len(segs)-1], ".")], last)
}

func isFielderr(e ast.Expr, name string) bool {
	sel, ok := e.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	pkg, ok := sel.X.(*ast.Ident)
	return ok && pkg.Name == "fielderr" && sel.Sel.Name == name
}

func TestPointerOfFillsIndexes(t *testing.T) {
	t.Parallel()
	require.Equal(t, "/data/tiers/2/max_bonus_minor", pointerOf(fielderr.Input{Field: "topup.ReloadBonusInput.Tiers[].MaxBonus", Index: []int{2}}))
	require.Equal(t, "/data/name", pointerOf(fielderr.Input{Field: "auth.NewKey.Name"}))
	require.Empty(t, pointerOf(fielderr.Input{Field: "nobody.Knows.This"}))
}
