package docstest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// prelude runs before a document's first line. curl keeps its usual output
// (so pipes into jq and head work as a reader sees them) and also leaves
// the status and body of its last call where __docs_check finds them;
// __docs_check stands where each `# →` comment was and records the request
// the comment describes.
const prelude = `set -euo pipefail
__docs_dir="$DOCS_RUN_DIR"
: >"$__docs_dir/calls"
curl() {
	local body status
	body="$(mktemp "$__docs_dir/body.XXXXXX")"
	status="$(command curl --max-time 30 -sS -o "$body" -w '%{http_code}' "$@")" || {
		local rc=$?
		printf 'curl\t%s\t%s\t\n' "${BASH_LINENO[0]}" "$rc" >>"$__docs_dir/results"
		return "$rc"
	}
	printf '%s\n' "$status" >>"$__docs_dir/calls"
	cp "$body" "$__docs_dir/last.body"
	cat "$body" || true
}
__docs_check() {
	local n=0 status=""
	if [[ -s $__docs_dir/calls ]]; then
		n="$(wc -l <"$__docs_dir/calls")"
		status="$(tail -n 1 "$__docs_dir/calls")"
	fi
	: >"$__docs_dir/calls"
	if [[ -f $__docs_dir/last.body ]]; then mv "$__docs_dir/last.body" "$__docs_dir/check-$1.body"; fi
	printf 'check\t%s\t%s\t%s\n' "$1" "$n" "$status" >>"$__docs_dir/results"
}
trap 'printf "error\t%s\t%s\t%s\n" "$LINENO" "$?" "$BASH_COMMAND" >>"$__docs_dir/results"' ERR
`

// Script is the bash program that runs a document: its line N is line N of
// the document (prose and skipped blocks blank), so bash's own messages
// ("line 42: WALLET: unbound variable") point into the document.
func (d *Document) Script() string {
	out := make([]string, len(d.Lines))
	for _, b := range d.Blocks {
		if b.Skip != "" {
			continue
		}
		for n := b.Start + 1; n < b.End; n++ {
			out[n-1] = d.Lines[n-1]
		}
		for _, name := range b.Provided {
			if n := d.providedLine(&b, name); n != 0 {
				out[n-1] = ": # " + name + " is provided by the runner"
			}
		}
		for _, r := range b.Requests {
			out[r.Annotation-1] = fmt.Sprintf("__docs_check %d", r.Annotation)
		}
	}
	out[0] = `source "$DOCS_RUN_DIR/prelude.sh"` // line 1 is never inside a block: a block opens with a fence
	return strings.Join(out, "\n") + "\n"
}

// Outcome is what one request answered.
type Outcome struct {
	Request
	Ran    bool   // the script reached it
	Calls  int    // curl calls the command made
	Got    int    // HTTP status of the last one
	GotErr string // its error.code, if any
	Body   []byte
}

// Failure is a request that answered other than its document says, or a
// run that stopped.
type Failure struct {
	Doc     string
	Line    int
	Message string
	Command string
	Body    string
}

func (f Failure) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d: %s", f.Doc, f.Line, f.Message)
	if f.Command != "" {
		fmt.Fprintf(&b, "\n    command:\n        %s", strings.ReplaceAll(f.Command, "\n", "\n        "))
	}
	if f.Body != "" {
		fmt.Fprintf(&b, "\n    body received:\n        %s", f.Body)
	}
	return b.String()
}

// Report is the result of running one document.
type Report struct {
	Outcomes []Outcome
	Failures []Failure
	Output   string // what the examples printed (stdout and stderr)
}

// Run runs the document's examples in one bash process with env (the
// variables the document's `provided` directives name, and anything else
// its examples need) and reports each request that answered otherwise
// than its expectation, each convention problem and a run that stopped.
// A document with problems found by reading does not run.
func Run(ctx context.Context, d *Document, workDir string, env map[string]string) (*Report, error) {
	rep := &Report{}
	for _, p := range d.Problems {
		rep.Failures = append(rep.Failures, Failure{Doc: d.Path, Line: p.Line, Message: p.Message})
	}
	if len(rep.Failures) > 0 {
		return rep, nil
	}
	for _, name := range d.Provided() {
		if _, ok := env[name]; !ok {
			rep.Failures = append(rep.Failures, Failure{Doc: d.Path, Line: 1, Message: fmt.Sprintf("the runner provides no %s", name)})
		}
	}
	if len(rep.Failures) > 0 || len(d.runnable()) == 0 {
		return rep, nil
	}
	dir, err := os.MkdirTemp(workDir, "docs-*")
	if err != nil {
		return nil, err
	}
	script := filepath.Join(dir, filepath.Base(d.Path)+".sh")
	if err := os.WriteFile(filepath.Join(dir, "prelude.sh"), []byte(prelude), 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(script, []byte(d.Script()), 0o600); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, "bash", script)
	cmd.Dir = dir
	cmd.WaitDelay = 10 * time.Second // a curl left behind by a cancelled run must not hold the output open
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "TMPDIR=" + dir, "LC_ALL=C.UTF-8", "DOCS_RUN_DIR=" + dir}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	runErr := cmd.Run()
	rep.Output = out.String()
	var exit *exec.ExitError
	if runErr != nil && !errors.As(runErr, &exit) {
		return nil, fmt.Errorf("running %s: %w", d.Path, runErr)
	}
	stoppedAt, err := rep.read(d, dir)
	if err != nil {
		return nil, err
	}
	if runErr != nil {
		if stoppedAt.Line == 0 {
			stoppedAt = Failure{Doc: d.Path, Line: 1, Message: fmt.Sprintf("the example stopped: bash exited with %v", runErr)}
			if m := bashLine.FindStringSubmatch(rep.Output); m != nil {
				stoppedAt.Line, _ = strconv.Atoi(m[1])
			}
		}
		stoppedAt.Body = lastLines(rep.Output, 6)
		rep.Failures = append(rep.Failures, stoppedAt)
	}
	return rep, nil
}

func (d *Document) runnable() []Block {
	var out []Block
	for _, b := range d.Blocks {
		if b.Skip == "" {
			out = append(out, b)
		}
	}
	return out
}

// read turns the results file into outcomes and failures; it returns the
// command the script stopped at, if it stopped at one.
func (rep *Report) read(d *Document, dir string) (Failure, error) {
	got := map[int]Outcome{}
	var stopped Failure
	f, err := os.Open(filepath.Join(dir, "results"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return stopped, err
	}
	if f != nil {
		defer func() { _ = f.Close() }()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.SplitN(sc.Text(), "\t", 4)
			line, _ := strconv.Atoi(fields[1])
			switch {
			case fields[0] == "check" && len(fields) == 4:
				o := Outcome{Ran: true}
				o.Calls, _ = strconv.Atoi(fields[2])
				o.Got, _ = strconv.Atoi(fields[3])
				o.Body, _ = os.ReadFile(filepath.Join(dir, fmt.Sprintf("check-%d.body", line)))
				o.GotErr = errorCode(o.Body)
				got[line] = o
			case fields[0] == "curl" && len(fields) == 4 && stopped.Line == 0:
				stopped = Failure{Doc: d.Path, Line: line, Message: fmt.Sprintf("curl got no answer (exit status %s; its message is below)", fields[2])}
			case fields[0] == "error" && len(fields) == 4 && stopped.Line == 0:
				stopped = Failure{Doc: d.Path, Line: line, Message: fmt.Sprintf("the example stopped (exit status %s) at: %s", fields[2], fields[3])}
			}
		}
		if err := sc.Err(); err != nil {
			return stopped, err
		}
	}
	for _, r := range d.Requests() {
		o := got[r.Annotation]
		o.Request = r
		rep.Outcomes = append(rep.Outcomes, o)
		if msg := o.mismatch(); msg != "" {
			rep.Failures = append(rep.Failures, Failure{Doc: d.Path, Line: r.Line, Message: msg, Command: d.Command(r), Body: strings.TrimSpace(string(o.Body))})
		}
	}
	return stopped, nil
}

// mismatch says how an outcome differs from its expectation, or "".
func (o Outcome) mismatch() string {
	want := strconv.Itoa(o.Status)
	if o.Code != "" {
		want += " " + o.Code
	}
	switch {
	case !o.Ran:
		return fmt.Sprintf("expected %s, but the example stopped before this request", want)
	case o.Calls != 1:
		return fmt.Sprintf("expected %s from one request, but the command made %d", want, o.Calls)
	case o.Got == 0:
		return fmt.Sprintf("expected %s, but curl got no answer", want)
	}
	got := strconv.Itoa(o.Got)
	if o.GotErr != "" {
		got += " " + o.GotErr
	}
	if o.Got != o.Status || o.GotErr != o.Code {
		return fmt.Sprintf("expected %s, got %s", want, got)
	}
	return ""
}

// errorCode reads error.code from an envelope; a body printed with curl -i
// starts with the status line and headers.
func errorCode(body []byte) string {
	if bytes.HasPrefix(body, []byte("HTTP/")) {
		if i := bytes.Index(body, []byte("\r\n\r\n")); i >= 0 {
			body = body[i+4:]
		}
	}
	var env struct {
		Error *struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &env) != nil || env.Error == nil {
		return ""
	}
	return env.Error.Code
}

// bashLine finds the line of bash's own complaint ("x.md.sh: line 12:
// WALLET: unbound variable"): the script's lines are the document's.
var bashLine = regexp.MustCompile(`\.md\.sh: line ([0-9]+): `)

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n        ")
}
