package botcadence

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Error is every failed call's error. Use errors.As to get it:
//
//	var apiErr *botcadence.Error
//	if errors.As(err, &apiErr) && apiErr.Code == "not_found" { ... }
//
// Status is the HTTP status of the answer, or 0 when there was no answer at all (the
// connection was refused or dropped, or the call timed out): then Timeout tells which, Err
// holds the cause, and errors.Is(err, ErrConnection) or errors.Is(err, ErrTimeout) hold.
type Error struct {
	// Status is the HTTP status, or 0 when no answer arrived.
	Status int
	// Code is the machine-readable code of the error envelope, e.g. "not_found",
	// "invalid_request", "rate_limited"; empty when the answer had no envelope.
	Code string
	// Message is the envelope's message (or a description of what failed).
	Message string
	// Details is the envelope's details, parsed (nil when absent or null). For a field error
	// it is a map with "field" and "issue"; FieldDetails returns it typed.
	Details interface{}
	// RequestID is the answer's X-Request-Id header.
	RequestID string
	// RetryAfter is the answer's Retry-After (429, 503); zero when it had none.
	RetryAfter time.Duration
	// Timeout is true when the call (or its last attempt) ran out of time.
	Timeout bool
	// Attempts is how many HTTP attempts the call made.
	Attempts int
	// Err is the cause of a failure without an answer (a network error, a context error).
	Err error
}

var (
	// ErrConnection matches (with errors.Is) every *Error that got no answer.
	ErrConnection = errors.New("botcadence: no answer")
	// ErrTimeout matches (with errors.Is) every *Error whose call timed out.
	ErrTimeout = errors.New("botcadence: timed out")
)

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("botcadence: ")
	if e.Status == 0 {
		if e.Timeout {
			b.WriteString("timed out")
		} else {
			b.WriteString("no answer")
		}
		if e.Message != "" {
			b.WriteString(": ")
			b.WriteString(e.Message)
		}
	} else {
		fmt.Fprintf(&b, "%d", e.Status)
		if e.Code != "" {
			b.WriteString(" ")
			b.WriteString(e.Code)
		}
		if e.Message != "" {
			b.WriteString(": ")
			b.WriteString(e.Message)
		}
		if e.RequestID != "" {
			fmt.Fprintf(&b, " (request %s)", e.RequestID)
		}
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " [after %d attempts]", e.Attempts)
	}
	return b.String()
}

// Unwrap returns the cause of a failure without an answer, so that errors.Is(err,
// context.Canceled) and errors.As(err, *net.OpError) work.
func (e *Error) Unwrap() error { return e.Err }

// Is lets errors.Is(err, ErrConnection) and errors.Is(err, ErrTimeout) tell "no answer"
// from "an answer that said no".
func (e *Error) Is(target error) bool {
	switch target {
	case ErrConnection:
		return e.Status == 0
	case ErrTimeout:
		return e.Status == 0 && e.Timeout
	}
	return false
}

// IsConnectionError reports whether the call got no answer (Status 0), timeouts included.
func (e *Error) IsConnectionError() bool { return e.Status == 0 }

// FieldDetails returns Details as an ErrorDetails when it names a field, else nil.
func (e *Error) FieldDetails() *ErrorDetails {
	m, ok := e.Details.(map[string]interface{})
	if !ok {
		return nil
	}
	field, _ := m["field"].(string)
	issue, _ := m["issue"].(string)
	if field == "" && issue == "" {
		return nil
	}
	return &ErrorDetails{Field: field, Issue: issue}
}

// errorFromAnswer builds the error of a non-2xx answer from its envelope, when it has one.
func errorFromAnswer(status int, requestID string, body []byte) *Error {
	e := &Error{Status: status, RequestID: requestID}
	var env struct {
		Error *struct {
			Code    string          `json:"code"`
			Message string          `json:"message"`
			Details json.RawMessage `json:"details"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &env) == nil && env.Error != nil {
		e.Code = env.Error.Code
		e.Message = env.Error.Message
		if len(env.Error.Details) > 0 {
			var d interface{}
			if json.Unmarshal(env.Error.Details, &d) == nil {
				e.Details = d
			}
		}
		return e
	}
	// Not the daemon's envelope (a proxy in between, say): keep what it said, briefly.
	text := strings.TrimSpace(string(body))
	if len(text) > 200 {
		text = text[:200] + "…"
	}
	e.Message = text
	return e
}
