package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestNoSessionState fails when the service's SQL keeps state in a database
// session beyond one transaction. Behind PgBouncer in transaction mode
// (docs/scale-out.md) a session is a server connection that the next
// transaction of any client may get, so such state leaks to the wrong
// client or is gone when the client comes back. It reads the SQL of
// db/queries and db/migrations (whose functions run at request time) and
// every string literal of the Go code that is not a test.
// make test-pgbouncer proves the same at run time.
func TestNoSessionState(t *testing.T) {
	var found []string
	for _, dir := range []string{"db/queries", "db/migrations"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".sql") {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, f := range sessionState(string(b)) {
				found = append(found, rel(path)+": "+f)
			}
			return nil
		})
		require.NoError(t, err)
	}
	literals := 0
	for _, dir := range []string{"internal", "cmd"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			file, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			ast.Inspect(file, func(n ast.Node) bool {
				lit, ok := n.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return true
				}
				s, err := strconv.Unquote(lit.Value)
				if err != nil {
					return true
				}
				literals++
				for _, f := range sessionState(s) {
					found = append(found, rel(path)+": "+f)
				}
				return true
			})
			return nil
		})
		require.NoError(t, err)
	}
	require.Greater(t, literals, 1000, "read too few Go string literals: is the scan broken?")
	require.Empty(t, found, "session state does not survive PgBouncer's transaction mode: keep it in the transaction (SET LOCAL, pg_advisory_xact_lock) or in a table")

	// The check itself, on planted SQL.
	t.Run("FindsPlantedSessionState", func(t *testing.T) {
		for _, sql := range []string{
			"SELECT pg_advisory_lock(42)",
			"select pg_try_advisory_lock($1)",
			"SELECT pg_advisory_lock_shared(hashtext('x'))",
			"SELECT pg_advisory_unlock(42)",
			"SET statement_timeout = '5s'",
			"-- name: X :exec\nSET SESSION search_path TO other",
			"BEGIN;\n  set lock_timeout to 100;",
			"SELECT set_config('app.tenant', $1, false)",
			"LISTEN river_insert",
			"CREATE TEMP TABLE scratch (id int)",
			"create temporary table scratch (id int)",
			"PREPARE pay AS SELECT 1",
			"DISCARD ALL",
			"UNLISTEN *",
			"RESET search_path",
		} {
			require.NotEmpty(t, sessionState(sql), "the check misses %q", sql)
		}
	})
	t.Run("AcceptsTransactionScopedState", func(t *testing.T) {
		for _, sql := range []string{
			"SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
			"PERFORM pg_try_advisory_xact_lock(1);",
			"SET LOCAL statement_timeout = '5s'",
			"SET TRANSACTION ISOLATION LEVEL SERIALIZABLE",
			"SET CONSTRAINTS ALL DEFERRED",
			"SELECT set_config('app.tenant', $1, true)",
			"UPDATE payments\nSET status = @status\nWHERE id = @id;",
			"ALTER TABLE t ALTER COLUMN c SET DEFAULT 0;",
			"SAVEPOINT dbx_1",
			"SELECT pg_notify('x', 'y')",
		} {
			require.Empty(t, sessionState(sql), "the check refuses %q", sql)
		}
	})
}

var (
	sessionLock     = regexp.MustCompile(`(?i)\bpg_(try_)?advisory_(un)?lock(_shared|_all)?\s*\(`)
	sessionConfig   = regexp.MustCompile(`(?i)\bset_config\s*\([^;]*,\s*false\s*\)`)
	lineComment     = regexp.MustCompile(`--[^\n]*`)
	settingName     = regexp.MustCompile(`^[a-z_][a-z0-9_.]*$`)
	sessionCommands = map[string]bool{"LISTEN": true, "UNLISTEN": true, "PREPARE": true, "DEALLOCATE": true, "DISCARD": true, "RESET": true}
	// SET scoped to the transaction: SET LOCAL, SET TRANSACTION, SET CONSTRAINTS.
	transactionSet = map[string]bool{"LOCAL": true, "TRANSACTION": true, "CONSTRAINTS": true}
)

// sessionState lists what in sql would outlive its transaction.
func sessionState(sql string) []string {
	var out []string
	for _, m := range sessionLock.FindAllString(sql, -1) {
		out = append(out, "session advisory lock "+m+"…): use pg_advisory_xact_lock")
	}
	for _, m := range sessionConfig.FindAllString(sql, -1) {
		out = append(out, "session setting "+m+": pass true (transaction-local)")
	}
	for _, stmt := range strings.Split(lineComment.ReplaceAllString(sql, ""), ";") {
		words := strings.Fields(stmt)
		if len(words) < 2 {
			continue
		}
		first, second := strings.ToUpper(words[0]), strings.ToUpper(words[1])
		switch {
		case sessionCommands[first]:
			out = append(out, first+" keeps state in the session")
		// A setting's name is lower case: "set FEDDI_KEK to …" is a
		// message, not SQL.
		case first == "SET" && (second == "SESSION" || !transactionSet[second] && settingName.MatchString(words[1])):
			out = append(out, "SET without LOCAL changes the session: "+strings.Join(words, " "))
		case first == "CREATE" && (second == "TEMP" || second == "TEMPORARY"):
			out = append(out, "a temporary table lives in the session")
		}
	}
	return out
}

func rel(path string) string {
	r, err := filepath.Rel(root, path)
	if err != nil {
		return path
	}
	return filepath.ToSlash(r)
}
