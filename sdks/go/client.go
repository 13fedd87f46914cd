package botcadence

import (
	"net/http"
	"os"
	"runtime"
	"strings"
	"time"
)

// Version is this package's version; it is sent in the User-Agent header.
const Version = "0.1.0"

const (
	// DefaultBaseURL is used when neither WithBaseURL nor BOTCADENCE_BASE_URL is set.
	DefaultBaseURL = "https://api.botcadence.com"
	// DefaultTimeout bounds each attempt of a call unless WithTimeout says otherwise.
	DefaultTimeout = 30 * time.Second
	// DefaultMaxRetries is how many times a call is retried after its first attempt.
	DefaultMaxRetries = 2
	// BaseURLEnv names the environment variable read for the base URL.
	BaseURLEnv = "BOTCADENCE_BASE_URL"
)

// userAgent is computed once: it cannot change while the process runs.
var userAgent = "botcadence-go/" + Version + " (" + runtime.Version() + ")"

// UserAgent returns the User-Agent header this package sends.
func UserAgent() string { return userAgent }

// Client calls the Botcadence API. It is safe for concurrent use. Its services group the
// operations as the API reference does.
type Client struct {
	Workflows        *WorkflowsService
	WorkflowVersions *WorkflowVersionsService
	Executions       *ExecutionsService
	Replays          *ReplaysService
	ShadowReplays    *ShadowReplaysService
	Webhooks         *WebhooksService
	APIKeys          *APIKeysService
	SigningSecret    *SigningSecretService
	Events           *EventsService
	System           *SystemService
	// Admin is the operator API: create the client with the admin token as its key.
	Admin *AdminService

	apiKey   string
	defaults config
}

// config holds what an Option may set, for the client as a whole or for one call.
type config struct {
	baseURL        string
	timeout        time.Duration
	maxRetries     int
	httpClient     *http.Client
	headers        http.Header
	idempotencyKey string
	responseInto   **http.Response
}

// Option configures a Client (in NewClient) or one call (as the last arguments of any
// method). A call's options override the client's.
type Option func(*config)

// WithBaseURL sets the API's address, e.g. "http://127.0.0.1:8080" or
// "https://api.botcadence.com/v1" (a trailing "/" or "/v1" is ignored).
func WithBaseURL(u string) Option {
	return func(c *config) {
		if n := normalizeBaseURL(u); n != "" {
			c.baseURL = n
		}
	}
}

// WithTimeout bounds each attempt of a call (connecting, sending and reading the whole
// answer). Zero or less means no bound beyond the call's context.
func WithTimeout(d time.Duration) Option {
	return func(c *config) { c.timeout = d }
}

// WithMaxRetries sets how many times a failed attempt is retried (0: never).
func WithMaxRetries(n int) Option {
	return func(c *config) {
		if n < 0 {
			n = 0
		}
		c.maxRetries = n
	}
}

// WithHTTPClient sends requests through hc (for a proxy, custom TLS or instrumentation).
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) {
		if hc != nil {
			c.httpClient = hc
		}
	}
}

// WithHeader adds a header to the request(s).
func WithHeader(key, value string) Option {
	return func(c *config) {
		h := make(http.Header, len(c.headers)+1)
		for k, v := range c.headers {
			h[k] = append([]string(nil), v...)
		}
		h.Add(key, value)
		c.headers = h
	}
}

// WithHeaders adds every header of h, e.g. those SignStandardWebhook returns.
func WithHeaders(h http.Header) Option {
	return func(c *config) {
		for k, vs := range h {
			for _, v := range vs {
				WithHeader(k, v)(c)
			}
		}
	}
}

// WithIdempotencyKey sets the Idempotency-Key of one POST call, instead of the random one
// the call would otherwise send; it is the same on every retry of the call. It has no
// effect when given to NewClient: one key for every request would make distinct requests
// collide.
func WithIdempotencyKey(key string) Option {
	return func(c *config) { c.idempotencyKey = key }
}

// WithResponseInto stores the final HTTP response of a call in *dst (its body is already
// read and closed), for its headers: X-Request-Id, X-RateLimit-*, Idempotent-Replayed.
func WithResponseInto(dst **http.Response) Option {
	return func(c *config) { c.responseInto = dst }
}

// NewClient returns a client that authenticates with apiKey (an API key, or the admin token
// for the operator API).
func NewClient(apiKey string, opts ...Option) *Client {
	cfg := config{
		timeout:    DefaultTimeout,
		maxRetries: DefaultMaxRetries,
		httpClient: &http.Client{},
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.baseURL == "" {
		if env := os.Getenv(BaseURLEnv); env != "" {
			cfg.baseURL = normalizeBaseURL(env)
		} else {
			cfg.baseURL = DefaultBaseURL
		}
	}
	cfg.idempotencyKey = ""
	cfg.responseInto = nil

	c := &Client{apiKey: apiKey, defaults: cfg}
	c.Workflows = &WorkflowsService{c}
	c.WorkflowVersions = &WorkflowVersionsService{c}
	c.Executions = &ExecutionsService{c}
	c.Replays = &ReplaysService{c}
	c.ShadowReplays = &ShadowReplaysService{c}
	c.Webhooks = &WebhooksService{c}
	c.APIKeys = &APIKeysService{c}
	c.SigningSecret = &SigningSecretService{c}
	c.Events = &EventsService{c}
	c.System = &SystemService{c}
	c.Admin = &AdminService{Accounts: &AccountsService{c}, APIKeys: &AdminAPIKeysService{c}}
	return c
}

// BaseURL returns the address the client calls, normalised (no trailing "/" or "/v1").
func (c *Client) BaseURL() string { return c.defaults.baseURL }

// normalizeBaseURL strips what the reference's spelling adds: the paths of every operation
// already start with /v1, /admin/v1 or /webhooks.
func normalizeBaseURL(u string) string {
	u = strings.TrimSpace(u)
	for {
		trimmed := strings.TrimSuffix(u, "/")
		trimmed = strings.TrimSuffix(trimmed, "/v1")
		if trimmed == u {
			return u
		}
		u = trimmed
	}
}

// callConfig merges a call's options over the client's defaults.
func (c *Client) callConfig(opts []Option) config {
	cfg := c.defaults
	for _, o := range opts {
		o(&cfg)
	}
	return cfg
}
