package docstest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/internal/docstest"
)

// fence keeps the planted documents readable inside Go raw strings.
func md(s string) string { return strings.ReplaceAll(s, "'''", "```") }

func problems(d *docstest.Document) []string {
	var out []string
	for _, p := range d.Problems {
		out = append(out, p.Message)
	}
	return out
}

func TestParseRefusesUntestedExamples(t *testing.T) {
	t.Parallel()
	t.Run("CurlWithoutExpectation", func(t *testing.T) {
		d := docstest.Parse("planted.md", md(`# Planted
'''sh
curl -s $FEDDI/health
curl -s $FEDDI/health
# → 200
'''
`))
		require.Len(t, d.Problems, 1, "%v", problems(d))
		require.Equal(t, 3, d.Problems[0].Line)
		require.Contains(t, d.Problems[0].Message, "without an expectation")
	})
	t.Run("CurlAtTheEndOfABlock", func(t *testing.T) {
		d := docstest.Parse("planted.md", md("# Planted\n'''bash\ncurl -s $FEDDI/health\n'''\n"))
		require.Len(t, d.Problems, 1, "%v", problems(d))
		require.Equal(t, 3, d.Problems[0].Line)
	})
	t.Run("ExpectationWithoutCurl", func(t *testing.T) {
		d := docstest.Parse("planted.md", md("# Planted\n'''sh\necho hi\n# → 200\n'''\n"))
		require.Len(t, d.Problems, 1, "%v", problems(d))
		require.Contains(t, d.Problems[0].Message, "expectation without a curl")
	})
	t.Run("ErrorWithoutItsCode", func(t *testing.T) {
		d := docstest.Parse("planted.md", md("# Planted\n'''sh\ncurl -s $FEDDI/x\n# → 404\n'''\n"))
		require.Len(t, d.Problems, 1, "%v", problems(d))
		require.Contains(t, d.Problems[0].Message, "names the error.code")
	})
	t.Run("SkipWithoutReason", func(t *testing.T) {
		d := docstest.Parse("planted.md", md("# Planted\n<!-- docs-runner: skip -->\n'''sh\nmake run\n'''\n"))
		require.Len(t, d.Problems, 1, "%v", problems(d))
		require.Contains(t, d.Problems[0].Message, "needs a reason")
	})
	t.Run("UnknownDirective", func(t *testing.T) {
		d := docstest.Parse("planted.md", md("# Planted\n<!-- docs-runner: ignore -->\n'''sh\nmake run\n'''\n"))
		require.Len(t, d.Problems, 1, "%v", problems(d))
		require.Contains(t, d.Problems[0].Message, "unknown docs-runner directive")
	})
	t.Run("ProvidedButNotSet", func(t *testing.T) {
		d := docstest.Parse("planted.md", md("# Planted\n<!-- docs-runner: provided KEY -->\n'''sh\nexport FEDDI=x\n'''\n"))
		require.Len(t, d.Problems, 1, "%v", problems(d))
		require.Contains(t, d.Problems[0].Message, "does not set KEY")
	})
	t.Run("SkippedAndOtherLanguagesAreNotRead", func(t *testing.T) {
		d := docstest.Parse("planted.md", md(`# Planted
<!-- docs-runner: skip it starts the server -->
'''sh
curl -s $FEDDI/health
'''
'''json
{"curl ": 1}
'''
`))
		require.Empty(t, d.Problems)
		require.Empty(t, d.Requests())
	})
}

// TestRunnerReportsPlantedDefects feeds the runner a document whose
// examples are wrong in each way a document can be, against a real server,
// and holds it to reporting every one with its line, command and body.
func TestRunnerReportsPlantedDefects(t *testing.T) {
	t.Parallel()
	requireTools(t, "bash", "curl")
	srv := startDocServer(t)
	env := map[string]string{"FEDDI": srv.url, "KEY": srv.key}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	t.Run("WrongExpectations", func(t *testing.T) {
		d := docstest.Parse("docs/planted.md", md(`# Planted

<!-- docs-runner: provided FEDDI KEY -->
'''sh
export FEDDI=http://127.0.0.1:8080
export KEY=fk_test_…
curl -s -H "X-Api-Key: $KEY" "$FEDDI/auth/keys?limit=0"
# → 200, a listing
curl -s -H "X-Api-Key: $KEY" $FEDDI/capabilities
# → 200
'''

Prose between blocks.

'''sh
curl -s -H "X-Api-Key: fk_test_nope" $FEDDI/capabilities
# → 401 forbidden
curl -s $FEDDI/health >/dev/null; curl -s $FEDDI/health
# → 200
'''
`))
		require.Empty(t, d.Problems)
		rep, err := docstest.Run(ctx, d, t.TempDir(), env)
		require.NoError(t, err)
		require.Len(t, rep.Outcomes, 4)
		require.Len(t, rep.Failures, 3, "%v", rep.Failures)

		limit := rep.Failures[0]
		require.Equal(t, 7, limit.Line)
		require.Equal(t, "expected 200, got 400 validation_failed", limit.Message)
		require.Equal(t, `curl -s -H "X-Api-Key: $KEY" "$FEDDI/auth/keys?limit=0"`, limit.Command)
		require.Contains(t, limit.Body, `"field":"/query/limit"`)
		require.Contains(t, limit.String(), "docs/planted.md:7: expected 200, got 400 validation_failed")

		wrongCode := rep.Failures[1]
		require.Equal(t, 16, wrongCode.Line)
		require.Equal(t, "expected 401 forbidden, got 401 unauthenticated", wrongCode.Message)

		twice := rep.Failures[2]
		require.Equal(t, 18, twice.Line)
		require.Equal(t, "expected 200 from one request, but the command made 2", twice.Message)
	})

	t.Run("UnannotatedCurlDoesNotRun", func(t *testing.T) {
		d := docstest.Parse("docs/planted.md", md(`# Planted
'''sh
curl -s -X POST "$FEDDI/this-would-run"
'''
`))
		rep, err := docstest.Run(ctx, d, t.TempDir(), env)
		require.NoError(t, err)
		require.Empty(t, rep.Outcomes)
		require.Len(t, rep.Failures, 1)
		require.Equal(t, 3, rep.Failures[0].Line)
		require.Contains(t, rep.Failures[0].Message, "curl command without an expectation")
	})

	t.Run("StoppedExample", func(t *testing.T) {
		d := docstest.Parse("docs/planted.md", md(`# Planted
'''sh
curl -s $FEDDI/health
# → 200
curl -s "$FEDDI/payments/$PAYMENT_ID"
# → 200
'''
`))
		rep, err := docstest.Run(ctx, d, t.TempDir(), env)
		require.NoError(t, err)
		require.Len(t, rep.Failures, 2, "%v", rep.Failures)
		require.Equal(t, "expected 200, but the example stopped before this request", rep.Failures[0].Message)
		require.Equal(t, 5, rep.Failures[0].Line)
		require.Equal(t, 5, rep.Failures[1].Line)
		require.Contains(t, rep.Failures[1].Body, "line 5: PAYMENT_ID: unbound variable")
	})

	t.Run("NoAnswer", func(t *testing.T) {
		d := docstest.Parse("docs/planted.md", md("# Planted\n'''sh\ncurl -s http://127.0.0.1:1/health\n# → 200\n'''\n"))
		rep, err := docstest.Run(ctx, d, t.TempDir(), env)
		require.NoError(t, err)
		require.Len(t, rep.Failures, 2, "%v", rep.Failures)
		require.Equal(t, "expected 200, but the example stopped before this request", rep.Failures[0].Message)
		require.Equal(t, 3, rep.Failures[1].Line)
		require.Equal(t, "curl got no answer (exit status 7; its message is below)", rep.Failures[1].Message)
		require.Contains(t, rep.Failures[1].Body, "curl: (7)")
	})

	t.Run("UnknownProvidedVariable", func(t *testing.T) {
		d := docstest.Parse("docs/planted.md", md("# Planted\n<!-- docs-runner: provided TOKEN -->\n'''sh\nTOKEN=eyJ…\n'''\n"))
		rep, err := docstest.Run(ctx, d, t.TempDir(), env)
		require.NoError(t, err)
		require.Len(t, rep.Failures, 1)
		require.Equal(t, "the runner provides no TOKEN", rep.Failures[0].Message)
	})
}
