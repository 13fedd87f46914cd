package botcadence

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestNormalizeBaseURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://api.botcadence.com":         "https://api.botcadence.com",
		"https://api.botcadence.com/":        "https://api.botcadence.com",
		"https://api.botcadence.com/v1":      "https://api.botcadence.com",
		"https://api.botcadence.com/v1/":     "https://api.botcadence.com",
		" http://127.0.0.1:8080/v1 ":         "http://127.0.0.1:8080",
		"http://127.0.0.1:8080//":            "http://127.0.0.1:8080",
		"http://proxy.local/botcadence/v1":   "http://proxy.local/botcadence",
		"http://proxy.local/botcadence/v1x/": "http://proxy.local/botcadence/v1x",
	} {
		if got := normalizeBaseURL(in); got != want {
			t.Errorf("normalizeBaseURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBaseURLPrecedence(t *testing.T) {
	t.Setenv(BaseURLEnv, "")
	if got := NewClient("k").BaseURL(); got != DefaultBaseURL {
		t.Errorf("default: %q", got)
	}
	t.Setenv(BaseURLEnv, "http://from-env:1/v1/")
	if got := NewClient("k").BaseURL(); got != "http://from-env:1" {
		t.Errorf("env: %q", got)
	}
	if got := NewClient("k", WithBaseURL("http://from-option:2/v1")).BaseURL(); got != "http://from-option:2" {
		t.Errorf("option: %q", got)
	}
}

func TestBackoffBounds(t *testing.T) {
	for attempt := 0; attempt < 10; attempt++ {
		full := 500 * time.Millisecond << uint(attempt)
		if attempt >= 5 || full > 8*time.Second {
			full = 8 * time.Second
		}
		lo, hi := full, time.Duration(0)
		for i := 0; i < 2000; i++ {
			d := backoff(attempt)
			if d < full/2 || d > full {
				t.Fatalf("backoff(%d) = %v, want within [%v, %v]", attempt, d, full/2, full)
			}
			if d < lo {
				lo = d
			}
			if d > hi {
				hi = d
			}
		}
		// Jitter spreads the waits: 2000 draws cover most of the range.
		if hi-lo < full/4 {
			t.Errorf("backoff(%d) barely varies: %v..%v", attempt, lo, hi)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	if d, ok := parseRetryAfter("7"); !ok || d != 7*time.Second {
		t.Errorf("7 → %v %v", d, ok)
	}
	if _, ok := parseRetryAfter(""); ok {
		t.Error("empty must be absent")
	}
	if _, ok := parseRetryAfter("soon"); ok {
		t.Error("garbage must be absent")
	}
	date := time.Now().Add(30 * time.Second).UTC().Format(http.TimeFormat)
	if d, ok := parseRetryAfter(date); !ok || d < 25*time.Second || d > 31*time.Second {
		t.Errorf("http date → %v %v", d, ok)
	}
}

func TestUUIDv4(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		u := newUUID()
		if !re.MatchString(u) {
			t.Fatalf("not a v4 UUID: %q", u)
		}
		if seen[u] {
			t.Fatalf("repeated: %q", u)
		}
		seen[u] = true
	}
}

func TestUserAgent(t *testing.T) {
	want := "botcadence-go/" + Version + " (" + runtime.Version() + ")"
	if UserAgent() != want {
		t.Errorf("User-Agent %q, want %q", UserAgent(), want)
	}
}

// recorder is a stub daemon: it answers with the handler's answers in turn and records what
// it was sent.
type recorder struct {
	mu       sync.Mutex
	requests []*http.Request
	bodies   []string
	answers  []func(w http.ResponseWriter)
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	n := len(r.requests)
	r.requests = append(r.requests, req)
	r.bodies = append(r.bodies, string(body))
	answer := r.answers[len(r.answers)-1]
	if n < len(r.answers) {
		answer = r.answers[n]
	}
	r.mu.Unlock()
	answer(w)
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.requests)
}

func answer(status int, body string, headers ...string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func stub(t *testing.T, answers ...func(w http.ResponseWriter)) (*recorder, *Client) {
	t.Helper()
	r := &recorder{answers: answers}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return r, NewClient("bc_live_test", WithBaseURL(srv.URL+"/v1"))
}

const workflowJSON = `{"id":"wf_1","name":"n","status":"draft","trigger":{"type":"webhook"},
	"actions":[{"type":"delay","config":{"seconds":1}}],
	"created_at":"2025-12-30T10:00:00Z","updated_at":"2025-12-30T10:00:00Z"}`

func TestRequestHeadersAndBody(t *testing.T) {
	r, c := stub(t, answer(201, workflowJSON))
	wf, err := c.Workflows.Create(&CreateWorkflowParams{Name: "n", Trigger: Trigger{Type: TriggerWebhook},
		Actions: []Action{DelayAction{Config: DelayConfig{Seconds: 1}}}}, WithHeader("X-Extra", "1"))
	if err != nil {
		t.Fatal(err)
	}
	if wf.ID != "wf_1" || len(wf.Actions) != 1 {
		t.Fatalf("decoded %+v", wf)
	}
	req := r.requests[0]
	for k, want := range map[string]string{
		"Authorization": "Bearer bc_live_test",
		"User-Agent":    UserAgent(),
		"Content-Type":  "application/json",
		"Accept":        "application/json",
		"X-Extra":       "1",
	} {
		if got := req.Header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	if req.Method != "POST" || req.URL.Path != "/v1/workflows" {
		t.Errorf("%s %s", req.Method, req.URL.Path)
	}
	if req.Header.Get("Idempotency-Key") == "" {
		t.Error("a /v1 POST must carry an Idempotency-Key")
	}
	var body map[string]interface{}
	if err := json.Unmarshal([]byte(r.bodies[0]), &body); err != nil {
		t.Fatal(err)
	}
	want := `{"actions":[{"config":{"seconds":1},"type":"delay"}],"name":"n","trigger":{"type":"webhook"}}`
	if got, _ := json.Marshal(body); string(got) != want {
		t.Errorf("body %s, want %s", got, want)
	}
}

func TestRetriesKeepTheIdempotencyKey(t *testing.T) {
	r, c := stub(t,
		answer(503, `{"error":{"code":"unavailable","message":"busy"}}`, "Retry-After", "0"),
		answer(500, `{"error":{"code":"internal_error","message":"oops"}}`),
		answer(201, workflowJSON))
	start := time.Now()
	if _, err := c.Workflows.Create(&CreateWorkflowParams{Name: "n"}); err != nil {
		t.Fatal(err)
	}
	if r.count() != 3 {
		t.Fatalf("%d attempts, want 3", r.count())
	}
	key := r.requests[0].Header.Get("Idempotency-Key")
	for i, req := range r.requests {
		if got := req.Header.Get("Idempotency-Key"); got != key {
			t.Errorf("attempt %d key %q, want %q", i, got, key)
		}
		if r.bodies[i] != r.bodies[0] {
			t.Errorf("attempt %d body differs", i)
		}
	}
	// Retry-After: 0 then the backoff of the 2nd retry (0.5–1 s).
	if el := time.Since(start); el < 500*time.Millisecond || el > 3*time.Second {
		t.Errorf("took %v", el)
	}

	// Each call has its own key; a caller's key is used as given.
	r2, c2 := stub(t, answer(201, workflowJSON))
	c2.Workflows.Create(&CreateWorkflowParams{Name: "a"})
	c2.Workflows.Create(&CreateWorkflowParams{Name: "b"}, WithIdempotencyKey("mine-1"))
	if a, b := r2.requests[0].Header.Get("Idempotency-Key"), r2.requests[1].Header.Get("Idempotency-Key"); a == b || b != "mine-1" {
		t.Errorf("keys %q, %q", a, b)
	}
}

func TestConflictOnARetryMeansStillRunning(t *testing.T) {
	conflict := answer(409, `{"error":{"code":"conflict","message":"a request with this Idempotency-Key is still running"}}`)
	r, c := stub(t, answer(502, `bad gateway`), conflict, answer(201, workflowJSON))
	if _, err := c.Workflows.Create(&CreateWorkflowParams{Name: "n"}); err != nil || r.count() != 3 {
		t.Errorf("%v after %d requests", err, r.count())
	}
	// On a first attempt, a conflict is the caller's key reused for something else.
	r, c = stub(t, conflict)
	_, err := c.Workflows.Create(&CreateWorkflowParams{Name: "n"}, WithIdempotencyKey("used"))
	var e *Error
	if !errors.As(err, &e) || e.Status != 409 || r.count() != 1 {
		t.Errorf("%v after %d requests", err, r.count())
	}
}

func TestRetryAfterBeyondAMinuteIsReturned(t *testing.T) {
	r, c := stub(t, answer(429, `{"error":{"code":"rate_limited","message":"slow down"}}`,
		"Retry-After", "120", "X-Request-Id", "req_1"))
	start := time.Now()
	_, err := c.Workflows.List()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T %v", err, err)
	}
	if e.Status != 429 || e.Code != "rate_limited" || e.RetryAfter != 120*time.Second ||
		e.RequestID != "req_1" || e.Attempts != 1 || r.count() != 1 {
		t.Errorf("%+v, %d requests", e, r.count())
	}
	if time.Since(start) > time.Second {
		t.Error("must not wait")
	}
	if errors.Is(err, ErrConnection) || errors.Is(err, ErrTimeout) {
		t.Error("an answer is not a connection error")
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	r, c := stub(t,
		answer(429, `{"error":{"code":"rate_limited","message":"slow down"}}`, "Retry-After", "1"),
		answer(200, `{"data":[],"total":0,"page":1,"per_page":20}`))
	start := time.Now()
	if _, err := c.Workflows.List(); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < time.Second || r.count() != 2 {
		t.Errorf("took %v with %d requests", el, r.count())
	}
	// maxRetries 0: the 429 comes back at once.
	_, c0 := stub(t, answer(429, `{"error":{"code":"rate_limited","message":"x"}}`, "Retry-After", "1"))
	_, err := c0.Workflows.List(WithMaxRetries(0))
	var e *Error
	if !errors.As(err, &e) || e.Status != 429 || e.RetryAfter != time.Second {
		t.Errorf("%v", err)
	}
}

func TestErrorEnvelope(t *testing.T) {
	r, c := stub(t, answer(400, `{"error":{"code":"invalid_request","message":"The 'name' field is required",
		"details":{"field":"name","issue":"required"}}}`, "X-Request-Id", "req_abc"))
	_, err := c.Workflows.Create(&CreateWorkflowParams{})
	var e *Error
	if !errors.As(err, &e) {
		t.Fatal(err)
	}
	if r.count() != 1 {
		t.Errorf("a 400 is not retried: %d requests", r.count())
	}
	if e.Status != 400 || e.Code != "invalid_request" || e.RequestID != "req_abc" || e.Message == "" {
		t.Errorf("%+v", e)
	}
	if d := e.FieldDetails(); d == nil || d.Field != "name" || d.Issue != "required" {
		t.Errorf("details %#v", e.Details)
	}
	if !strings.Contains(e.Error(), "400 invalid_request") {
		t.Errorf("message %q", e.Error())
	}

	_, c2 := stub(t, func(w http.ResponseWriter) { w.WriteHeader(404); io.WriteString(w, "<html>nope</html>") })
	_, err = c2.Workflows.Get("wf_x")
	if !errors.As(err, &e) || e.Status != 404 || e.Code != "" || e.Message != "<html>nope</html>" || e.Details != nil {
		t.Errorf("%+v", e)
	}
}

func TestAdminPostsRetriedOnlyWhenNothingHappened(t *testing.T) {
	r, c := stub(t, answer(500, `{"error":{"code":"internal_error","message":"x"}}`))
	_, err := c.Admin.Accounts.Create(&CreateAccountParams{Name: "a"})
	if err == nil || r.count() != 1 {
		t.Errorf("a 500 to a POST without Idempotency-Key must not be retried: %d", r.count())
	}
	if r.requests[0].Header.Get("Idempotency-Key") != "" {
		t.Error("the operator API does not take Idempotency-Key")
	}
	acct := `{"id":"acct_1","name":"a","plan":"free","limits":{"requests_per_minute":1,"requests_per_day":1,
		"webhooks_per_second":1},"created_at":"2025-12-30T10:00:00Z","updated_at":"2025-12-30T10:00:00Z"}`
	r, c = stub(t, answer(503, `{"error":{"code":"unavailable","message":"x"}}`, "Retry-After", "0"), answer(201, acct))
	if _, err := c.Admin.Accounts.Create(&CreateAccountParams{Name: "a"}); err != nil || r.count() != 2 {
		t.Errorf("a 503 did nothing, so it is retried: %v, %d", err, r.count())
	}
	// GETs are retried on 5xx.
	r, c = stub(t, answer(502, `bad gateway`), answer(200, acct))
	if _, err := c.Admin.Accounts.Get("acct_1"); err != nil || r.count() != 2 {
		t.Errorf("%v, %d", err, r.count())
	}
}

func TestDroppedAnswerIsRetried(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		if n == 1 {
			// Headers promise a body that never comes: the client reads a cut answer.
			w.Header().Set("Content-Length", "100")
			w.WriteHeader(200)
			io.WriteString(w, `{"da`)
			hj, _ := w.(http.Hijacker)
			conn, _, _ := hj.Hijack()
			conn.Close()
			return
		}
		io.WriteString(w, `{"data":[],"total":0,"page":1,"per_page":20}`)
	}))
	defer srv.Close()
	c := NewClient("k", WithBaseURL(srv.URL))
	if _, err := c.Workflows.List(); err != nil {
		t.Fatal(err)
	}
	if calls != 2 {
		t.Errorf("%d calls", calls)
	}
}

// silentServer accepts connections and never answers.
func silentServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return "http://" + ln.Addr().String()
}

func TestTimeout(t *testing.T) {
	c := NewClient("k", WithBaseURL(silentServer(t)))
	start := time.Now()
	_, err := c.Workflows.List(WithTimeout(200*time.Millisecond), WithMaxRetries(0))
	el := time.Since(start)
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrTimeout) || !errors.Is(err, ErrConnection) {
		t.Fatalf("want the timeout kind, got %T %v", err, err)
	}
	if e.Status != 0 || !e.Timeout || e.Attempts != 1 {
		t.Errorf("%+v", e)
	}
	if el < 150*time.Millisecond || el > 2*time.Second {
		t.Errorf("took %v", el)
	}

	// The client's default applies too, and timeouts are retried.
	c = NewClient("k", WithBaseURL(silentServer(t)), WithTimeout(100*time.Millisecond), WithMaxRetries(1))
	_, err = c.Workflows.Get("wf_1")
	if !errors.As(err, &e) || !e.Timeout || e.Attempts != 2 {
		t.Errorf("%v", err)
	}
}

func TestCallerContextIsNotRetried(t *testing.T) {
	c := NewClient("k", WithBaseURL(silentServer(t)))
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Workflows.ListContext(ctx, nil)
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrTimeout) {
		t.Fatalf("%v", err)
	}
	var e *Error
	if errors.As(err, &e); e.Attempts != 1 || time.Since(start) > 2*time.Second {
		t.Errorf("%+v after %v", e, time.Since(start))
	}
}

func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

func TestRefusedConnectionIsRetried(t *testing.T) {
	c := NewClient("k", WithBaseURL(closedPort(t)))
	start := time.Now()
	// Even a POST without Idempotency-Key: a refused connection never reached anyone.
	_, err := c.Admin.Accounts.Create(&CreateAccountParams{Name: "a"})
	el := time.Since(start)
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrConnection) || errors.Is(err, ErrTimeout) {
		t.Fatalf("%T %v", err, err)
	}
	if e.Status != 0 || e.Attempts != 3 {
		t.Errorf("%+v", e)
	}
	// Two backoffs: 0.25–0.5 s and 0.5–1 s.
	if el < 750*time.Millisecond || el > 3*time.Second {
		t.Errorf("took %v", el)
	}
	var op *net.OpError
	if !errors.As(err, &op) {
		t.Errorf("the cause is reachable: %v", e.Err)
	}
}

func TestIterator(t *testing.T) {
	const total = 7
	var mu sync.Mutex
	var pages []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		mu.Lock()
		pages = append(pages, req.URL.RawQuery)
		mu.Unlock()
		page, perPage := 1, 20
		fmt.Sscan(req.URL.Query().Get("page"), &page)
		fmt.Sscan(req.URL.Query().Get("per_page"), &perPage)
		var data []string
		for i := (page - 1) * perPage; i < page*perPage && i < total; i++ {
			data = append(data, fmt.Sprintf(`{"id":"wf_%d","name":"w","status":"draft","trigger":{"type":"webhook"},"actions":[],"created_at":"2025-12-30T10:00:00Z","updated_at":"2025-12-30T10:00:00Z"}`, i))
		}
		fmt.Fprintf(w, `{"data":[%s],"total":%d,"page":%d,"per_page":%d}`, strings.Join(data, ","), total, page, perPage)
	}))
	defer srv.Close()
	c := NewClient("k", WithBaseURL(srv.URL))
	it := c.Workflows.Iterate(&ListWorkflowsParams{PerPage: 3, Status: WorkflowDraft})
	var ids []string
	for it.Next() {
		ids = append(ids, it.Value().ID)
	}
	if it.Err() != nil || len(ids) != total || it.Pages() != 3 {
		t.Fatalf("%v %v %d pages", it.Err(), ids, it.Pages())
	}
	if pages[0] != "page=1&per_page=3&status=draft" || pages[2] != "page=3&per_page=3&status=draft" {
		t.Errorf("queries %v", pages)
	}
	// Starting later in the list stops at the end of it too.
	pages = nil
	all, err := c.Workflows.Iterate(&ListWorkflowsParams{Page: 2, PerPage: 3}).All()
	if err != nil || len(all) != 4 || len(pages) != 2 {
		t.Errorf("%v %d items, %d pages", err, len(all), len(pages))
	}
}

func TestIteratorStopsOnEmptyPageAndErrors(t *testing.T) {
	_, c := stub(t, answer(200, `{"data":[],"total":5,"page":1,"per_page":20}`))
	it := c.Webhooks.Iterate(nil)
	if it.Next() || it.Err() != nil || it.Pages() != 1 {
		t.Error("an empty page ends the list")
	}
	_, c = stub(t, answer(404, `{"error":{"code":"not_found","message":"No such workflow"}}`))
	ex := c.Executions.Iterate("wf_x", nil)
	var e *Error
	if ex.Next() || !errors.As(ex.Err(), &e) || e.Code != "not_found" {
		t.Errorf("%v", ex.Err())
	}
}

func TestEventsSend(t *testing.T) {
	r, c := stub(t, answer(202, `{"execution_id":"exec_1","status":"queued"}`),
		answer(200, `{"execution_id":"exec_1","status":"success","duplicate":true}`))
	raw := []byte(`{"b": 1,  "a":2}`)
	acc, err := c.Events.Send("hook_1", raw, WithHeader("X-Botcadence-Signature", "abc"))
	if err != nil || acc.ExecutionID != "exec_1" || acc.Duplicate {
		t.Fatalf("%v %+v", err, acc)
	}
	req := r.requests[0]
	if req.URL.Path != "/webhooks/hook_1" || r.bodies[0] != string(raw) {
		t.Errorf("%s %q", req.URL.Path, r.bodies[0])
	}
	if req.Header.Get("Authorization") != "" {
		t.Error("events carry no API key")
	}
	if req.Header.Get("Idempotency-Key") == "" || req.Header.Get("X-Botcadence-Signature") != "abc" {
		t.Errorf("headers %v", req.Header)
	}
	// A full URL is used as given, and an object is sent as JSON.
	target := c.BaseURL() + "/webhooks/hook_2"
	acc, err = c.Events.Send(target, map[string]int{"n": 1}, WithIdempotencyKey("evt-1"))
	if err != nil || !acc.Duplicate {
		t.Fatalf("%v %+v", err, acc)
	}
	if r.requests[1].URL.Path != "/webhooks/hook_2" || r.bodies[1] != `{"n":1}` ||
		r.requests[1].Header.Get("Idempotency-Key") != "evt-1" {
		t.Errorf("%s %q", r.requests[1].URL.Path, r.bodies[1])
	}
}

func TestResponseInto(t *testing.T) {
	_, c := stub(t, answer(200, `{"secret":"whsec_x"}`, "X-RateLimit-Remaining", "41", "Idempotent-Replayed", "true"))
	var resp *http.Response
	s, err := c.SigningSecret.Rotate(WithResponseInto(&resp))
	if err != nil || s.Secret != "whsec_x" || resp == nil || resp.Header.Get("X-RateLimit-Remaining") != "41" {
		t.Fatalf("%v %v %v", err, s, resp)
	}
}

func TestUpdateAccountParamsJSON(t *testing.T) {
	for _, tc := range []struct {
		p    UpdateAccountParams
		want string
	}{
		{UpdateAccountParams{}, `{}`},
		{UpdateAccountParams{Name: "x", Plan: PlanPro}, `{"name":"x","plan":"pro"}`},
		{UpdateAccountParams{ClearLimits: true}, `{"limits":null}`},
		{UpdateAccountParams{Limits: &LimitsPatch{RequestsPerMinute: 5}}, `{"limits":{"requests_per_minute":5}}`},
	} {
		got, err := json.Marshal(&tc.p)
		if err != nil || string(got) != tc.want {
			t.Errorf("%+v → %s, want %s", tc.p, got, tc.want)
		}
	}
}

func TestVersionsAndReplaysRequests(t *testing.T) {
	r, c := stub(t, answer(200, `{"id":"rpl_1","status":"running","filter":{"status":null,"from":null,"to":null,"limit":10000}}`))
	since := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ctx := context.Background()
	changed := true
	calls := []func() error{
		func() error {
			_, err := c.WorkflowVersions.ListContext(ctx, "wf/1", &ListWorkflowVersionsParams{Page: 2, PerPage: 5})
			return err
		},
		func() error { _, err := c.WorkflowVersions.Get("wf_1", 3); return err },
		func() error {
			_, err := c.Replays.Create("wf_1", &CreateReplayParams{Status: ExecutionFailed, From: &since, Limit: 50})
			return err
		},
		func() error { _, err := c.Replays.Count("wf_1", &CreateReplayParams{To: &since}); return err },
		func() error { _, err := c.Replays.Create("wf_1", nil); return err },
		func() error { _, err := c.Replays.Get("rpl_1"); return err },
		func() error { _, err := c.Replays.Cancel("rpl_1"); return err },
		func() error {
			_, err := c.ShadowReplays.Create("wf_1", &CreateShadowReplayParams{Limit: 10, Definition: &ShadowDefinition{
				Actions: []Action{DelayAction{Config: DelayConfig{Seconds: 0}}}}})
			return err
		},
		func() error {
			_, err := c.ShadowReplays.Create("wf_1", &CreateShadowReplayParams{Version: 2}, WithIdempotencyKey("shadow-1"))
			return err
		},
		func() error { _, err := c.ShadowReplays.Get("shr_1"); return err },
		func() error { _, err := c.ShadowReplays.Cancel("shr_1"); return err },
		func() error {
			_, err := c.ShadowReplays.ResultsContext(ctx, "shr_1", &ListShadowResultsParams{Changed: &changed, PerPage: 10})
			return err
		},
	}
	for i, call := range calls {
		if err := call(); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if _, err := c.WorkflowVersions.Get("wf_1", 0); err == nil || r.count() != len(calls) {
		t.Errorf("version 0 must be refused before any request: %v", err)
	}
	want := []string{
		"GET /v1/workflows/wf%2F1/versions?page=2&per_page=5",
		"GET /v1/workflows/wf_1/versions/3",
		"POST /v1/workflows/wf_1/replays",
		"POST /v1/workflows/wf_1/replays",
		"POST /v1/workflows/wf_1/replays",
		"GET /v1/replays/rpl_1",
		"DELETE /v1/replays/rpl_1",
		"POST /v1/workflows/wf_1/shadow-replays",
		"POST /v1/workflows/wf_1/shadow-replays",
		"GET /v1/shadow-replays/shr_1",
		"DELETE /v1/shadow-replays/shr_1",
		"GET /v1/shadow-replays/shr_1/results?changed=true&per_page=10",
	}
	keys := map[string]bool{}
	for i, req := range r.requests {
		got := req.Method + " " + req.URL.EscapedPath()
		if req.URL.RawQuery != "" {
			got += "?" + req.URL.RawQuery
		}
		if got != want[i] {
			t.Errorf("request %d: %s, want %s", i, got, want[i])
		}
		// Every POST is deduplicated by the daemon: each carries a key of its own.
		key := req.Header.Get("Idempotency-Key")
		if (req.Method == "POST") != (key != "") || keys[key] && key != "" {
			t.Errorf("request %d: Idempotency-Key %q", i, key)
		}
		keys[key] = true
	}
	for i, body := range map[int]string{
		2: `{"status":"failed","from":"2026-01-02T03:04:05Z","limit":50}`,
		3: `{"to":"2026-01-02T03:04:05Z","dry_run":true}`,
		4: `{}`,
		7: `{"definition":{"actions":[{"type":"delay","config":{"seconds":0}}]},"limit":10}`,
		8: `{"version":2}`,
	} {
		if r.bodies[i] != body {
			t.Errorf("body %d: %s, want %s", i, r.bodies[i], body)
		}
	}
	if r.requests[8].Header.Get("Idempotency-Key") != "shadow-1" {
		t.Error("a caller's key is kept")
	}
}

func TestReplayAnswersDecode(t *testing.T) {
	_, c := stub(t, answer(200, `{"id":"shr_1","workflow_id":"wf_1","status":"completed","version":null,
		"definition":{"trigger":{"type":"webhook"},"actions":[{"type":"filter","config":{"condition":"n > 2"}}]},
		"filter":{"status":null,"from":null,"to":"2026-01-02T03:04:05Z","limit":1000},
		"summary":{"matched":3,"compared":3,"changed":1,"unchanged":2},
		"created_at":"2026-01-02T03:04:05Z","updated_at":"2026-01-02T03:04:06Z","finished_at":"2026-01-02T03:04:06Z","error":null}`),
		answer(200, `{"data":[{"execution_id":"exec_1","changed":true,
		"original":{"status":"success","steps":[{"index":0,"type":"filter","status":"success","output":{"passed":true}}]},
		"shadow":{"status":"failed","steps":[{"index":0,"type":"filter","status":"failed","error":"boom"}],"error":"boom"},
		"differences":[{"path":"status","original":"success","shadow":"failed"},{"path":"steps[0].output","original":{"passed":true},"shadow":null}]}],
		"total":1,"page":1,"per_page":20}`))
	sr, err := c.ShadowReplays.Get("shr_1")
	if err != nil {
		t.Fatal(err)
	}
	if !sr.Status.Finished() || sr.Version != 0 || sr.Summary.Changed != 1 || sr.Filter.Limit != 1000 ||
		sr.Filter.Status != "" || sr.Filter.From != nil || sr.Filter.To == nil || sr.FinishedAt == nil ||
		len(sr.Definition.Actions) != 1 || sr.Definition.Trigger == nil {
		t.Errorf("%+v", sr)
	}
	results, err := c.ShadowReplays.IterateResults("shr_1", nil).All()
	if err != nil || len(results) != 1 {
		t.Fatalf("%v %+v", err, results)
	}
	res := results[0]
	if !res.Changed || res.Shadow.Error != "boom" || res.Original.Steps[0].Error != "" ||
		string(res.Original.Steps[0].Output) != `{"passed":true}` || len(res.Differences) != 2 ||
		string(res.Differences[0].Shadow) != `"failed"` || string(res.Differences[1].Shadow) != "null" {
		t.Errorf("%+v", res)
	}
}
