package botcadence

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// maxRetryAfter is the longest Retry-After a call waits out by itself; a longer one (a daily
// quota, say) is returned to the caller, who knows better whether to wait that long.
const maxRetryAfter = 60 * time.Second

// Backoff bounds: 0.5 s doubling per attempt, at most 8 s, each wait drawn between half and
// all of that so that many clients refused at once do not come back at once.
const (
	backoffBase = 500 * time.Millisecond
	backoffCap  = 8 * time.Second
)

// request is one logical call: it may be sent several times.
type request struct {
	method string
	// path starts with /v1, /admin/v1, /webhooks, ...; or url is absolute (events sent to a
	// hook's URL).
	path string
	url  string
	// query holds the query parameters, if any.
	query url.Values
	// body is marshalled to JSON unless rawBody is set; both nil means no body.
	body    interface{}
	rawBody []byte
	// anonymous requests carry no Authorization header (health, metrics, events: a hook's
	// URL is its own credential, and it must not leak the API key to wherever it points).
	anonymous bool
	// idempotencyKey: POSTs the daemon deduplicates carry an Idempotency-Key, which makes
	// every retry of them safe.
	idempotencyKey bool
}

// doJSON sends req and decodes a 2xx answer's body into out (when out is not nil).
func (c *Client) doJSON(ctx context.Context, req *request, out interface{}, opts []Option) error {
	body, err := c.do(ctx, req, opts)
	if err != nil {
		return err
	}
	if out == nil || len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if s, ok := out.(*string); ok {
		*s = string(body)
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("botcadence: decoding the answer to %s %s: %w", req.method, req.path, err)
	}
	return nil
}

// do sends req, retrying as the call's configuration allows, and returns the body of the
// 2xx answer.
func (c *Client) do(ctx context.Context, req *request, opts []Option) ([]byte, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	cfg := c.callConfig(opts)

	target := req.url
	if target == "" {
		target = cfg.baseURL + req.path
	}
	if len(req.query) > 0 {
		target += "?" + req.query.Encode()
	}

	payload := req.rawBody
	if payload == nil && req.body != nil {
		var err error
		if payload, err = json.Marshal(req.body); err != nil {
			return nil, fmt.Errorf("botcadence: encoding the request body: %w", err)
		}
	}

	// One key per logical call, the same on every attempt: that is what lets the daemon
	// answer a retry with the first attempt's result instead of acting twice.
	idemKey := ""
	if req.idempotencyKey {
		idemKey = cfg.idempotencyKey
		if idemKey == "" {
			idemKey = newUUID()
		}
	}
	// Without that key, a POST retried after it may have reached the daemon could act twice;
	// it is retried only when the daemon certainly did nothing.
	replaySafe := req.method != http.MethodPost || idemKey != ""

	for attempt := 0; ; attempt++ {
		resp, body, err := c.attempt(ctx, &cfg, req, target, payload, idemKey)
		if err == nil && resp.StatusCode >= 200 && resp.StatusCode < 300 {
			if cfg.responseInto != nil {
				*cfg.responseInto = resp
			}
			return body, nil
		}

		var apiErr *Error
		retryable := false
		hasRetryAfter := false
		if err != nil {
			if ctx.Err() != nil {
				// The caller's own context ended: theirs to handle, never retried.
				return nil, &Error{Message: ctx.Err().Error(), Err: ctx.Err(),
					Timeout: errors.Is(ctx.Err(), context.DeadlineExceeded), Attempts: attempt + 1}
			}
			apiErr = &Error{Message: err.Error(), Err: err, Timeout: isTimeout(err)}
			retryable = replaySafe || notSent(err)
		} else {
			if cfg.responseInto != nil {
				*cfg.responseInto = resp
			}
			apiErr = errorFromAnswer(resp.StatusCode, resp.Header.Get("X-Request-Id"), body)
			apiErr.RetryAfter, hasRetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"))
			retryable = retryableStatus(resp.StatusCode, replaySafe) ||
				// A retry can meet its own first attempt still running on the daemon (it had
				// timed out here, not there): that is a 409 "conflict" until the first one
				// ends, after which the retry gets its answer. The body is the same on every
				// attempt, so a conflict on a retry means nothing else.
				(resp.StatusCode == http.StatusConflict && apiErr.Code == "conflict" && idemKey != "" && attempt > 0)
		}
		apiErr.Attempts = attempt + 1
		if !retryable || attempt >= cfg.maxRetries {
			return nil, apiErr
		}

		wait := backoff(attempt)
		if hasRetryAfter {
			if apiErr.RetryAfter > maxRetryAfter {
				return nil, apiErr
			}
			wait = apiErr.RetryAfter
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, &Error{Message: ctx.Err().Error(), Err: ctx.Err(),
				Timeout: errors.Is(ctx.Err(), context.DeadlineExceeded), Attempts: attempt + 1}
		case <-timer.C:
		}
	}
}

// attempt sends the request once and reads the whole answer, within the call's timeout.
func (c *Client) attempt(ctx context.Context, cfg *config, req *request, target string,
	payload []byte, idemKey string) (*http.Response, []byte, error) {
	actx := ctx
	if cfg.timeout > 0 {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(ctx, cfg.timeout)
		defer cancel()
	}

	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	hreq, err := http.NewRequestWithContext(actx, req.method, target, body)
	if err != nil {
		return nil, nil, err
	}
	for k, v := range cfg.headers {
		hreq.Header[k] = append([]string(nil), v...)
	}
	hreq.Header.Set("User-Agent", userAgent)
	if hreq.Header.Get("Accept") == "" {
		hreq.Header.Set("Accept", "application/json")
	}
	if payload != nil && hreq.Header.Get("Content-Type") == "" {
		hreq.Header.Set("Content-Type", "application/json")
	}
	if !req.anonymous && c.apiKey != "" {
		hreq.Header.Set("Authorization", "Bearer "+c.apiKey)
	}
	if idemKey != "" {
		hreq.Header.Set("Idempotency-Key", idemKey)
	}

	resp, err := cfg.httpClient.Do(hreq)
	if err != nil {
		return nil, nil, timeoutCause(actx, ctx, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		// The answer was cut short: as good as none.
		return nil, nil, timeoutCause(actx, ctx, err)
	}
	return resp, data, nil
}

// attemptTimeout is the error of an attempt that ran out of its own time (not the caller's).
type attemptTimeout struct{ cause error }

func (e *attemptTimeout) Error() string {
	return "the attempt timed out: " + e.cause.Error()
}
func (e *attemptTimeout) Unwrap() error { return e.cause }
func (e *attemptTimeout) Timeout() bool { return true }

// timeoutCause marks err as a timeout when the attempt's deadline (and not the caller's
// context) ended it, since net/http reports that as a bare "context deadline exceeded".
func timeoutCause(actx, ctx context.Context, err error) error {
	if ctx.Err() == nil && actx.Err() != nil {
		return &attemptTimeout{err}
	}
	return err
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	if errors.As(err, &t) && t.Timeout() {
		return true
	}
	return errors.Is(err, context.DeadlineExceeded)
}

// notSent reports whether the request certainly never reached the server, which makes even
// a POST without an Idempotency-Key safe to send again.
func notSent(err error) bool {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// retryableStatus: 408 (the body did not arrive), 429 and 503 (refused before anything was
// done) are safe to send again in any case; 500, 502 and 504 only when the request is
// idempotent, since the server may have acted before failing.
func retryableStatus(status int, replaySafe bool) bool {
	switch status {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusServiceUnavailable:
		return true
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusGatewayTimeout:
		return replaySafe
	}
	return false
}

// parseRetryAfter reads delay-seconds or an HTTP date.
func parseRetryAfter(v string) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs < 0 {
			secs = 0
		}
		return time.Duration(secs * float64(time.Second)), true
	}
	if at, err := http.ParseTime(v); err == nil {
		d := time.Until(at)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

// backoff is the wait before retry number attempt+1 when the answer gave no Retry-After.
func backoff(attempt int) time.Duration {
	d := backoffCap
	if attempt < 5 {
		d = backoffBase << uint(attempt)
		if d > backoffCap {
			d = backoffCap
		}
	}
	half := d / 2
	return half + time.Duration(randomFraction()*float64(half))
}

// randomFraction is uniform in [0, 1].
func randomFraction() float64 {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return 1
	}
	return float64(binary.BigEndian.Uint64(b[:])>>11) / float64(1<<53)
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		// Without randomness, a timestamp still tells this call's retries apart from others.
		binary.BigEndian.PutUint64(b[:8], uint64(time.Now().UnixNano()))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

// pathEscape escapes an id for use as one path segment.
func pathEscape(id string) string { return url.PathEscape(id) }
