package botcadence

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Payload is a webhook body: raw bytes or a string (the exact bytes that were signed).
type Payload interface {
	~[]byte | ~string
}

// ComputeSignature returns the X-Botcadence-Signature of payload: the lowercase hex
// HMAC-SHA256 of its bytes, keyed with the secret's text as given ("whsec_…" included).
func ComputeSignature[P Payload](payload P, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(payload))
	return hex.EncodeToString(mac.Sum(nil))
}

// VerifySignature checks an X-Botcadence-Signature header as the API reference's
// verifySignature does: the HMAC-SHA256 of the raw payload keyed with the secret's text,
// as lowercase hex, compared in constant time. It returns false (never panics) for a
// signature of the wrong length or one that is not that hex.
func VerifySignature[P Payload](payload P, signature, secret string) bool {
	expected := ComputeSignature(payload, secret)
	return subtle.ConstantTimeCompare([]byte(signature), []byte(expected)) == 1
}

// DefaultWebhookTolerance is how far a webhook-timestamp may be from now, either way.
const DefaultWebhookTolerance = 5 * time.Minute

// WebhookVerificationError is the error of VerifyStandardWebhook; compare it with the
// ErrWebhook* values using errors.Is.
type WebhookVerificationError struct{ reason string }

func (e *WebhookVerificationError) Error() string { return "botcadence: webhook " + e.reason }

// The reasons VerifyStandardWebhook fails.
var (
	ErrWebhookMissingHeaders      = &WebhookVerificationError{"missing webhook-id, webhook-timestamp or webhook-signature header"}
	ErrWebhookInvalidSecret       = &WebhookVerificationError{"secret is not whsec_ followed by base64"}
	ErrWebhookInvalidTimestamp    = &WebhookVerificationError{"timestamp is not a number of seconds"}
	ErrWebhookTimestampTooOld     = &WebhookVerificationError{"timestamp is too old"}
	ErrWebhookTimestampTooNew     = &WebhookVerificationError{"timestamp is too far in the future"}
	ErrWebhookNoMatchingSignature = &WebhookVerificationError{"signature does not match"}
)

// VerifyOption adjusts VerifyStandardWebhook.
type VerifyOption func(*verifyConfig)

type verifyConfig struct {
	tolerance time.Duration
	now       time.Time
}

// WithTolerance sets how far the timestamp may be from now (DefaultWebhookTolerance).
func WithTolerance(d time.Duration) VerifyOption {
	return func(c *verifyConfig) { c.tolerance = d }
}

// WithNow sets the time to check the timestamp against (for tests and replays of stored
// deliveries).
func WithNow(t time.Time) VerifyOption {
	return func(c *verifyConfig) { c.now = t }
}

// VerifyStandardWebhook checks the Standard Webhooks headers of a delivery (webhook-id,
// webhook-timestamp, webhook-signature; looked up without regard to case) against the raw
// payload and a "whsec_…" secret, as the official libraries do: the signature is the base64
// HMAC-SHA256 of "id.timestamp.payload" keyed with the base64-decoded secret, and any one of
// the header's space-separated "v1,<base64>" entries may match. It returns nil or a
// *WebhookVerificationError.
func VerifyStandardWebhook[P Payload](payload P, headers http.Header, secret string, opts ...VerifyOption) error {
	cfg := verifyConfig{tolerance: DefaultWebhookTolerance}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.now.IsZero() {
		cfg.now = time.Now()
	}
	id := headerValue(headers, "webhook-id")
	ts := headerValue(headers, "webhook-timestamp")
	sigs := headerValue(headers, "webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return ErrWebhookMissingHeaders
	}
	key, err := standardWebhookKey(secret)
	if err != nil {
		return err
	}
	secs, err := strconv.ParseInt(strings.TrimSpace(ts), 10, 64)
	if err != nil {
		return ErrWebhookInvalidTimestamp
	}
	at := time.Unix(secs, 0)
	if cfg.now.Sub(at) > cfg.tolerance {
		return ErrWebhookTimestampTooOld
	}
	if at.Sub(cfg.now) > cfg.tolerance {
		return ErrWebhookTimestampTooNew
	}
	expected := []byte(standardSignature(key, id, ts, []byte(payload)))
	for _, entry := range strings.Fields(sigs) {
		version, sig, ok := strings.Cut(entry, ",")
		if !ok || version != "v1" {
			continue
		}
		if subtle.ConstantTimeCompare([]byte(sig), expected) == 1 {
			return nil
		}
	}
	return ErrWebhookNoMatchingSignature
}

// SignStandardWebhook returns the Standard Webhooks headers for payload, signed with a
// "whsec_…" secret, as the official libraries sign: for posting events to a hook created
// with verify "hmac_sha256", or for testing a receiver.
func SignStandardWebhook[P Payload](payload P, secret, msgID string, timestamp time.Time) (http.Header, error) {
	key, err := standardWebhookKey(secret)
	if err != nil {
		return nil, err
	}
	ts := strconv.FormatInt(timestamp.Unix(), 10)
	h := http.Header{}
	h.Set("webhook-id", msgID)
	h.Set("webhook-timestamp", ts)
	h.Set("webhook-signature", "v1,"+standardSignature(key, msgID, ts, []byte(payload)))
	return h, nil
}

func standardSignature(key []byte, id, ts string, payload []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id))
	mac.Write([]byte{'.'})
	mac.Write([]byte(ts))
	mac.Write([]byte{'.'})
	mac.Write(payload)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// standardWebhookKey is the key a Standard Webhooks secret stands for: the bytes of the
// base64 after "whsec_".
func standardWebhookKey(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil || len(key) == 0 {
		return nil, ErrWebhookInvalidSecret
	}
	return key, nil
}

// headerValue looks a header up without regard to case, also in maps filled by hand with
// keys net/http did not canonicalise ("webhook-id").
func headerValue(h http.Header, name string) string {
	if v := h.Get(name); v != "" {
		return v
	}
	for k, vs := range h {
		if strings.EqualFold(k, name) && len(vs) > 0 {
			return vs[0]
		}
	}
	return ""
}
