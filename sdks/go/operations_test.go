package botcadence

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
)

type specDoc struct {
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas map[string]map[string]interface{} `json:"schemas"`
	} `json:"components"`
}

// readSpec reads the repository's openapi.json, the API this package must cover.
func readSpec(t *testing.T) specDoc {
	t.Helper()
	data, err := os.ReadFile("../../openapi.json")
	if err != nil {
		t.Fatalf("reading the API description: %v", err)
	}
	var doc specDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

type specOp struct{ method, path string }

// schemaTypes maps the schemas answers use to this package's types.
var schemaTypes = map[string]reflect.Type{
	"Account":       reflect.TypeOf(&Account{}),
	"AccountList":   reflect.TypeOf(&AccountList{}),
	"ApiKey":        reflect.TypeOf(&APIKey{}),
	"ApiKeyList":    reflect.TypeOf(&APIKeyList{}),
	"Health":        reflect.TypeOf(&Health{}),
	"Execution":     reflect.TypeOf(&Execution{}),
	"ExecutionList": reflect.TypeOf(&ExecutionList{}),
	"SigningSecret": reflect.TypeOf(&SigningSecret{}),
	"Webhook":       reflect.TypeOf(&Webhook{}),
	"WebhookList":   reflect.TypeOf(&WebhookList{}),
	"Workflow":      reflect.TypeOf(&Workflow{}),
	"WorkflowList":  reflect.TypeOf(&WorkflowList{}),
	"Accepted":      reflect.TypeOf(&Accepted{}),

	"WorkflowVersion":     reflect.TypeOf(&WorkflowVersion{}),
	"WorkflowVersionList": reflect.TypeOf(&WorkflowVersionList{}),
	"Replay":              reflect.TypeOf(&Replay{}),
	"ReplayCount":         reflect.TypeOf(&ReplayCount{}),
	"ShadowReplay":        reflect.TypeOf(&ShadowReplay{}),
	"ShadowResultList":    reflect.TypeOf(&ShadowResultList{}),
}

// alsoAnswers names the methods that give an operation's other 2xx answers: a dry run of
// createReplay answers a ReplayCount.
var alsoAnswers = map[string][]string{"createReplay": {"Replays.CountContext"}}

// specAnswerTypes is, per operationId, the Go types its 2xx answers decode into: error alone
// for an answer without a body.
func specAnswerTypes(t *testing.T) map[string][]reflect.Type {
	out := map[string][]reflect.Type{}
	errType := reflect.TypeOf((*error)(nil)).Elem()
	for _, methods := range readSpec(t).Paths {
		for _, raw := range methods {
			var op struct {
				OperationID string `json:"operationId"`
				Responses   map[string]struct {
					Content map[string]struct {
						Schema map[string]interface{} `json:"schema"`
					} `json:"content"`
				} `json:"responses"`
			}
			if json.Unmarshal(raw, &op) != nil || op.OperationID == "" {
				continue
			}
			for code, r := range op.Responses {
				if code[0] != '2' {
					continue
				}
				typ := errType
				for ctype, c := range r.Content {
					switch ref, _ := c.Schema["$ref"].(string); {
					case ref != "":
						typ = schemaTypes[strings.TrimPrefix(ref, "#/components/schemas/")]
					case ctype == "text/plain":
						typ = reflect.TypeOf("")
					default:
						typ = reflect.TypeOf(map[string]interface{}{})
					}
				}
				known := false
				for _, prev := range out[op.OperationID] {
					known = known || prev == typ
				}
				if !known {
					out[op.OperationID] = append(out[op.OperationID], typ)
				}
			}
		}
	}
	return out
}

func specOperations(t *testing.T) map[string]specOp {
	ops := map[string]specOp{}
	for path, methods := range readSpec(t).Paths {
		for method, raw := range methods {
			var op struct {
				OperationID string `json:"operationId"`
			}
			if json.Unmarshal(raw, &op) != nil || op.OperationID == "" {
				continue
			}
			ops[op.OperationID] = specOp{strings.ToUpper(method), path}
		}
	}
	return ops
}

// resolve follows a Call such as "Admin.Accounts.CreateContext" from a client to the method.
func resolve(c *Client, call string) (reflect.Value, bool) {
	parts := strings.Split(call, ".")
	v := reflect.ValueOf(c)
	for _, field := range parts[:len(parts)-1] {
		v = reflect.Indirect(v).FieldByName(field)
		if !v.IsValid() || v.IsNil() {
			return reflect.Value{}, false
		}
	}
	m := v.MethodByName(parts[len(parts)-1])
	return m, m.IsValid()
}

func TestEveryOperationHasAMethod(t *testing.T) {
	spec := specOperations(t)
	answerTypes := specAnswerTypes(t)
	if len(spec) < 28 {
		t.Fatalf("only %d operations read from openapi.json", len(spec))
	}
	table := map[string]Operation{}
	for _, op := range Operations {
		if _, dup := table[op.ID]; dup {
			t.Errorf("%s listed twice", op.ID)
		}
		table[op.ID] = op
	}
	var ids []string
	for id := range spec {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	c := NewClient("k")
	ctxType := reflect.TypeOf((*context.Context)(nil)).Elem()
	for _, id := range ids {
		op, ok := table[id]
		if !ok {
			t.Errorf("operation %s (%s %s) has no method", id, spec[id].method, spec[id].path)
			continue
		}
		if op.Method != spec[id].method || op.Path != spec[id].path {
			t.Errorf("%s: table says %s %s, openapi.json %s %s", id, op.Method, op.Path, spec[id].method, spec[id].path)
		}
		// Each method returns one of the operation's answers, and each answer is returned by
		// one of its methods.
		wants := answerTypes[id]
		if len(wants) == 0 {
			t.Errorf("%s: no answer type known", id)
		}
		returned := map[reflect.Type]bool{}
		for _, call := range append([]string{op.Call}, alsoAnswers[id]...) {
			m, ok := resolve(c, call)
			if !ok {
				t.Errorf("%s: %s is not a method", id, call)
				continue
			}
			if m.Type().NumIn() == 0 || m.Type().In(0) != ctxType {
				t.Errorf("%s: %s does not take a context first", id, call)
			}
			got := m.Type().Out(0)
			returned[got] = true
			if len(wants) > 0 && !containsType(wants, got) {
				t.Errorf("%s: %s returns %v, the 2xx answers are %v", id, call, got, wants)
			}
			plain := strings.TrimSuffix(call, "Context")
			if _, ok := resolve(c, plain); !ok {
				t.Errorf("%s: %s has no variant without context (%s)", id, call, plain)
			}
		}
		for _, want := range wants {
			if !returned[want] {
				t.Errorf("%s: no method returns its %v answer", id, want)
			}
		}
	}
	for id := range table {
		if _, ok := spec[id]; !ok {
			t.Errorf("%s is not in openapi.json", id)
		}
	}
}

func containsType(types []reflect.Type, t reflect.Type) bool {
	for _, x := range types {
		if x == t {
			return true
		}
	}
	return false
}

// TestEveryMethodCallsItsOperation calls each method against a stub and checks the method
// and path it sent are those of its operation.
func TestEveryMethodCallsItsOperation(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		got = append(got, r.Method+" "+r.URL.EscapedPath())
		mu.Unlock()
		if r.Method == "DELETE" {
			w.WriteHeader(204)
			return
		}
		if r.URL.Path == "/metrics" {
			io.WriteString(w, "# HELP x\n")
			return
		}
		io.WriteString(w, `{}`)
	}))
	defer srv.Close()
	c := NewClient("k", WithBaseURL(srv.URL), WithMaxRetries(0))
	ctx := context.Background()
	id := "x_1"
	calls := map[string]func() error{
		"listWorkflows": func() error { _, err := c.Workflows.ListContext(ctx, nil); return err },
		"createWorkflow": func() error {
			_, err := c.Workflows.CreateContext(ctx, &CreateWorkflowParams{Name: "n"})
			return err
		},
		"getWorkflow": func() error { _, err := c.Workflows.GetContext(ctx, id); return err },
		"updateWorkflow": func() error {
			_, err := c.Workflows.UpdateContext(ctx, id, &UpdateWorkflowParams{Status: WorkflowActive})
			return err
		},
		"deleteWorkflow":  func() error { return c.Workflows.DeleteContext(ctx, id) },
		"listExecutions":  func() error { _, err := c.Executions.ListContext(ctx, id, nil); return err },
		"getExecution":    func() error { _, err := c.Executions.GetContext(ctx, id); return err },
		"replayExecution": func() error { _, err := c.Executions.ReplayContext(ctx, id); return err },
		"listWebhooks":    func() error { _, err := c.Webhooks.ListContext(ctx, nil); return err },
		"createWebhook": func() error {
			_, err := c.Webhooks.CreateContext(ctx, &CreateWebhookParams{WorkflowID: id, Event: "e"})
			return err
		},
		"getWebhook":          func() error { _, err := c.Webhooks.GetContext(ctx, id); return err },
		"deleteWebhook":       func() error { return c.Webhooks.DeleteContext(ctx, id) },
		"listApiKeys":         func() error { _, err := c.APIKeys.ListContext(ctx); return err },
		"createApiKey":        func() error { _, err := c.APIKeys.CreateContext(ctx, nil); return err },
		"deleteApiKey":        func() error { return c.APIKeys.DeleteContext(ctx, id) },
		"getSigningSecret":    func() error { _, err := c.SigningSecret.GetContext(ctx); return err },
		"rotateSigningSecret": func() error { _, err := c.SigningSecret.RotateContext(ctx); return err },
		"postEvent":           func() error { _, err := c.Events.SendContext(ctx, id, map[string]int{"n": 1}); return err },
		"getHealth":           func() error { _, err := c.System.HealthContext(ctx); return err },
		"getReadiness":        func() error { _, err := c.System.ReadinessContext(ctx); return err },
		"getMetrics":          func() error { _, err := c.System.MetricsContext(ctx); return err },
		"getOpenApi":          func() error { _, err := c.System.OpenAPIContext(ctx); return err },
		"listAccounts":        func() error { _, err := c.Admin.Accounts.ListContext(ctx); return err },
		"createAccount": func() error {
			_, err := c.Admin.Accounts.CreateContext(ctx, &CreateAccountParams{Name: "a"})
			return err
		},
		"getAccount": func() error { _, err := c.Admin.Accounts.GetContext(ctx, id); return err },
		"updateAccount": func() error {
			_, err := c.Admin.Accounts.UpdateContext(ctx, id, &UpdateAccountParams{Name: "b"})
			return err
		},
		"createAccountApiKey": func() error { _, err := c.Admin.Accounts.CreateAPIKeyContext(ctx, id, nil); return err },
		"revokeApiKey":        func() error { return c.Admin.APIKeys.RevokeContext(ctx, id) },
		"listWorkflowVersions": func() error {
			_, err := c.WorkflowVersions.ListContext(ctx, id, nil)
			return err
		},
		"getWorkflowVersion": func() error { _, err := c.WorkflowVersions.GetContext(ctx, id, 1); return err },
		"createReplay":       func() error { _, err := c.Replays.CreateContext(ctx, id, nil); return err },
		"getReplay":          func() error { _, err := c.Replays.GetContext(ctx, id); return err },
		"cancelReplay":       func() error { _, err := c.Replays.CancelContext(ctx, id); return err },
		"createShadowReplay": func() error {
			_, err := c.ShadowReplays.CreateContext(ctx, id, &CreateShadowReplayParams{Version: 1})
			return err
		},
		"getShadowReplay":    func() error { _, err := c.ShadowReplays.GetContext(ctx, id); return err },
		"cancelShadowReplay": func() error { _, err := c.ShadowReplays.CancelContext(ctx, id); return err },
		"listShadowReplayResults": func() error {
			_, err := c.ShadowReplays.ResultsContext(ctx, id, nil)
			return err
		},
	}
	for _, op := range Operations {
		call, ok := calls[op.ID]
		if !ok {
			t.Errorf("no call for %s", op.ID)
			continue
		}
		mu.Lock()
		got = nil
		mu.Unlock()
		if err := call(); err != nil {
			t.Errorf("%s: %v", op.ID, err)
			continue
		}
		path := strings.NewReplacer("{id}", id, "{hook_id}", id, "{version}", "1").Replace(op.Path)
		want := op.Method + " " + path
		if len(got) != 1 || got[0] != want {
			t.Errorf("%s sent %v, want %s", op.ID, got, want)
		}
	}
}

func TestPathSegmentsAreEscaped(t *testing.T) {
	r, c := stub(t, answer(200, workflowJSON))
	c.Workflows.Get("a/b?c")
	if got := r.requests[0].URL.EscapedPath(); got != "/v1/workflows/a%2Fb%3Fc" {
		t.Errorf("%s", got)
	}
}
