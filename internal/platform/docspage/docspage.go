// Package docspage builds the page GET /docs serves: the document rendered
// by Redoc, as one self-contained HTML response. The renderer's bundle and
// the document are inlined, so the page loads nothing from anywhere, and its
// Content-Security-Policy lets the browser run only those inline scripts
// (by hash) and fetch nothing at all.
package docspage

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"html"
	"strings"
)

// Page is the built page and the policy to send with it.
type Page struct {
	HTML []byte
	// CSP is the Content-Security-Policy header value.
	CSP string
}

// startRedoc renders the document of the data block into #redoc and, when
// Redoc has loaded it, says so on <html data-redoc> ("loaded", or "failed: "
// and the error), which is what a test waits for. The download button is
// hidden: GET /openapi is the download.
const startRedoc = `Redoc.init(JSON.parse(document.getElementById("openapi-document").textContent),` +
	`{hideDownloadButton:true},document.getElementById("redoc"),` +
	`function(e){document.documentElement.dataset.redoc=e?"failed: "+e:"loaded"});`

// Build assembles the page from Redoc's standalone bundle and the document as
// JSON. title names the page.
func Build(bundle, documentJSON []byte, title string) Page {
	script := inlineScript(withoutRemoteLoads(bundle))
	var b bytes.Buffer
	b.Grow(len(script) + len(documentJSON) + 1024)
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
	b.WriteString("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
	// No favicon request: an empty data: icon.
	b.WriteString("<link rel=\"icon\" href=\"data:,\">\n")
	b.WriteString("<title>" + html.EscapeString(title) + "</title>\n")
	b.WriteString("<style>body{margin:0;padding:0}</style>\n</head>\n<body>\n<div id=\"redoc\"></div>\n")
	// A data block: the browser never runs it, so the policy needs no hash
	// for it; "<" is escaped so that no text inside can end the element.
	b.WriteString("<script type=\"application/json\" id=\"openapi-document\">")
	b.Write(bytes.ReplaceAll(documentJSON, []byte("<"), []byte(`\u003c`)))
	b.WriteString("</script>\n<script>")
	b.Write(script)
	b.WriteString("</script>\n<script>" + startRedoc + "</script>\n</body>\n</html>\n")
	return Page{HTML: b.Bytes(), CSP: policy(script, []byte(startRedoc))}
}

// remoteLoads are the resources Redoc's bundle would load from elsewhere,
// each with what the page uses instead. The side menu's "API docs by
// Redocly" footer shows Redocly's logo from their CDN; an empty data: image
// fails to decode, and Redoc then hides the image.
var remoteLoads = map[string]string{
	`"https://cdn.redoc.ly/redoc/logo-mini.svg"`: `"data:,"`,
}

func withoutRemoteLoads(bundle []byte) []byte {
	for from, to := range remoteLoads {
		bundle = bytes.ReplaceAll(bundle, []byte(from), []byte(to))
	}
	return bundle
}

// inlineScript makes JavaScript safe to place between <script> and
// </script>: the HTML parser ends the element at the first "</script" (in
// any case), and "<!--" followed by "<script" would hide that end. Both only
// occur inside the bundle's string, template and regular-expression
// literals, where "\x3C" means "<" too, so that is what their "<" becomes.
func inlineScript(js []byte) []byte {
	var out bytes.Buffer
	out.Grow(len(js) + 64)
	for i, c := range js {
		if c == '<' && (hasASCIIPrefixFold(js[i+1:], "/script") || bytes.HasPrefix(js[i+1:], []byte("!--"))) {
			out.WriteString(`\x3C`)
			continue
		}
		out.WriteByte(c)
	}
	return out.Bytes()
}

// hasASCIIPrefixFold is bytes.HasPrefix ignoring ASCII case, as the HTML
// parser compares tag names (no Unicode folding: "ſ" is not "s" there).
func hasASCIIPrefixFold(b []byte, lowerPrefix string) bool {
	if len(b) < len(lowerPrefix) {
		return false
	}
	for i := range len(lowerPrefix) {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lowerPrefix[i] {
			return false
		}
	}
	return true
}

// policy allows the page's two scripts by hash and its styles (Redoc writes
// its CSS into <style> elements at run time), data: images and fonts, and
// Redoc's search worker, which starts from a blob: URL. Nothing may be
// fetched, framed or submitted.
func policy(scripts ...[]byte) string {
	hashes := make([]string, 0, len(scripts))
	for _, s := range scripts {
		sum := sha256.Sum256(s)
		hashes = append(hashes, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
	}
	return strings.Join([]string{
		"default-src 'none'",
		"script-src " + strings.Join(hashes, " "),
		"style-src 'unsafe-inline'",
		"img-src data:",
		"font-src data:",
		"worker-src blob:",
		"connect-src 'none'",
		"base-uri 'none'",
		"form-action 'none'",
		"frame-ancestors 'none'",
	}, "; ")
}
