package docstest_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/internal/docstest"
)

// readingOrder is the order a newcomer reads the documents in, and the
// order the runner runs them: the README, then the guides in the order the
// README lists them, then the documents for people changing the code.
var readingOrder = []string{
	"README.md",
	"docs/conventions.md",
	"docs/first-payment.md",
	"docs/money.md",
	"docs/authentication.md",
	"docs/incentives.md",
	"docs/pending-proof.md",
	"docs/refunds.md",
	"docs/transactions.md",
	"docs/events-and-webhooks.md",
	"docs/idempotency-and-errors.md",
	"docs/architecture.md",
	"docs/operations.md",
	"docs/scale-out.md",
	"docs/benchmarks.md",
}

// provided are the variables a document may ask the runner for
// (`<!-- docs-runner: provided NAME… -->`): what a reader fills in from
// `make run` or from another guide.
var provided = map[string]func(d *docServer) string{
	// The service, and the key `make run` prints.
	"FEDDI": func(d *docServer) string { return d.url },
	"KEY":   func(d *docServer) string { return d.key },
	// A verified EUR wallet holding 10.00 EUR of actual money, as
	// first-payment.md's step 0 leaves one.
	"WALLET": func(d *docServer) string { return d.verifiedWallet("+4915100000001", 1000) },
	// A captured payment of 4.50 EUR, as first-payment.md's step 3 makes one.
	"PAYMENT": func(d *docServer) string {
		return d.capturedPayment(d.verifiedWallet("+4915100000002", 1000), 450)
	},
}

// repoRoot is where the documents live, seen from this package.
const repoRoot = "../.."

func requireTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the docs' examples need %s, which is not on PATH: install it (Debian: apt-get install %s)", tool, tool)
		}
	}
}

func readDoc(t *testing.T, path string) *docstest.Document {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, path))
	require.NoError(t, err)
	return docstest.Parse(path, string(raw))
}

// TestDocs runs every shell example of the README and docs/*.md, document
// by document in reading order, each document against a fresh server.
// It takes a server per document and a minute on a busy machine, so it
// runs in its own CI stage (make test-docs sets FEDDI_TEST_DOCS);
// TestDocsFollowTheConvention holds every example annotated in make test.
func TestDocs(t *testing.T) {
	if os.Getenv("FEDDI_TEST_DOCS") == "" {
		t.Skip("the docs' examples run with make test-docs (FEDDI_TEST_DOCS=1)")
	}
	requireTools(t, "bash", "curl", "jq")
	for _, path := range readingOrder {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".md"), func(t *testing.T) {
			doc := readDoc(t, path)
			env := map[string]string{}
			if len(doc.Problems) == 0 && (len(doc.Requests()) > 0 || len(doc.Provided()) > 0) {
				srv := startDocServer(t)
				for _, name := range doc.Provided() {
					if give, ok := provided[name]; ok {
						env[name] = give(srv)
					}
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			rep, err := docstest.Run(ctx, doc, t.TempDir(), env)
			require.NoError(t, err)
			for _, f := range rep.Failures {
				t.Error(f.String())
			}
			if t.Failed() || testing.Verbose() {
				t.Logf("what the examples printed:\n%s", rep.Output)
			}
			t.Logf("%d requests checked", len(rep.Outcomes))
		})
	}
}

// TestDocsFollowTheConvention reads every document without running it:
// every curl has its expectation, every skip its reason, and every
// variable a document asks for is one the runner provides.
func TestDocsFollowTheConvention(t *testing.T) {
	t.Parallel()
	for _, path := range readingOrder {
		doc := readDoc(t, path)
		for _, p := range doc.Problems {
			t.Errorf("%s:%d: %s", path, p.Line, p.Message)
		}
		for _, name := range doc.Provided() {
			if _, ok := provided[name]; !ok {
				t.Errorf("%s: the runner provides no %s (internal/docstest/docs_test.go, provided)", path, name)
			}
		}
	}
}

// TestEveryDocumentIsInTheReadingOrder keeps a new guide from escaping the
// runner.
func TestEveryDocumentIsInTheReadingOrder(t *testing.T) {
	t.Parallel()
	found, err := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	require.NoError(t, err)
	for _, f := range found {
		rel := "docs/" + filepath.Base(f)
		require.True(t, slices.Contains(readingOrder, rel), "%s is not in readingOrder (internal/docstest/docs_test.go): add it where a newcomer would read it", rel)
	}
}
