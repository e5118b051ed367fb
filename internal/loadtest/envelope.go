package loadtest

import (
	"encoding/json"
	"fmt"
	"mime"
)

// Outcome is what one HTTP call answered, read from the response envelope.
type Outcome struct {
	Status int
	// Code is error.code of a failed call, "" on success.
	Code string
	// Reason is error.details.reason when the error carries one
	// (credential_invalid says why the credential is unusable).
	Reason string
	// Data is the envelope's data of a successful call.
	Data json.RawMessage
	// Broken says why the answer breaks the contract: a transport failure,
	// a body that is not a JSON envelope, or a 5xx. Any of these fails the
	// run, whatever the scenario.
	Broken string
}

// OK says the call succeeded.
func (o Outcome) OK() bool { return o.Broken == "" && o.Code == "" }

// ErrorKey names a failure in the report: the code, with the reason when
// there is one, so that "credential_invalid/used" and
// "credential_invalid/unknown" are told apart.
func (o Outcome) ErrorKey() string {
	switch {
	case o.Broken != "":
		return "broken"
	case o.Reason != "":
		return o.Code + "/" + o.Reason
	}
	return o.Code
}

// Superseded says the call failed on a QR that a newer mint for the same
// wallet retired: by design when mints collide, so the report counts these
// apart from errors. Today's server answers reason expired for them; the
// reason superseded is on its way.
func (o Outcome) Superseded() bool {
	return o.Code == "credential_invalid" && (o.Reason == "superseded" || o.Reason == "expired")
}

type envelope struct {
	OK    *bool           `json:"ok"`
	Data  json.RawMessage `json:"data"`
	Error *struct {
		Code    string         `json:"code"`
		Details map[string]any `json:"details"`
	} `json:"error"`
}

// ParseEnvelope turns a status, content type and body into an Outcome.
func ParseEnvelope(status int, contentType string, body []byte) Outcome {
	out := Outcome{Status: status}
	if mt, _, err := mime.ParseMediaType(contentType); err != nil || mt != "application/json" {
		out.Broken = fmt.Sprintf("status %d with content type %q, not a JSON envelope", status, contentType)
		return out
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil || env.OK == nil {
		out.Broken = fmt.Sprintf("status %d: not a JSON envelope: %.120s", status, body)
		return out
	}
	switch {
	case *env.OK && status < 300:
		out.Data = env.Data
	case !*env.OK && status >= 400 && env.Error != nil && env.Error.Code != "":
		out.Code = env.Error.Code
		if r, ok := env.Error.Details["reason"].(string); ok {
			out.Reason = r
		}
	default:
		out.Broken = fmt.Sprintf("status %d disagrees with its envelope: %.120s", status, body)
		return out
	}
	if status >= 500 {
		out.Broken = fmt.Sprintf("unexpected %d %s", status, out.Code)
	}
	return out
}
