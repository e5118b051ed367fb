// Package docstest runs the shell examples of the README and the guides
// against a real server, in order, and checks what each request answered
// against what the document says beside it.
//
// The convention, which a reader barely notices:
//
//   - Every ```sh, ```bash, ```shell or ```console block runs, in document
//     order, in one bash process per document (`set -euo pipefail`), so
//     variables carry from one block to the next as they would in a reader's
//     shell.
//   - Every command that calls curl is followed by a comment line stating
//     what it answers: `# → 201`, or for an error `# → 402 insufficient_funds`
//     (the HTTP status and error.code). Free text may follow:
//     `# → 200, the wallet now holds 2500`.
//   - A block that is not meant to run says why, in an HTML comment right
//     before it: `<!-- docs-runner: skip starts the server itself -->`.
//   - A block whose lines set variables the reader fills in from elsewhere
//     (the key `make run` printed) names them:
//     `<!-- docs-runner: provided FEDDI KEY -->`; the runner sets them and
//     leaves those lines out.
//
// A curl without an expectation, an expectation without a curl, and a
// directive the runner does not know all fail the run, so nobody can add an
// example that is not tested.
package docstest

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Document is a Markdown file read for its shell examples.
type Document struct {
	Path   string
	Lines  []string // the file's lines; Lines[0] is line 1
	Blocks []Block
	// Problems are the convention's violations found by reading alone
	// (an unannotated curl, an unknown directive); a document with any
	// does not run.
	Problems []Problem
}

// Block is one fenced shell example.
type Block struct {
	Start, End int    // lines of the opening and closing fence
	Skip       string // the reason, when the block is not run
	Provided   []string
	Requests   []Request
}

// Request is an annotated command that calls curl.
type Request struct {
	Line       int // where the command starts
	Annotation int // the line of its `# →` comment
	Status     int
	Code       string // error.code, for an error status
}

// Problem is a failure found at a line of a document.
type Problem struct {
	Line    int
	Message string
}

var (
	fence      = regexp.MustCompile("^(```+|~~~+)\\s*([A-Za-z0-9_-]*)")
	directive  = regexp.MustCompile(`^\s*<!--\s*docs-runner:\s*(.*?)\s*-->\s*$`)
	annotation = regexp.MustCompile(`^\s*#\s*→\s*(.*)$`)
	expectRe   = regexp.MustCompile(`^([1-5][0-9]{2})(?:\s+([a-z][a-z0-9_]*))?(?:$|[\s,.;:—-])`)
	callsCurl  = regexp.MustCompile(`(^|[\s(|;&])curl\s`)
	varName    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

var shellLanguages = map[string]bool{"sh": true, "bash": true, "shell": true, "console": true}

// Parse reads a document's shell blocks, their directives and expectations.
func Parse(path, text string) *Document {
	d := &Document{Path: path, Lines: strings.Split(strings.TrimSuffix(text, "\n"), "\n")}
	var pending *Block // the directive waiting for its block
	pendingLine := 0
	for i := 0; i < len(d.Lines); i++ {
		line := d.Lines[i]
		if m := directive.FindStringSubmatch(line); m != nil {
			if pending != nil {
				d.problem(pendingLine, "docs-runner directive without a shell block after it")
			}
			pending, pendingLine = d.readDirective(i+1, m[1]), i+1
			continue
		}
		m := fence.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		end := closingFence(d.Lines, i, m[1])
		if !shellLanguages[m[2]] {
			if pending != nil {
				d.problem(pendingLine, fmt.Sprintf("docs-runner directive before a %q block, not a shell block", m[2]))
				pending = nil
			}
			i = end
			continue
		}
		b := Block{Start: i + 1, End: end + 1}
		if pending != nil {
			b.Skip, b.Provided = pending.Skip, pending.Provided
			pending = nil
		}
		if end == len(d.Lines) {
			d.problem(b.Start, "shell block without a closing fence")
		}
		if b.Skip == "" {
			d.readRequests(&b)
			d.checkProvided(&b)
		}
		d.Blocks = append(d.Blocks, b)
		i = end
	}
	if pending != nil {
		d.problem(pendingLine, "docs-runner directive without a shell block after it")
	}
	return d
}

func closingFence(lines []string, open int, marker string) int {
	for j := open + 1; j < len(lines); j++ {
		if strings.HasPrefix(strings.TrimSpace(lines[j]), marker) && strings.Trim(strings.TrimSpace(lines[j]), marker[:1]) == "" {
			return j
		}
	}
	return len(lines)
}

func (d *Document) problem(line int, msg string) {
	d.Problems = append(d.Problems, Problem{Line: line, Message: msg})
}

// readDirective understands `skip REASON` and `provided NAME…`.
func (d *Document) readDirective(line int, text string) *Block {
	verb, rest, _ := strings.Cut(text, " ")
	rest = strings.TrimSpace(rest)
	switch verb {
	case "skip":
		if rest == "" {
			d.problem(line, "docs-runner: skip needs a reason (`<!-- docs-runner: skip why -->`)")
			rest = "(no reason given)"
		}
		return &Block{Skip: rest}
	case "provided":
		names := strings.Fields(rest)
		if len(names) == 0 {
			d.problem(line, "docs-runner: provided needs the names of the variables the runner sets")
		}
		for _, n := range names {
			if !varName.MatchString(n) {
				d.problem(line, fmt.Sprintf("docs-runner: provided: %q is not a variable name", n))
			}
		}
		return &Block{Provided: names}
	}
	d.problem(line, fmt.Sprintf("unknown docs-runner directive %q (want skip REASON or provided NAME…)", text))
	return &Block{}
}

// readRequests pairs every curl with the expectation that follows it.
func (d *Document) readRequests(b *Block) {
	open := 0 // the line of a curl waiting for its expectation
	for n := b.Start + 1; n < b.End; n++ {
		line := d.Lines[n-1]
		if m := annotation.FindStringSubmatch(line); m != nil {
			e := expectRe.FindStringSubmatch(m[1])
			switch {
			case e == nil:
				d.problem(n, "an expectation reads `# → STATUS` or `# → STATUS error_code`, then free text")
			case open == 0:
				d.problem(n, "expectation without a curl command before it")
			default:
				status, _ := strconv.Atoi(e[1])
				r := Request{Line: open, Annotation: n, Status: status}
				if status >= 400 {
					r.Code = e[2]
					if r.Code == "" {
						d.problem(n, fmt.Sprintf("an error expectation names the error.code: `# → %d some_code`", status))
					}
				}
				b.Requests = append(b.Requests, r)
				open = 0
			}
			continue
		}
		if strings.HasPrefix(strings.TrimSpace(line), "#") || !callsCurl.MatchString(line) {
			continue
		}
		if open != 0 {
			d.problem(open, "curl command without an expectation (`# → STATUS [error_code]` on the line after it)")
		}
		open = n
	}
	if open != 0 {
		d.problem(open, "curl command without an expectation (`# → STATUS [error_code]` on the line after it)")
	}
}

// checkProvided holds a `provided` directive true: each name is assigned in
// the block.
func (d *Document) checkProvided(b *Block) {
	for _, name := range b.Provided {
		if d.providedLine(b, name) == 0 {
			d.problem(b.Start, fmt.Sprintf("docs-runner: provided %s, but the block does not set %s", name, name))
		}
	}
}

// providedLine is the line of b that assigns name, or 0.
func (d *Document) providedLine(b *Block, name string) int {
	for n := b.Start + 1; n < b.End; n++ {
		s := strings.TrimPrefix(strings.TrimSpace(d.Lines[n-1]), "export ")
		if strings.HasPrefix(s, name+"=") {
			return n
		}
	}
	return 0
}

// Requests lists every annotated request of the runnable blocks, in order.
func (d *Document) Requests() []Request {
	var out []Request
	for _, b := range d.Blocks {
		out = append(out, b.Requests...)
	}
	return out
}

// Provided lists the variables the runner must set, in order, once each.
func (d *Document) Provided() []string {
	seen := map[string]bool{}
	var out []string
	for _, b := range d.Blocks {
		if b.Skip != "" {
			continue
		}
		for _, n := range b.Provided {
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	return out
}

// Command is the text of the command a request runs, for reports.
func (d *Document) Command(r Request) string {
	return strings.Join(d.Lines[r.Line-1:r.Annotation-1], "\n")
}
