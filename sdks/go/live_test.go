package botcadence_test

// Tests against a real daemon: BOTCADENCE_BASE_URL and BOTCADENCE_ADMIN_TOKEN name it (as
// sdks/live.py sets them); without them these tests skip. Each test creates its own accounts
// through the operator API, so they share nothing and run in parallel.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/botcadence/go-sdk"
)

var uniq int64 = time.Now().UnixNano()

func unique(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, atomic.AddInt64(&uniq, 1))
}

func liveEnv(t *testing.T) (baseURL, adminToken string) {
	t.Helper()
	baseURL, adminToken = os.Getenv("BOTCADENCE_BASE_URL"), os.Getenv("BOTCADENCE_ADMIN_TOKEN")
	if baseURL == "" || adminToken == "" {
		t.Skip("no daemon: BOTCADENCE_BASE_URL and BOTCADENCE_ADMIN_TOKEN are not set")
	}
	return baseURL, adminToken
}

// adminClient is where every live test starts: it skips without a daemon, and runs the test
// in parallel with the others (the rate-limit test waits up to a minute).
func adminClient(t *testing.T) *botcadence.Client {
	_, token := liveEnv(t)
	t.Parallel()
	return botcadence.NewClient(token)
}

// newAccount creates an account and a key for it; enterprise accounts get large limits so
// that only the rate-limit test ever meets one.
func newAccount(t *testing.T, admin *botcadence.Client, plan botcadence.Plan) (*botcadence.Account, string) {
	t.Helper()
	params := &botcadence.CreateAccountParams{Name: unique("go-sdk"), Plan: plan}
	if plan == botcadence.PlanEnterprise {
		params.Limits = &botcadence.LimitsPatch{RequestsPerMinute: 100000, RequestsPerDay: 10000000, WebhooksPerSecond: 100000}
	}
	acct, err := admin.Admin.Accounts.Create(params)
	if err != nil {
		t.Fatalf("creating an account: %v", err)
	}
	key, err := admin.Admin.Accounts.CreateAPIKey(acct.ID, &botcadence.CreateAPIKeyParams{Name: "go-sdk tests"})
	if err != nil {
		t.Fatalf("creating a key: %v", err)
	}
	if key.Key == "" || key.AccountID != acct.ID {
		t.Fatalf("key %+v", key)
	}
	return acct, key.Key
}

func liveClient(t *testing.T) *botcadence.Client {
	admin := adminClient(t)
	_, key := newAccount(t, admin, botcadence.PlanEnterprise)
	return botcadence.NewClient(key)
}

func apiError(t *testing.T, err error) *botcadence.Error {
	t.Helper()
	var e *botcadence.Error
	if !errors.As(err, &e) {
		t.Fatalf("want a *botcadence.Error, got %T %v", err, err)
	}
	return e
}

func transformWorkflow(name string, status botcadence.WorkflowStatus) *botcadence.CreateWorkflowParams {
	return &botcadence.CreateWorkflowParams{
		Name:    name,
		Trigger: botcadence.Trigger{Type: botcadence.TriggerWebhook, Event: "user.created"},
		Actions: []botcadence.Action{botcadence.TransformAction{Config: botcadence.TransformConfig{
			Set: map[string]botcadence.TemplateValue{"who": "{{user.email}}"}}}},
		Status: status,
	}
}

func waitExecution(t *testing.T, c *botcadence.Client, id string) *botcadence.Execution {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ex, err := c.Executions.Get(id)
		if err != nil {
			t.Fatalf("getting %s: %v", id, err)
		}
		if ex.Status.Finished() {
			return ex
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still %s", id, ex.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The reference's snippet, unchanged: the base URL comes from BOTCADENCE_BASE_URL.
func TestLiveReferenceSnippet(t *testing.T) {
	admin := adminClient(t)
	_, key := newAccount(t, admin, botcadence.PlanEnterprise)

	client := botcadence.NewClient(key)
	workflows, err := client.Workflows.List()

	if err != nil {
		t.Fatal(err)
	}
	if workflows.Total != 0 || len(workflows.Data) != 0 || workflows.Page != 1 || workflows.PerPage != 20 {
		t.Errorf("a new account's workflows: %+v", workflows)
	}
	// The reference spells the base URL with /v1; that works too.
	base, _ := liveEnv(t)
	if _, err := botcadence.NewClient(key, botcadence.WithBaseURL(base+"/v1/")).Workflows.List(); err != nil {
		t.Error(err)
	}
}

func TestLiveWorkflowsCRUD(t *testing.T) {
	c := liveClient(t)
	wf, err := c.Workflows.Create(&botcadence.CreateWorkflowParams{
		Name:    "New Workflow",
		Trigger: botcadence.Trigger{Type: botcadence.TriggerWebhook, Event: "user.created"},
		Actions: []botcadence.Action{botcadence.SendEmailAction{Config: botcadence.SendEmailConfig{
			To: "{{user.email}}", Subject: "Welcome!", Body: "Thanks for joining!"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if wf.ID == "" || wf.Status != botcadence.WorkflowDraft || wf.Trigger.Event != "user.created" || len(wf.Actions) != 1 {
		t.Fatalf("%+v", wf)
	}
	if email, ok := wf.Actions[0].(botcadence.SendEmailAction); !ok || email.Config.Subject != "Welcome!" {
		t.Errorf("action %#v", wf.Actions[0])
	}
	got, err := c.Workflows.Get(wf.ID)
	if err != nil || got.Name != "New Workflow" || !got.CreatedAt.Equal(wf.CreatedAt) {
		t.Fatalf("%v %+v", err, got)
	}
	upd, err := c.Workflows.Update(wf.ID, &botcadence.UpdateWorkflowParams{Name: "Renamed", Status: botcadence.WorkflowActive})
	if err != nil || upd.Name != "Renamed" || upd.Status != botcadence.WorkflowActive || len(upd.Actions) != 1 {
		t.Fatalf("%v %+v", err, upd)
	}
	list, err := c.Workflows.ListContext(context.Background(), &botcadence.ListWorkflowsParams{Status: botcadence.WorkflowActive})
	if err != nil || list.Total != 1 || list.Data[0].ID != wf.ID {
		t.Fatalf("%v %+v", err, list)
	}
	if list, _ := c.Workflows.ListContext(context.Background(), &botcadence.ListWorkflowsParams{Status: botcadence.WorkflowPaused}); list.Total != 0 {
		t.Errorf("paused: %+v", list)
	}
	if err := c.Workflows.Delete(wf.ID); err != nil {
		t.Fatal(err)
	}
	_, err = c.Workflows.Get(wf.ID)
	if e := apiError(t, err); e.Status != 404 || e.Code != "not_found" {
		t.Errorf("after delete: %v", e)
	}
}

func TestLiveErrors(t *testing.T) {
	c := liveClient(t)
	_, err := c.Workflows.Get("wf_000000000000000000000000")
	e := apiError(t, err)
	if e.Status != 404 || e.Code != "not_found" || e.Message == "" || e.RequestID == "" || e.Attempts != 1 {
		t.Errorf("404: %+v", e)
	}
	_, err = c.Workflows.Create(&botcadence.CreateWorkflowParams{
		Trigger: botcadence.Trigger{Type: botcadence.TriggerWebhook},
		Actions: []botcadence.Action{botcadence.DelayAction{Config: botcadence.DelayConfig{Seconds: 1}}},
	})
	e = apiError(t, err)
	if e.Status != 400 || e.Code != "invalid_request" || e.RequestID == "" || e.Attempts != 1 {
		t.Errorf("400: %+v", e)
	}
	if d, ok := e.Details.(map[string]interface{}); !ok || d["field"] != "name" || d["issue"] != "required" {
		t.Errorf("details %#v", e.Details)
	}
	if fd := e.FieldDetails(); fd == nil || fd.Field != "name" || fd.Issue != "required" {
		t.Errorf("field details %+v", fd)
	}
	// A field deep inside: the daemon names it.
	_, err = c.Workflows.Create(&botcadence.CreateWorkflowParams{Name: "x",
		Trigger: botcadence.Trigger{Type: botcadence.TriggerWebhook},
		Actions: []botcadence.Action{botcadence.HTTPRequestAction{}}})
	if fd := apiError(t, err).FieldDetails(); fd == nil || fd.Field != "actions[0].config.url" {
		t.Errorf("nested field: %v", err)
	}
	// A wrong key: 401, not retried.
	_, err = botcadence.NewClient("bc_live_nope").Workflows.List()
	if e := apiError(t, err); e.Status != 401 || e.Code != "unauthorized" || e.Attempts != 1 {
		t.Errorf("401: %+v", e)
	}
}

func TestLivePagination(t *testing.T) {
	c := liveClient(t)
	want := map[string]bool{}
	for i := 0; i < 7; i++ {
		wf, err := c.Workflows.Create(transformWorkflow(unique("page"), ""))
		if err != nil {
			t.Fatal(err)
		}
		want[wf.ID] = true
	}
	it := c.Workflows.Iterate(&botcadence.ListWorkflowsParams{PerPage: 3})
	seen := map[string]bool{}
	for it.Next() {
		seen[it.Value().ID] = true
	}
	if it.Err() != nil {
		t.Fatal(it.Err())
	}
	if len(seen) != 7 || it.Pages() != 3 {
		t.Errorf("%d workflows in %d pages", len(seen), it.Pages())
	}
	for id := range want {
		if !seen[id] {
			t.Errorf("%s not seen", id)
		}
	}
	page3, err := c.Workflows.ListContext(context.Background(), &botcadence.ListWorkflowsParams{Page: 3, PerPage: 3})
	if err != nil || len(page3.Data) != 1 || page3.Total != 7 || page3.Page != 3 {
		t.Errorf("%v %+v", err, page3)
	}
}

func TestLiveWebhooksCRUD(t *testing.T) {
	c := liveClient(t)
	wf, err := c.Workflows.Create(transformWorkflow("hooks", botcadence.WorkflowActive))
	if err != nil {
		t.Fatal(err)
	}
	hook, err := c.Webhooks.Create(&botcadence.CreateWebhookParams{WorkflowID: wf.ID, Event: "user.created"})
	if err != nil {
		t.Fatal(err)
	}
	if hook.ID == "" || hook.URL == "" || hook.Secret == "" || hook.Verify != botcadence.HookVerifyNone || hook.WorkflowID != wf.ID {
		t.Fatalf("%+v", hook)
	}
	got, err := c.Webhooks.Get(hook.ID)
	if err != nil || got.Secret != "" || got.URL != hook.URL || got.Event != "user.created" {
		t.Fatalf("%v %+v", err, got)
	}
	other, err := c.Webhooks.Create(&botcadence.CreateWebhookParams{WorkflowID: wf.ID, Event: "user.deleted",
		Verify: botcadence.HookVerifyHMACSHA256})
	if err != nil || other.Verify != botcadence.HookVerifyHMACSHA256 {
		t.Fatalf("%v %+v", err, other)
	}
	list, err := c.Webhooks.List()
	if err != nil || list.Total != 2 || len(list.Data) != 2 {
		t.Fatalf("%v %+v", err, list)
	}
	all, err := c.Webhooks.Iterate(&botcadence.ListWebhooksParams{PerPage: 1}).All()
	if err != nil || len(all) != 2 {
		t.Fatalf("%v %d", err, len(all))
	}
	// Another workflow's hook, and the filter by workflow.
	wf2, err := c.Workflows.Create(transformWorkflow("hooks-2", botcadence.WorkflowActive))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Webhooks.Create(&botcadence.CreateWebhookParams{WorkflowID: wf2.ID, Event: "e"}); err != nil {
		t.Fatal(err)
	}
	mine, err := c.Webhooks.ListContext(context.Background(), &botcadence.ListWebhooksParams{WorkflowID: wf.ID})
	if err != nil || mine.Total != 2 {
		t.Fatalf("%v %+v", err, mine)
	}
	if err := c.Workflows.Delete(wf2.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.Webhooks.Delete(hook.ID); err != nil {
		t.Fatal(err)
	}
	_, err = c.Webhooks.Get(hook.ID)
	if e := apiError(t, err); e.Status != 404 {
		t.Errorf("%v", e)
	}
	// Deleting the workflow takes its remaining hook along.
	if err := c.Workflows.Delete(wf.ID); err != nil {
		t.Fatal(err)
	}
	if list, err := c.Webhooks.List(); err != nil || list.Total != 0 {
		t.Errorf("%v %+v", err, list)
	}
}

func TestLiveAPIKeys(t *testing.T) {
	c := liveClient(t)
	key, err := c.APIKeys.Create(&botcadence.CreateAPIKeyParams{Name: "second"})
	if err != nil || key.Key == "" || key.Name != "second" || key.Prefix == "" {
		t.Fatalf("%v %+v", err, key)
	}
	second := botcadence.NewClient(key.Key, botcadence.WithMaxRetries(0))
	keys, err := second.APIKeys.List()
	if err != nil || keys.Total != 2 {
		t.Fatalf("%v %+v", err, keys)
	}
	for _, k := range keys.Data {
		if k.Key != "" {
			t.Error("a listed key shows its secret")
		}
	}
	if err := c.APIKeys.Delete(key.ID); err != nil {
		t.Fatal(err)
	}
	_, err = second.Workflows.List()
	if e := apiError(t, err); e.Status != 401 || e.Code != "unauthorized" {
		t.Errorf("a deleted key: %+v", e)
	}
	// A key created with no name at all.
	if k, err := c.APIKeys.Create(nil); err != nil || k.Key == "" {
		t.Errorf("%v %+v", err, k)
	}
}

func TestLiveSigningSecret(t *testing.T) {
	c := liveClient(t)
	s1, err := c.SigningSecret.Get()
	if err != nil || len(s1.Secret) < 10 || s1.Secret[:6] != "whsec_" {
		t.Fatalf("%v %+v", err, s1)
	}
	var resp *http.Response
	s2, err := c.SigningSecret.Rotate(botcadence.WithIdempotencyKey(unique("rotate")), botcadence.WithResponseInto(&resp))
	if err != nil || s2.Secret == s1.Secret || s2.Secret[:6] != "whsec_" {
		t.Fatalf("%v %+v", err, s2)
	}
	if resp.Header.Get("X-Request-Id") == "" || resp.Header.Get("X-RateLimit-Limit") == "" {
		t.Errorf("headers %v", resp.Header)
	}
	s3, err := c.SigningSecret.Get()
	if err != nil || s3.Secret != s2.Secret {
		t.Errorf("%v %+v", err, s3)
	}
}

func TestLiveExecutions(t *testing.T) {
	c := liveClient(t)
	closed := closedPortURL(t)
	wf, err := c.Workflows.Create(&botcadence.CreateWorkflowParams{
		Name:    "executions",
		Trigger: botcadence.Trigger{Type: botcadence.TriggerWebhook},
		Actions: []botcadence.Action{
			botcadence.FilterAction{Config: botcadence.FilterConfig{Condition: "fail == 1"}},
			botcadence.HTTPRequestAction{Config: botcadence.HTTPRequestConfig{URL: closed, TimeoutMS: 1000},
				Retry: &botcadence.RetryPolicy{MaxAttempts: 1}},
		},
		Status: botcadence.WorkflowActive,
	})
	if err != nil {
		t.Fatal(err)
	}
	hook, err := c.Webhooks.Create(&botcadence.CreateWebhookParams{WorkflowID: wf.ID, Event: "order.paid"})
	if err != nil {
		t.Fatal(err)
	}
	// Two that pass the filter's "no" (success), one that reaches the closed port (failed).
	var ok []string
	for i := 0; i < 2; i++ {
		acc, err := c.Events.Send(hook.ID, map[string]interface{}{"fail": 0, "i": i})
		if err != nil {
			t.Fatal(err)
		}
		ok = append(ok, acc.ExecutionID)
	}
	// By URL this time (the hook's own URL names the daemon's public address, which need not
	// be the one these tests reach).
	failed, err := c.Events.Send(c.BaseURL()+"/webhooks/"+hook.ID, []byte(`{"fail": 1}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ok {
		if ex := waitExecution(t, c, id); ex.Status != botcadence.ExecutionSuccess || ex.WorkflowID != wf.ID ||
			len(ex.Steps) != 2 || ex.Steps[1].Status != "skipped" || ex.Trigger.HookID != hook.ID {
			t.Errorf("%+v", ex)
		}
	}
	ex := waitExecution(t, c, failed.ExecutionID)
	var input map[string]int
	if json.Unmarshal(ex.Input, &input); ex.Status != botcadence.ExecutionFailed || ex.Error == "" || input["fail"] != 1 {
		t.Errorf("%+v (input %s)", ex, ex.Input)
	}

	ctx := context.Background()
	list, err := c.Executions.ListContext(ctx, wf.ID, &botcadence.ListExecutionsParams{Status: botcadence.ExecutionFailed})
	if err != nil || list.Total != 1 || list.Data[0].ID != failed.ExecutionID {
		t.Fatalf("failed: %v %+v", err, list)
	}
	list, err = c.Executions.ListContext(ctx, wf.ID, &botcadence.ListExecutionsParams{Status: botcadence.ExecutionSuccess})
	if err != nil || list.Total != 2 {
		t.Fatalf("success: %v %+v", err, list)
	}
	all, err := c.Executions.List(wf.ID)
	if err != nil || all.Total != 3 {
		t.Fatalf("all: %v %+v", err, all)
	}
	future, err := c.Executions.ListContext(ctx, wf.ID, &botcadence.ListExecutionsParams{From: time.Now().Add(time.Hour)})
	if err != nil || future.Total != 0 {
		t.Errorf("from the future: %v %+v", err, future)
	}
	past, err := c.Executions.ListContext(ctx, wf.ID, &botcadence.ListExecutionsParams{
		From: time.Now().Add(-time.Hour), To: time.Now().Add(time.Minute)})
	if err != nil || past.Total != 3 {
		t.Errorf("the last hour: %v %+v", err, past)
	}
	walked, err := c.Executions.Iterate(wf.ID, &botcadence.ListExecutionsParams{PerPage: 2}).All()
	if err != nil || len(walked) != 3 {
		t.Errorf("iterate: %v %d", err, len(walked))
	}

	// Replay: a new execution of the same input.
	rep, err := c.Executions.Replay(ok[0])
	if err != nil || rep.ID == "" || rep.ID == ok[0] || rep.ReplayOf != ok[0] {
		t.Fatalf("%v %+v", err, rep)
	}
	if ex := waitExecution(t, c, rep.ID); ex.ReplayOf != ok[0] || ex.Status != botcadence.ExecutionSuccess {
		t.Errorf("replay %+v", ex)
	}

	// The same Idempotency-Key on an event: the first execution, nothing run again.
	key := unique("evt")
	first, err := c.Events.Send(hook.ID, map[string]int{"fail": 0}, botcadence.WithIdempotencyKey(key))
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.Events.Send(hook.ID, map[string]int{"fail": 0}, botcadence.WithIdempotencyKey(key))
	if err != nil || !again.Duplicate || again.ExecutionID != first.ExecutionID {
		t.Errorf("%v %+v", err, again)
	}

	// A paused workflow refuses events: 409, not retried.
	if _, err := c.Workflows.Update(wf.ID, &botcadence.UpdateWorkflowParams{Status: botcadence.WorkflowPaused}); err != nil {
		t.Fatal(err)
	}
	_, err = c.Events.Send(hook.ID, map[string]int{"fail": 0})
	if e := apiError(t, err); e.Status != 409 || e.Code != "workflow_inactive" || e.Attempts != 1 {
		t.Errorf("%+v", e)
	}
}

// waitJob polls a replay or shadow replay until it is no longer running.
func waitJob(t *testing.T, get func() (botcadence.ReplayStatus, error)) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		status, err := get()
		if err != nil {
			t.Fatal(err)
		}
		if status != botcadence.ReplayRunning {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("still running after 20 s")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestLiveVersionsAndReplays(t *testing.T) {
	c := liveClient(t)
	ctx := context.Background()
	double := botcadence.TransformAction{Config: botcadence.TransformConfig{
		Set: map[string]botcadence.TemplateValue{"doubled": "{{ n * 2 }}"}}}
	filter := func(condition string) botcadence.Action {
		return botcadence.FilterAction{Config: botcadence.FilterConfig{Condition: condition}}
	}
	wf, err := c.Workflows.Create(&botcadence.CreateWorkflowParams{Name: unique("versions"),
		Trigger: botcadence.Trigger{Type: botcadence.TriggerWebhook},
		Actions: []botcadence.Action{double}, Status: botcadence.WorkflowActive})
	if err != nil || wf.Version != 1 {
		t.Fatalf("%v %+v", err, wf)
	}
	hook, err := c.Webhooks.Create(&botcadence.CreateWebhookParams{WorkflowID: wf.ID, Event: "e"})
	if err != nil {
		t.Fatal(err)
	}

	// Changing the actions makes version 2; version 1 stays as it was.
	upd, err := c.Workflows.Update(wf.ID, &botcadence.UpdateWorkflowParams{Actions: []botcadence.Action{filter("n > 1"), double}})
	if err != nil || upd.Version != 2 {
		t.Fatalf("%v %+v", err, upd)
	}
	versions, err := c.WorkflowVersions.List(wf.ID)
	if err != nil || versions.Total != 2 || len(versions.Data) != 2 ||
		versions.Data[0].Version != 2 || versions.Data[1].Version != 1 || len(versions.Data[0].Actions) != 2 {
		t.Fatalf("%v %+v", err, versions)
	}
	first, err := c.WorkflowVersions.Get(wf.ID, 1)
	if err != nil || first.Version != 1 || first.WorkflowID != wf.ID || first.Trigger != wf.Trigger || len(first.Actions) != 1 {
		t.Fatalf("%v %+v", err, first)
	}
	if _, ok := first.Actions[0].(botcadence.TransformAction); !ok {
		t.Errorf("version 1's action %#v", first.Actions[0])
	}
	walked, err := c.WorkflowVersions.Iterate(wf.ID, &botcadence.ListWorkflowVersionsParams{PerPage: 1}).All()
	if err != nil || len(walked) != 2 || walked[0].Version != 2 {
		t.Errorf("%v %+v", err, walked)
	}
	_, err = c.WorkflowVersions.Get(wf.ID, 3)
	if e := apiError(t, err); e.Status != 404 || e.Code != "not_found" {
		t.Errorf("version 3: %+v", e)
	}

	// n = 1 stops at the filter; n = 2 and 3 reach the transform. All succeed, on version 2.
	var ids []string
	for n := 1; n <= 3; n++ {
		acc, err := c.Events.Send(hook.ID, map[string]int{"n": n})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, acc.ExecutionID)
	}
	for _, id := range ids {
		if ex := waitExecution(t, c, id); ex.Status != botcadence.ExecutionSuccess || ex.WorkflowVersion != 2 {
			t.Fatalf("%+v", ex)
		}
	}

	// Shadow: with the filter at n > 2, only n = 2 ends differently (its transform skipped).
	shadow, err := c.ShadowReplays.Create(wf.ID, &botcadence.CreateShadowReplayParams{
		Definition: &botcadence.ShadowDefinition{Actions: []botcadence.Action{filter("n > 2"), double}}})
	if err != nil || shadow.ID == "" || shadow.WorkflowID != wf.ID || shadow.Version != 0 {
		t.Fatalf("%v %+v", err, shadow)
	}
	waitJob(t, func() (botcadence.ReplayStatus, error) {
		shadow, err = c.ShadowReplays.Get(shadow.ID)
		if err != nil {
			return "", err
		}
		return shadow.Status, nil
	})
	want := botcadence.ShadowSummary{Matched: 3, Compared: 3, Changed: 1, Unchanged: 2}
	if shadow.Status != botcadence.ReplayCompleted || shadow.Summary != want || shadow.FinishedAt == nil ||
		len(shadow.Definition.Actions) != 2 || shadow.Definition.Trigger == nil {
		t.Fatalf("%+v", shadow)
	}
	results, err := c.ShadowReplays.Results(shadow.ID)
	if err != nil || results.Total != 3 || len(results.Data) != 3 {
		t.Fatalf("%v %+v", err, results)
	}
	changed := results.Data[0]
	if !changed.Changed || results.Data[1].Changed || results.Data[2].Changed || changed.ExecutionID != ids[1] ||
		changed.Original.Status != botcadence.ExecutionSuccess || changed.Shadow.Status != botcadence.ExecutionSuccess ||
		len(changed.Original.Steps) != 2 {
		t.Errorf("changed results first: %+v", results.Data)
	}
	found := false
	for _, d := range changed.Differences {
		found = found || d.Path == "steps[1].status" && string(d.Original) == `"success"` && string(d.Shadow) == `"skipped"`
	}
	if !found || len(results.Data[1].Differences) != 0 {
		t.Errorf("differences %+v", changed.Differences)
	}
	onlyChanged := true
	some, err := c.ShadowReplays.ResultsContext(ctx, shadow.ID, &botcadence.ListShadowResultsParams{Changed: &onlyChanged})
	if err != nil || some.Total != 1 || some.Data[0].ExecutionID != ids[1] {
		t.Errorf("%v %+v", err, some)
	}
	all, err := c.ShadowReplays.IterateResults(shadow.ID, &botcadence.ListShadowResultsParams{PerPage: 1}).All()
	if err != nil || len(all) != 3 {
		t.Errorf("%v %d", err, len(all))
	}
	if done, err := c.ShadowReplays.Cancel(shadow.ID); err != nil || done.Status != botcadence.ReplayCompleted {
		t.Errorf("a finished shadow replay is answered unchanged: %v %+v", err, done)
	}

	// Bulk replay: the dry run counts, the replay starts that many new executions.
	filterSuccess := &botcadence.CreateReplayParams{Status: botcadence.ExecutionSuccess}
	count, err := c.Replays.Count(wf.ID, filterSuccess)
	if err != nil || count.Count != 3 {
		t.Fatalf("%v %+v", err, count)
	}
	replay, err := c.Replays.Create(wf.ID, filterSuccess)
	if err != nil || replay.ID == "" || replay.WorkflowID != wf.ID || replay.Filter.Status != botcadence.ExecutionSuccess {
		t.Fatalf("%v %+v", err, replay)
	}
	waitJob(t, func() (botcadence.ReplayStatus, error) {
		replay, err = c.Replays.Get(replay.ID)
		if err != nil {
			return "", err
		}
		return replay.Status, nil
	})
	if replay.Status != botcadence.ReplayCompleted || replay.Matched != count.Count || replay.Replayed != count.Count ||
		replay.Skipped != 0 || replay.FinishedAt == nil {
		t.Fatalf("%+v", replay)
	}
	if list, err := c.Executions.List(wf.ID); err != nil || list.Total != 3+count.Count {
		t.Errorf("%v %+v", err, list)
	}
	if done, err := c.Replays.Cancel(replay.ID); err != nil || done.Status != botcadence.ReplayCompleted {
		t.Errorf("a finished replay is answered unchanged: %v %+v", err, done)
	}

	// Only an active workflow is replayed.
	if _, err := c.Workflows.Update(wf.ID, &botcadence.UpdateWorkflowParams{Status: botcadence.WorkflowPaused}); err != nil {
		t.Fatal(err)
	}
	_, err = c.Replays.Create(wf.ID, nil)
	if e := apiError(t, err); e.Status != 409 || e.Code != "workflow_inactive" {
		t.Errorf("%+v", e)
	}
}

func closedPortURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr + "/nothing"
}

func TestLiveRateLimit(t *testing.T) {
	admin := adminClient(t)
	_, key := newAccount(t, admin, botcadence.PlanFree)
	rpm := 60
	if v, err := strconv.Atoi(os.Getenv("BOTCADENCE_FREE_RPM")); err == nil && v > 0 {
		rpm = v
	}
	c := botcadence.NewClient(key)
	var limited *botcadence.Error
	for i := 0; i <= rpm+5 && limited == nil; i++ {
		_, err := c.Workflows.List(botcadence.WithMaxRetries(0))
		if err != nil {
			limited = apiError(t, err)
		}
	}
	if limited == nil {
		t.Fatalf("no 429 after %d calls", rpm+6)
	}
	if limited.Status != 429 || limited.Code != "rate_limited" || limited.RetryAfter <= 0 || limited.RequestID == "" {
		t.Fatalf("%+v", limited)
	}
	t.Logf("rate limited; Retry-After %v", limited.RetryAfter)
	start := time.Now()
	list, err := c.Workflows.List()
	took := time.Since(start)
	if err != nil || list == nil {
		t.Fatalf("with retries: %v", err)
	}
	if took < limited.RetryAfter-time.Second {
		t.Errorf("succeeded after %v, before the Retry-After of %v", took, limited.RetryAfter)
	}
}

// proxy relays HTTP requests to the daemon, except that it drops the answer to the first
// one: the daemon acted, the client saw nothing. It records each request's Idempotency-Key.
type proxy struct {
	upstream string
	ln       net.Listener
	mu       sync.Mutex
	conns    int
	keys     []string
}

func startProxy(t *testing.T, upstream string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{upstream: upstream, ln: ln}
	go p.serve()
	t.Cleanup(func() { ln.Close() })
	return p
}

func (p *proxy) serve() {
	for {
		conn, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		p.conns++
		first := p.conns == 1
		p.mu.Unlock()
		go p.handle(conn, first)
	}
}

func (p *proxy) handle(client net.Conn, dropFirst bool) {
	defer client.Close()
	up, err := net.Dial("tcp", p.upstream)
	if err != nil {
		return
	}
	defer up.Close()
	cr, ur := bufio.NewReader(client), bufio.NewReader(up)
	for {
		req, err := http.ReadRequest(cr)
		if err != nil {
			return
		}
		p.mu.Lock()
		p.keys = append(p.keys, req.Header.Get("Idempotency-Key"))
		p.mu.Unlock()
		if err := req.Write(up); err != nil {
			return
		}
		resp, err := http.ReadResponse(ur, req)
		if err != nil {
			return
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return
		}
		if dropFirst {
			// The daemon answered in full; the client gets a closed connection instead.
			return
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		if err := resp.Write(client); err != nil {
			return
		}
	}
}

func TestLiveIdempotentRetryAfterDroppedAnswer(t *testing.T) {
	admin := adminClient(t)
	_, key := newAccount(t, admin, botcadence.PlanEnterprise)
	c := botcadence.NewClient(key)
	u, err := url.Parse(c.BaseURL())
	if err != nil {
		t.Fatal(err)
	}
	p := startProxy(t, u.Host)
	viaProxy := botcadence.NewClient(key, botcadence.WithBaseURL("http://"+p.ln.Addr().String()))

	name := unique("once")
	var resp *http.Response
	wf, err := viaProxy.Workflows.Create(transformWorkflow(name, ""), botcadence.WithResponseInto(&resp))
	if err != nil {
		t.Fatalf("through the proxy: %v", err)
	}
	if resp.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("the retry's answer is not the stored one: %v", resp.Header)
	}
	p.mu.Lock()
	keys := append([]string(nil), p.keys...)
	p.mu.Unlock()
	if len(keys) != 2 || keys[0] == "" || keys[0] != keys[1] {
		t.Errorf("Idempotency-Keys sent: %q", keys)
	}
	all, err := c.Workflows.Iterate(&botcadence.ListWorkflowsParams{PerPage: 100}).All()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, w := range all {
		if w.Name == name {
			n++
			if w.ID != wf.ID {
				t.Errorf("another id: %s vs %s", w.ID, wf.ID)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d workflows named %s, want 1", n, name)
	}
}

// delivery is one request the receiver got.
type delivery struct {
	body   []byte
	header http.Header
}

func receiver(t *testing.T) (string, chan delivery) {
	t.Helper()
	ch := make(chan delivery, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ch <- delivery{body, r.Header.Clone()}
		w.WriteHeader(200)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, ch
}

func TestLiveSignedDeliveries(t *testing.T) {
	c := liveClient(t)
	target, deliveries := receiver(t)
	secret, err := c.SigningSecret.Get()
	if err != nil {
		t.Fatal(err)
	}
	wf, err := c.Workflows.Create(&botcadence.CreateWorkflowParams{
		Name:    "signed",
		Trigger: botcadence.Trigger{Type: botcadence.TriggerWebhook},
		Actions: []botcadence.Action{botcadence.HTTPRequestAction{Config: botcadence.HTTPRequestConfig{
			URL: target + "/hook", Method: "POST", Body: map[string]interface{}{"n": "{{n}}"}}}},
		Status: botcadence.WorkflowActive,
	})
	if err != nil {
		t.Fatal(err)
	}
	hook, err := c.Webhooks.Create(&botcadence.CreateWebhookParams{WorkflowID: wf.ID, Event: "tick"})
	if err != nil {
		t.Fatal(err)
	}
	acc, err := c.Events.Send(hook.ID, map[string]int{"n": 42})
	if err != nil {
		t.Fatal(err)
	}
	var d delivery
	select {
	case d = <-deliveries:
	case <-time.After(30 * time.Second):
		t.Fatal("no delivery")
	}
	var body map[string]interface{}
	if err := json.Unmarshal(d.body, &body); err != nil || fmt.Sprint(body["n"]) != "42" {
		t.Errorf("delivered %s", d.body)
	}
	sig := d.header.Get("X-Botcadence-Signature")
	if !botcadence.VerifySignature(d.body, sig, secret.Secret) {
		t.Errorf("X-Botcadence-Signature %q does not verify", sig)
	}
	if err := botcadence.VerifyStandardWebhook(d.body, d.header, secret.Secret); err != nil {
		t.Errorf("Standard Webhooks: %v (headers %v)", err, d.header)
	}
	changed := append([]byte(nil), d.body...)
	changed[len(changed)-1] ^= 1
	if botcadence.VerifySignature(changed, sig, secret.Secret) {
		t.Error("a changed body verifies")
	}
	if err := botcadence.VerifyStandardWebhook(changed, d.header, secret.Secret); !errors.Is(err, botcadence.ErrWebhookNoMatchingSignature) {
		t.Errorf("a changed body: %v", err)
	}
	if ex := waitExecution(t, c, acc.ExecutionID); ex.Status != botcadence.ExecutionSuccess {
		t.Errorf("%+v", ex)
	}
}

func TestLiveSignedIncomingEvents(t *testing.T) {
	c := liveClient(t)
	wf, err := c.Workflows.Create(transformWorkflow("incoming", botcadence.WorkflowActive))
	if err != nil {
		t.Fatal(err)
	}
	hook, err := c.Webhooks.Create(&botcadence.CreateWebhookParams{WorkflowID: wf.ID, Event: "user.created",
		Verify: botcadence.HookVerifyHMACSHA256})
	if err != nil || hook.Secret == "" {
		t.Fatalf("%v %+v", err, hook)
	}
	body := []byte(`{"user": {"email": "ada@example.com"}}`)
	noRetry := botcadence.WithMaxRetries(0)

	_, err = c.Events.Send(hook.ID, body, noRetry)
	if e := apiError(t, err); e.Status != 401 || e.Code != "signature_invalid" {
		t.Errorf("unsigned: %+v", e)
	}
	acc, err := c.Events.Send(hook.ID, body,
		botcadence.WithHeader("X-Botcadence-Signature", botcadence.ComputeSignature(body, hook.Secret)))
	if err != nil || acc.ExecutionID == "" {
		t.Errorf("hex signature: %v", err)
	}
	std, err := botcadence.SignStandardWebhook(body, hook.Secret, unique("msg"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	opts := []botcadence.Option{noRetry, botcadence.WithHeaders(std)}
	acc, err = c.Events.Send(hook.ID, body, opts...)
	if err != nil || acc.ExecutionID == "" {
		t.Errorf("Standard Webhooks signature: %v", err)
	}
	tampered := append([]byte(nil), body...)
	tampered[2] = 'U'
	_, err = c.Events.Send(hook.ID, tampered, append(opts, botcadence.WithIdempotencyKey(unique("t")))...)
	if e := apiError(t, err); e.Status != 401 || e.Code != "signature_invalid" {
		t.Errorf("tampered: %+v", e)
	}
	if ex := waitExecution(t, c, acc.ExecutionID); ex.Status != botcadence.ExecutionSuccess {
		t.Errorf("%+v", ex)
	}
}

func TestLiveSystem(t *testing.T) {
	admin := adminClient(t)
	h, err := admin.System.Health()
	if err != nil || h.Status == "" {
		t.Errorf("health: %v %+v", err, h)
	}
	r, err := admin.System.Readiness()
	if err != nil || r.Status == "" {
		t.Errorf("readiness: %v %+v", err, r)
	}
	m, err := admin.System.Metrics()
	if err != nil || len(m) == 0 || m[0] != '#' && m[0] != 'b' {
		t.Errorf("metrics: %v %.80q", err, m)
	}
	doc, err := admin.System.OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	paths, _ := doc["paths"].(map[string]interface{})
	n := 0
	for _, p := range paths {
		for _, op := range p.(map[string]interface{}) {
			if o, ok := op.(map[string]interface{}); ok && o["operationId"] != nil {
				n++
			}
		}
	}
	if n != len(botcadence.Operations) {
		t.Errorf("the daemon describes %d operations, the client has %d", n, len(botcadence.Operations))
	}
}

func TestLiveAdmin(t *testing.T) {
	admin := adminClient(t)
	acct, key := newAccount(t, admin, botcadence.PlanFree)
	if acct.Plan != botcadence.PlanFree || acct.CustomLimits != nil || acct.Limits.RequestsPerMinute == 0 {
		t.Errorf("%+v", acct)
	}
	got, err := admin.Admin.Accounts.Get(acct.ID)
	if err != nil || got.Name != acct.Name {
		t.Fatalf("%v %+v", err, got)
	}
	list, err := admin.Admin.Accounts.List()
	if err != nil || list.Total < 1 {
		t.Fatalf("%v", err)
	}
	found := false
	for _, a := range list.Data {
		found = found || a.ID == acct.ID
	}
	if !found {
		t.Error("the new account is not listed")
	}
	upd, err := admin.Admin.Accounts.Update(acct.ID, &botcadence.UpdateAccountParams{
		Plan: botcadence.PlanEnterprise, Limits: &botcadence.LimitsPatch{RequestsPerMinute: 12345}})
	if err != nil || upd.Plan != botcadence.PlanEnterprise || upd.CustomLimits == nil || upd.Limits.RequestsPerMinute != 12345 {
		t.Fatalf("%v %+v", err, upd)
	}
	upd, err = admin.Admin.Accounts.Update(acct.ID, &botcadence.UpdateAccountParams{Name: "renamed", ClearLimits: true})
	if err != nil || upd.Name != "renamed" || upd.CustomLimits != nil || upd.Limits.RequestsPerMinute == 12345 {
		t.Fatalf("%v %+v", err, upd)
	}
	// Custom limits on a plan that has none: 409.
	_, err = admin.Admin.Accounts.Update(acct.ID, &botcadence.UpdateAccountParams{Plan: botcadence.PlanPro,
		Limits: &botcadence.LimitsPatch{RequestsPerMinute: 5}})
	if e := apiError(t, err); e.Status != 400 && e.Status != 409 {
		t.Errorf("%+v", e)
	}
	// A revoked key is refused at once.
	c := botcadence.NewClient(key)
	keys, err := c.APIKeys.List()
	if err != nil || keys.Total != 1 {
		t.Fatalf("%v %+v", err, keys)
	}
	if err := admin.Admin.APIKeys.Revoke(keys.Data[0].ID); err != nil {
		t.Fatal(err)
	}
	_, err = c.Workflows.List()
	if e := apiError(t, err); e.Status != 401 {
		t.Errorf("%+v", e)
	}
	// The operator API refuses an API key.
	_, err = c.Admin.Accounts.List()
	if e := apiError(t, err); e.Status != 401 {
		t.Errorf("%+v", e)
	}
}
