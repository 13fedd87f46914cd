package botcadence

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// EventsService posts events to webhooks.
type EventsService struct{ c *Client }

// Send posts an event to a webhook, given by its id ("hook_…") or its full URL.
//
// payload is sent exactly as given when it is a []byte, json.RawMessage, string or
// io.Reader (what a signature was computed over must reach the daemon unchanged), and as
// JSON otherwise. The call carries an Idempotency-Key (WithIdempotencyKey to choose it):
// a retry after a lost answer gets the first execution back (Duplicate true), and nothing
// runs twice. Signature headers for hooks created with verify "hmac_sha256" go in
// WithHeader, e.g. WithHeader("X-Botcadence-Signature", ComputeSignature(body, secret)).
// No API key is sent: the hook's URL is its credential.
func (s *EventsService) Send(hookIDOrURL string, payload interface{}, opts ...Option) (*Accepted, error) {
	return s.SendContext(context.Background(), hookIDOrURL, payload, opts...)
}

// SendContext is Send within ctx.
func (s *EventsService) SendContext(ctx context.Context, hookIDOrURL string, payload interface{}, opts ...Option) (*Accepted, error) {
	raw, err := eventBody(payload)
	if err != nil {
		return nil, err
	}
	req := &request{method: "POST", rawBody: raw, anonymous: true, idempotencyKey: true}
	if strings.HasPrefix(hookIDOrURL, "http://") || strings.HasPrefix(hookIDOrURL, "https://") {
		req.url = hookIDOrURL
		req.path = hookIDOrURL
	} else {
		req.path = "/webhooks/" + pathEscape(hookIDOrURL)
	}
	out := new(Accepted)
	if err := s.c.doJSON(ctx, req, out, opts); err != nil {
		return nil, err
	}
	return out, nil
}

func eventBody(payload interface{}) ([]byte, error) {
	switch p := payload.(type) {
	case []byte:
		return append([]byte{}, p...), nil
	case json.RawMessage:
		return append([]byte{}, p...), nil
	case string:
		return []byte(p), nil
	case io.Reader:
		// Read once: every retry must send the same bytes.
		b, err := io.ReadAll(p)
		if err != nil {
			return nil, fmt.Errorf("botcadence: reading the event: %w", err)
		}
		return b, nil
	}
	b, err := json.Marshal(payload)
	if err != nil {
		return nil, fmt.Errorf("botcadence: encoding the event: %w", err)
	}
	return b, nil
}
