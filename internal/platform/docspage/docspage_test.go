package docspage

import (
	"crypto/sha256"
	"encoding/base64"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// scripts returns the bodies of the page's <script> elements, as the HTML
// parser would end them: at the first "</script".
func scripts(t *testing.T, page string) []string {
	t.Helper()
	var out []string
	for {
		start := strings.Index(page, "<script")
		if start < 0 {
			return out
		}
		page = page[start:]
		page = page[strings.Index(page, ">")+1:]
		end := strings.Index(strings.ToLower(page), "</script")
		require.GreaterOrEqual(t, end, 0, "unterminated script")
		out = append(out, page[:end])
		page = page[end:]
	}
}

func TestBuild(t *testing.T) {
	t.Parallel()
	bundle := []byte(`var Redoc={init:function(){}};var s="</script><!--<script>",r=/<\/SCRIPT>/;`)
	doc := []byte(`{"info":{"title":"</script><script>alert(1)</script>"}}`)
	p := Build(bundle, doc, `A <b>"title"`)
	page := string(p.HTML)

	t.Run("EndsEachScriptWhereItShould", func(t *testing.T) {
		got := scripts(t, page)
		require.Len(t, got, 3, page)
		require.NotContains(t, got[0], "<")
		require.Equal(t, `var Redoc={init:function(){}};var s="\x3C/script>\x3C!--<script>",r=/<\/SCRIPT>/;`, got[1])
		require.Equal(t, startRedoc, got[2])
	})

	t.Run("AllowsExactlyItsTwoScriptsByHash", func(t *testing.T) {
		got := scripts(t, page)
		hashes := regexp.MustCompile(`'sha256-([^']+)'`).FindAllStringSubmatch(p.CSP, -1)
		require.Len(t, hashes, 2, p.CSP)
		for i, script := range got[1:] {
			sum := sha256.Sum256([]byte(script))
			require.Equal(t, base64.StdEncoding.EncodeToString(sum[:]), hashes[i][1])
		}
		require.Contains(t, p.CSP, "default-src 'none'")
		require.Contains(t, p.CSP, "connect-src 'none'")
		require.NotContains(t, p.CSP, "unsafe-eval")
		require.NotRegexp(t, `script-src[^;]*unsafe-inline`, p.CSP)
	})

	t.Run("EscapesTheTitle", func(t *testing.T) {
		require.Contains(t, page, "<title>A &lt;b&gt;&#34;title&#34;</title>")
	})
}

func TestInlineScriptEscapesOnlyWhatEndsOrHidesTheElement(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`a</script>b`:   `a\x3C/script>b`,
		`a</ScRiPt b`:   `a\x3C/ScRiPt b`,
		`x="<!--"`:      `x="\x3C!--"`,
		`1<2&&"<s>"`:    `1<2&&"<s>"`,
		`"</scrip"`:     `"</scrip"`,
		`"</ſcript>"`:   `"</ſcript>"`,
		`"<script>"`:    `"<script>"`,
		"</script\n":    `\x3C/script` + "\n",
		"<":             "<",
		"":              "",
		`"<</script"`:   `"<\x3C/script"`,
		`"<!-<!--<!--"`: `"<!-\x3C!--\x3C!--"`,
	} {
		require.Equal(t, want, string(inlineScript([]byte(in))), in)
	}
}

func TestBuildLoadsNothingFromRedoclysCDN(t *testing.T) {
	t.Parallel()
	p := Build([]byte(`src:"https://cdn.redoc.ly/redoc/logo-mini.svg"}`), []byte(`{}`), "t")
	require.NotContains(t, string(p.HTML), "cdn.redoc.ly")
	require.Contains(t, string(p.HTML), `src:"data:,"}`)
}
