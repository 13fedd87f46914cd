package botcadence

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Action is one step of a workflow: a SendEmailAction, HTTPRequestAction, DelayAction,
// FilterAction or TransformAction (or a RawAction, for a type this package does not know).
//
//	Actions: []botcadence.Action{
//		botcadence.DelayAction{Config: botcadence.DelayConfig{Seconds: 5}},
//		botcadence.HTTPRequestAction{Config: botcadence.HTTPRequestConfig{
//			URL: "https://example.com/hook", Body: map[string]interface{}{"email": "{{user.email}}"}}},
//	}
type Action interface {
	// ActionType is the action's "type": send_email, http_request, delay, filter, transform.
	ActionType() string
}

// Actions is a workflow's list of actions; it decodes each by its "type".
type Actions []Action

// RetryPolicy says how often a failing step is tried, and the wait before the first retry
// (doubling after, with jitter).
type RetryPolicy struct {
	// MaxAttempts is 1–10; zero leaves the action's default.
	MaxAttempts int `json:"max_attempts,omitempty"`
	// Backoff is milliseconds (an int) or a duration string such as "500ms" or "2s"; nil
	// leaves the default.
	Backoff interface{} `json:"backoff,omitempty"`
}

// SendEmailAction sends an email through the daemon's SMTP relay.
type SendEmailAction struct {
	Config SendEmailConfig `json:"config"`
	Retry  *RetryPolicy    `json:"retry,omitempty"`
}

// SendEmailConfig is the config of a send_email action; every string is a template.
type SendEmailConfig struct {
	To      string `json:"to"`
	Subject string `json:"subject"`
	Body    string `json:"body"`
	// From is the daemon's [smtp] from when empty.
	From string     `json:"from,omitempty"`
	CC   StringList `json:"cc,omitempty"`
}

// HTTPRequestAction calls an HTTP endpoint, signed with the account's signing secret.
type HTTPRequestAction struct {
	Config HTTPRequestConfig `json:"config"`
	Retry  *RetryPolicy      `json:"retry,omitempty"`
}

// HTTPRequestConfig is the config of an http_request action; every string is a template.
type HTTPRequestConfig struct {
	URL string `json:"url"`
	// Method is POST when empty.
	Method  string            `json:"method,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	// Body is sent as JSON; every string in it is a template.
	Body TemplateValue `json:"body,omitempty"`
	// TimeoutMS is 1–60000; zero leaves the daemon's default.
	TimeoutMS int `json:"timeout_ms,omitempty"`
}

// DelayAction waits before the next step; the wait is stored, so it survives restarts.
type DelayAction struct {
	Config DelayConfig  `json:"config"`
	Retry  *RetryPolicy `json:"retry,omitempty"`
}

// DelayConfig is the config of a delay action.
type DelayConfig struct {
	Seconds int64 `json:"seconds"`
}

// FilterAction stops the execution (as a success) unless the condition holds.
type FilterAction struct {
	Config FilterConfig `json:"config"`
	Retry  *RetryPolicy `json:"retry,omitempty"`
}

// FilterConfig is the config of a filter action.
type FilterConfig struct {
	// Condition is an expression such as "payload.amount > 100", with or without {{ }}.
	Condition string `json:"condition"`
}

// TransformAction computes values the later steps read as steps.N.<key>.
type TransformAction struct {
	Config TransformConfig `json:"config"`
	Retry  *RetryPolicy    `json:"retry,omitempty"`
}

// TransformConfig is the config of a transform action.
type TransformConfig struct {
	Set map[string]TemplateValue `json:"set"`
}

// RawAction carries an action of a type this package does not know, unchanged.
type RawAction struct {
	Type string
	JSON json.RawMessage
}

// ActionType implements Action.
func (SendEmailAction) ActionType() string { return "send_email" }

// ActionType implements Action.
func (HTTPRequestAction) ActionType() string { return "http_request" }

// ActionType implements Action.
func (DelayAction) ActionType() string { return "delay" }

// ActionType implements Action.
func (FilterAction) ActionType() string { return "filter" }

// ActionType implements Action.
func (TransformAction) ActionType() string { return "transform" }

// ActionType implements Action.
func (a RawAction) ActionType() string { return a.Type }

// withType writes an action with its "type" first: the fields of the concrete type do not
// hold it, so that an action cannot say one type and be another.
func withType(typ string, config interface{}, retry *RetryPolicy) ([]byte, error) {
	return json.Marshal(struct {
		Type   string       `json:"type"`
		Config interface{}  `json:"config"`
		Retry  *RetryPolicy `json:"retry,omitempty"`
	}{typ, config, retry})
}

// MarshalJSON adds "type": "send_email".
func (a SendEmailAction) MarshalJSON() ([]byte, error) {
	return withType(a.ActionType(), a.Config, a.Retry)
}

// MarshalJSON adds "type": "http_request".
func (a HTTPRequestAction) MarshalJSON() ([]byte, error) {
	return withType(a.ActionType(), a.Config, a.Retry)
}

// MarshalJSON adds "type": "delay".
func (a DelayAction) MarshalJSON() ([]byte, error) {
	return withType(a.ActionType(), a.Config, a.Retry)
}

// MarshalJSON adds "type": "filter".
func (a FilterAction) MarshalJSON() ([]byte, error) {
	return withType(a.ActionType(), a.Config, a.Retry)
}

// MarshalJSON adds "type": "transform".
func (a TransformAction) MarshalJSON() ([]byte, error) {
	return withType(a.ActionType(), a.Config, a.Retry)
}

// MarshalJSON writes the action as it was read.
func (a RawAction) MarshalJSON() ([]byte, error) {
	if len(a.JSON) == 0 {
		return json.Marshal(map[string]string{"type": a.Type})
	}
	return a.JSON, nil
}

// UnmarshalJSON decodes each action into the type its "type" names.
func (as *Actions) UnmarshalJSON(data []byte) error {
	var raws []json.RawMessage
	if err := json.Unmarshal(data, &raws); err != nil {
		return err
	}
	if raws == nil {
		*as = nil
		return nil
	}
	out := make(Actions, 0, len(raws))
	for i, raw := range raws {
		a, err := decodeAction(raw)
		if err != nil {
			return fmt.Errorf("actions[%d]: %w", i, err)
		}
		out = append(out, a)
	}
	*as = out
	return nil
}

func decodeAction(raw json.RawMessage) (Action, error) {
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return nil, err
	}
	var a Action
	var err error
	// The concrete types decode with the standard rules: "type" is matched here, not stored.
	switch head.Type {
	case "send_email":
		var v SendEmailAction
		err = json.Unmarshal(raw, &v)
		a = v
	case "http_request":
		var v HTTPRequestAction
		err = json.Unmarshal(raw, &v)
		a = v
	case "delay":
		var v DelayAction
		err = json.Unmarshal(raw, &v)
		a = v
	case "filter":
		var v FilterAction
		err = json.Unmarshal(raw, &v)
		a = v
	case "transform":
		var v TransformAction
		err = json.Unmarshal(raw, &v)
		a = v
	default:
		a = RawAction{Type: head.Type, JSON: append(json.RawMessage(nil), raw...)}
	}
	return a, err
}

// StringList is a list of strings that also reads a single string (the cc of an email).
type StringList []string

// UnmarshalJSON accepts a string or an array of strings.
func (l *StringList) UnmarshalJSON(data []byte) error {
	if string(bytes.TrimSpace(data)) == "null" {
		*l = nil
		return nil
	}
	var one string
	if err := json.Unmarshal(data, &one); err == nil {
		*l = StringList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(data, &many); err != nil {
		return err
	}
	*l = many
	return nil
}
