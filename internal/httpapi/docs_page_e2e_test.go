package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/gen/docsui"
	"github.com/feddi/partner-api/internal/app/apptest"
	"github.com/feddi/partner-api/internal/platform/docspage"
	"github.com/feddi/partner-api/internal/platform/spec"
	"github.com/feddi/partner-api/openapi"
)

// chromiumEnv names the Chromium binary the page tests drive; unset, they
// are skipped (make test-docs-ui sets it, installing Chromium when missing).
const chromiumEnv = "FEDDI_CHROMIUM"

// renderedPage is what a browser made of a reference page.
type renderedPage struct {
	// Text is the visible text of the page (document.body.innerText).
	Text string
	// IDs are the id attributes of the page's elements; Redoc gives each
	// operation's section the id "tag/<tag>/operation/<operationId>".
	IDs []string
	// Requests are the URLs of every request the page made, itself first.
	Requests []string
	// Errors are the console errors and uncaught exceptions, a refusal by
	// the Content-Security-Policy among them.
	Errors []string
}

// docsPageProblems lists what is wrong with a rendered reference page of the
// operations ops, served from origin: an operation whose section (its
// operationId) or summary is missing, a request to anywhere but origin, an
// error in the console. Empty means the page is right.
func docsPageProblems(ops []*spec.Operation, origin string, p renderedPage) []string {
	var problems []string
	summaries := map[string]string{}
	for _, op := range ops {
		summary := op.Op.Summary
		if summary == "" {
			problems = append(problems, op.ID+": the document gives it no summary to look for")
			continue
		}
		if other, ok := summaries[summary]; ok {
			problems = append(problems, fmt.Sprintf("%s and %s share the summary %q: the page cannot show them apart", other, op.ID, summary))
		}
		summaries[summary] = op.ID
		if !slices.ContainsFunc(p.IDs, func(id string) bool { return strings.HasSuffix("/"+id, "/operation/"+op.ID) }) {
			problems = append(problems, fmt.Sprintf("%s (%s %s): no section on the page", op.ID, op.Method, op.Path))
		}
		if !strings.Contains(p.Text, summary) {
			problems = append(problems, fmt.Sprintf("%s (%s %s): its summary %q is not on the page", op.ID, op.Method, op.Path, summary))
		}
	}
	for _, raw := range p.Requests {
		if !sameOrigin(origin, raw) {
			problems = append(problems, "the page requested "+raw+", outside "+origin)
		}
	}
	for _, e := range p.Errors {
		problems = append(problems, "console error: "+e)
	}
	return problems
}

// sameOrigin says whether the URL raw stays at origin: data: URLs carry
// their content and fetch nothing; a blob: URL names its creator's origin.
func sameOrigin(origin, raw string) bool {
	if strings.HasPrefix(raw, "data:") {
		return true
	}
	raw = strings.TrimPrefix(raw, "blob:")
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	return u.Scheme+"://"+u.Host == origin
}

func TestDocsPageProblems(t *testing.T) {
	t.Parallel()
	doc, err := spec.Load(openapi.Document)
	require.NoError(t, err)
	ops := doc.OperationsInDocumentOrder()
	const origin = "http://127.0.0.1:8080"
	complete := func() renderedPage {
		p := renderedPage{Requests: []string{origin + "/docs", "blob:" + origin + "/5f0c", "data:image/png;base64,AA=="}}
		for _, op := range ops {
			p.Text += op.Op.Summary + "\n"
			p.IDs = append(p.IDs, "tag/"+op.Op.Tags[0]+"/operation/"+op.ID)
		}
		return p
	}

	t.Run("AcceptsAPageWithEveryOperation", func(t *testing.T) {
		require.Empty(t, docsPageProblems(ops, origin, complete()))
	})

	// The planted defect: the page lacks one operation of the document.
	t.Run("FindsAnOperationMissingFromThePage", func(t *testing.T) {
		p := complete()
		missing := ops[len(ops)/2]
		p.Text = strings.ReplaceAll(p.Text, missing.Op.Summary+"\n", "")
		p.IDs = slices.DeleteFunc(p.IDs, func(id string) bool { return strings.HasSuffix(id, "/"+missing.ID) })
		problems := docsPageProblems(ops, origin, p)
		require.Len(t, problems, 2, "%q", problems)
		for _, pr := range problems {
			require.True(t, strings.HasPrefix(pr, missing.ID+" "), pr)
		}
	})

	t.Run("FindsARequestToAnotherOrigin", func(t *testing.T) {
		p := complete()
		p.Requests = append(p.Requests, "https://fonts.example.com/inter.woff2", "http://127.0.0.1:9999/docs", "blob:https://example.com/x")
		require.Len(t, docsPageProblems(ops, origin, p), 3)
	})

	t.Run("FindsConsoleErrors", func(t *testing.T) {
		p := complete()
		p.Errors = []string{"Refused to load the script"}
		require.Equal(t, []string{"console error: Refused to load the script"}, docsPageProblems(ops, origin, p))
	})
}

// chromium returns the binary the page tests drive, or skips the test.
func chromium(t *testing.T) string {
	t.Helper()
	path := os.Getenv(chromiumEnv)
	if path == "" {
		t.Skip("needs headless Chromium: run `make test-docs-ui` (it installs Debian's chromium when missing), " +
			"or set " + chromiumEnv + " to a Chromium binary")
	}
	return path
}

// browse opens url in a fresh headless Chromium, waits until Redoc has
// rendered the reference and returns what the page shows and did, with a
// full-page screenshot (PNG).
func browse(t *testing.T, chromiumPath, pageURL string) (renderedPage, []byte) {
	t.Helper()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox, // as root, Chromium's sandbox refuses to start
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 1000),
	)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(cancel)

	var (
		mu   sync.Mutex
		page renderedPage
	)
	require.NoError(t, chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			page.Requests = append(page.Requests, ev.Request.URL)
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError {
				page.Errors = append(page.Errors, ev.Entry.Text)
			}
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				page.Errors = append(page.Errors, "console."+string(ev.Type)+" "+consoleArgs(ev.Args))
			}
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			page.Errors = append(page.Errors, "exception: "+msg)
		}
	}))

	// No timing is asserted: the deadline only stops a page that never
	// renders from hanging the run.
	deadline, cancelDeadline := context.WithTimeout(ctx, 10*time.Minute)
	defer cancelDeadline()
	require.NoError(t, chromedp.Do(deadline, chromedp.Navigate(pageURL)))
	waitRendered(t, deadline)

	text, err := chromedp.Run(deadline, chromedp.Evaluate[string](`document.body.innerText`))
	require.NoError(t, err)
	ids, err := chromedp.Run(deadline, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("[id]"), e => e.id)`))
	require.NoError(t, err)
	shot, err := chromedp.Run(deadline, chromedp.FullScreenshot(100))
	require.NoError(t, err)

	mu.Lock()
	defer mu.Unlock()
	page.Text, page.IDs = text, ids
	page.Requests = slices.Clone(page.Requests)
	page.Errors = slices.Clone(page.Errors)
	return page, shot
}

// waitRendered waits until Redoc has reported the document loaded (the
// page's start script marks <html data-redoc>) and its sections are in the
// DOM, which React commits in one go. Evaluated from DevTools, these
// checks are not subject to the page's Content-Security-Policy (chromedp's
// Poll is: it builds its predicate with new Function).
func waitRendered(t *testing.T, ctx context.Context) {
	t.Helper()
	const state = `document.documentElement.dataset.redoc === "loaded" && document.querySelector('[id*="operation/"]') !== null ? "rendered" : (document.documentElement.dataset.redoc || "")`
	for {
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](state))
		require.NoError(t, err, "waiting for the reference to render")
		switch {
		case got == "rendered":
			return
		case strings.HasPrefix(got, "failed"):
			t.Fatalf("Redoc could not render the document: %s", got)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the reference never rendered: %v", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func consoleArgs(args []*runtime.RemoteObject) string {
	parts := make([]string, 0, len(args))
	for _, a := range args {
		if len(a.Value) > 0 {
			parts = append(parts, string(a.Value))
		} else {
			parts = append(parts, a.Description)
		}
	}
	return strings.Join(parts, " ")
}

// TestDocsPageInChromium opens GET /docs of a real server in headless
// Chromium: every operation of the document is on the rendered page and the
// page fetched nothing from another origin. A screenshot is left in
// .data/docs.png for people to look at.
func TestDocsPageInChromium(t *testing.T) {
	t.Parallel()
	path := chromium(t)
	s := apptest.Start(t)
	ops := s.App.Spec.OperationsInDocumentOrder()

	t.Run("ShowsEveryOperationAndFetchesNothingElsewhere", func(t *testing.T) {
		page, shot := browse(t, path, s.URL+"/docs")
		require.Empty(t, docsPageProblems(ops, s.URL, page))
		require.Equal(t, s.URL+"/docs", page.Requests[0])
		out := filepath.Join("..", "..", ".data", "docs.png")
		require.NoError(t, os.MkdirAll(filepath.Dir(out), 0o755))
		require.NoError(t, os.WriteFile(out, shot, 0o644))
		t.Logf("%d operations on the page, %d requests; screenshot in .data/docs.png (%d bytes)", len(ops), len(page.Requests), len(shot))
	})

	// The planted defects run on the platform operations alone: Redoc
	// renders those in seconds, the whole document in minutes on a busy
	// machine.
	small, smallOps := platformOnly(t, s.App.Spec)

	// The planted defect: a page rendered from the document without one of
	// its operations. The checker must name exactly that operation.
	t.Run("FindsTheOperationAPageLeavesOut", func(t *testing.T) {
		missing := smallOps[len(smallOps)/2]
		item := small["paths"].(map[string]any)[missing.Path].(map[string]any)
		kept := item[strings.ToLower(missing.Method)]
		delete(item, strings.ToLower(missing.Method))
		trimmed, err := json.Marshal(small)
		item[strings.ToLower(missing.Method)] = kept
		require.NoError(t, err)
		p := docspage.Build(docsui.RedocStandalone, trimmed, "trimmed reference")
		url := serve(t, p.HTML, p.CSP)

		page, _ := browse(t, path, url)
		problems := docsPageProblems(smallOps, url, page)
		require.Len(t, problems, 2, "%q", problems)
		for _, pr := range problems {
			require.True(t, strings.HasPrefix(pr, missing.ID+" "), pr)
		}
	})

	// The planted defect: a page that fetches from another origin (the
	// same server under another host name) and has no policy to stop it.
	t.Run("FindsARequestToAnotherOrigin", func(t *testing.T) {
		whole, err := json.Marshal(small)
		require.NoError(t, err)
		p := docspage.Build(docsui.RedocStandalone, whole, "leaky reference")
		elsewhere := strings.Replace(s.URL, "127.0.0.1", "localhost", 1) + "/health"
		end := bytes.LastIndex(p.HTML, []byte("</body>")) // the bundle's strings hold "</body>" too
		leaky := slices.Concat(p.HTML[:end], []byte(`<img alt="" src="`+elsewhere+`">`), p.HTML[end:])
		url := serve(t, leaky, "")

		page, _ := browse(t, path, url)
		require.Contains(t, docsPageProblems(smallOps, url, page), "the page requested "+elsewhere+", outside "+url)
	})
}

// platformOnly returns the document (as JSON, decoded) with the paths of the
// platform operations alone, and those operations.
func platformOnly(t *testing.T, s *spec.Spec) (map[string]any, []*spec.Operation) {
	t.Helper()
	var doc map[string]any
	require.NoError(t, json.Unmarshal(s.JSON, &doc))
	paths := map[string]any{}
	var ops []*spec.Operation
	for _, op := range s.OperationsInDocumentOrder() {
		if slices.Contains(op.Op.Tags, "platform") {
			paths[op.Path] = doc["paths"].(map[string]any)[op.Path]
			ops = append(ops, op)
		}
	}
	require.NotEmpty(t, ops)
	doc["paths"] = paths
	return doc, ops
}

// serve answers every request with page, under the policy csp (none when
// empty), and returns the server's URL.
func serve(t *testing.T, page []byte, csp string) string {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if csp != "" {
			w.Header().Set("Content-Security-Policy", csp)
		}
		_, _ = w.Write(page)
	}))
	t.Cleanup(ts.Close)
	return ts.URL
}
