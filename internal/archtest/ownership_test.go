package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	pathpkg "path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// root is the module's folder, two up from this package.
const root = "../.."

// TestTableOwnership fails when a package calls a sqlc query of a table it
// does not own (docs/architecture.md, "Table ownership"), or when the
// ownership table and db/queries disagree.
func TestTableOwnership(t *testing.T) {
	owners := readOwnership(t)
	queries := readQueries(t)

	t.Run("EveryQueryFileHasOneOwner", func(t *testing.T) {
		files := map[string]bool{}
		for _, file := range queries {
			files[file] = true
		}
		for file := range files {
			require.Contains(t, owners, file, "db/queries/%s.sql has no owner in docs/architecture.md", file)
		}
		for file := range owners {
			require.True(t, files[file], "docs/architecture.md gives an owner to %s, which is no file of db/queries", file)
		}
	})

	t.Run("PackagesCallOnlyTheirOwnQueries", func(t *testing.T) {
		calls := readCalls(t, queries)
		require.NotEmpty(t, calls, "found no query calls at all: is the scan broken?")
		var wrong []string
		for _, c := range calls {
			file := queries[c.query]
			if owners[file] != c.pkg {
				wrong = append(wrong, c.pos+": "+c.pkg+" calls "+c.query+" of db/queries/"+file+".sql, owned by "+owners[file]+": call the owner instead")
			}
		}
		sort.Strings(wrong)
		require.Empty(t, wrong)
	})
}

// readOwnership reads the table of docs/architecture.md's "Table
// ownership" section: query file name -> owning package folder.
func readOwnership(t *testing.T) map[string]string {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join(root, "docs", "architecture.md"))
	require.NoError(t, err)
	ticked := regexp.MustCompile("`([^`]+)`")
	note := regexp.MustCompile(`\([^)]*\)`)
	owners := map[string]string{}
	in := false
	for _, line := range strings.Split(string(doc), "\n") {
		if strings.HasPrefix(line, "## ") {
			in = line == "## Table ownership"
			continue
		}
		if !in || !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		require.Len(t, cells, 2, "row %q", line)
		pkg := strings.Trim(strings.TrimSpace(cells[0]), "`")
		// The owned files are the ticked names outside parentheses (notes).
		names := note.ReplaceAllString(cells[1], "")
		for _, m := range ticked.FindAllStringSubmatch(names, -1) {
			require.NotContains(t, owners, m[1], "%s has two owners", m[1])
			owners[m[1]] = pkg
		}
	}
	require.NotEmpty(t, owners, `docs/architecture.md has no "## Table ownership" table`)
	return owners
}

// readQueries maps every sqlc query name to its file in db/queries
// (without .sql).
func readQueries(t *testing.T) map[string]string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(root, "db", "queries", "*.sql"))
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	name := regexp.MustCompile(`(?m)^-- name: (\w+)`)
	queries := map[string]string{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		for _, m := range name.FindAllStringSubmatch(string(b), -1) {
			queries[m[1]] = strings.TrimSuffix(filepath.Base(p), ".sql")
		}
	}
	return queries
}

type call struct{ pkg, query, pos string }

// readCalls finds every use of a query method (a selector naming a sqlc
// query: q.WalletGet(…), dbx.Q(ctx, pool).WalletGet(…)) in the non-test
// code of internal/ and cmd/. Test support packages (named …test) are
// fixtures and are skipped, as is generated code.
func readCalls(t *testing.T, queries map[string]string) []call {
	t.Helper()
	var calls []call
	fset := token.NewFileSet()
	for _, top := range []string{"internal", "cmd"} {
		err := filepath.WalkDir(filepath.Join(root, top), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if strings.HasSuffix(d.Name(), "test") {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			file, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(root, filepath.Dir(path))
			if err != nil {
				return err
			}
			pkg := filepath.ToSlash(rel)
			// A query is a method: a selector on an imported package
			// (api.ApiKeyList, a generated type) is not one.
			imported := map[string]bool{}
			for _, imp := range file.Imports {
				name := pathpkg.Base(strings.Trim(imp.Path.Value, `"`))
				if imp.Name != nil {
					name = imp.Name.Name
				}
				imported[name] = true
			}
			ast.Inspect(file, func(n ast.Node) bool {
				if sel, ok := n.(*ast.SelectorExpr); ok {
					if x, ok := sel.X.(*ast.Ident); ok && imported[x.Name] {
						return true
					}
					if _, ok := queries[sel.Sel.Name]; ok {
						p := fset.Position(sel.Sel.Pos())
						calls = append(calls, call{pkg: pkg, query: sel.Sel.Name, pos: filepath.ToSlash(strings.TrimPrefix(p.Filename, root+"/")) + ":" + strconv.Itoa(p.Line)})
					}
				}
				return true
			})
			return nil
		})
		require.NoError(t, err)
	}
	return calls
}
