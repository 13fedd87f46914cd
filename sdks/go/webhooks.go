package botcadence

import (
	"context"
	"net/url"
)

// WebhooksService manages the URLs that receive events for a workflow.
type WebhooksService struct{ c *Client }

// List returns the first page of webhooks; use ListContext to page, or Iterate.
func (s *WebhooksService) List(opts ...Option) (*WebhookList, error) {
	return s.ListContext(context.Background(), nil, opts...)
}

// ListContext returns one page of webhooks (params may be nil).
func (s *WebhooksService) ListContext(ctx context.Context, params *ListWebhooksParams, opts ...Option) (*WebhookList, error) {
	out := new(WebhookList)
	q := url.Values{}
	if params != nil {
		pageQuery(q, params.Page, params.PerPage)
		if params.WorkflowID != "" {
			q.Set("workflow_id", params.WorkflowID)
		}
	}
	err := s.c.doJSON(ctx, &request{method: "GET", path: "/v1/webhooks", query: q}, out, opts)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Iterate walks every webhook, page after page (params may be nil).
func (s *WebhooksService) Iterate(params *ListWebhooksParams, opts ...Option) *Iterator[Webhook] {
	return s.IterateContext(context.Background(), params, opts...)
}

// IterateContext walks every webhook within ctx.
func (s *WebhooksService) IterateContext(ctx context.Context, params *ListWebhooksParams, opts ...Option) *Iterator[Webhook] {
	p := ListWebhooksParams{}
	if params != nil {
		p = *params
	}
	return newIterator(ctx, p.Page, func(ctx context.Context, page int) ([]Webhook, int64, int64, error) {
		p.Page = page
		list, err := s.ListContext(ctx, &p, opts...)
		if err != nil {
			return nil, 0, 0, err
		}
		return list.Data, list.Total, list.PerPage, nil
	})
}

// Create creates a webhook for a workflow; the answer holds its URL and, this once, its
// secret.
func (s *WebhooksService) Create(params *CreateWebhookParams, opts ...Option) (*Webhook, error) {
	return s.CreateContext(context.Background(), params, opts...)
}

// CreateContext creates a webhook (with an Idempotency-Key: retries create one only).
func (s *WebhooksService) CreateContext(ctx context.Context, params *CreateWebhookParams, opts ...Option) (*Webhook, error) {
	out := new(Webhook)
	err := s.c.doJSON(ctx, &request{method: "POST", path: "/v1/webhooks", body: bodyOf(params),
		idempotencyKey: true}, out, opts)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Get returns a webhook (without its secret).
func (s *WebhooksService) Get(id string, opts ...Option) (*Webhook, error) {
	return s.GetContext(context.Background(), id, opts...)
}

// GetContext returns a webhook (without its secret).
func (s *WebhooksService) GetContext(ctx context.Context, id string, opts ...Option) (*Webhook, error) {
	out := new(Webhook)
	err := s.c.doJSON(ctx, &request{method: "GET", path: "/v1/webhooks/" + pathEscape(id)}, out, opts)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Delete deletes a webhook.
func (s *WebhooksService) Delete(id string, opts ...Option) error {
	return s.DeleteContext(context.Background(), id, opts...)
}

// DeleteContext deletes a webhook.
func (s *WebhooksService) DeleteContext(ctx context.Context, id string, opts ...Option) error {
	return s.c.doJSON(ctx, &request{method: "DELETE", path: "/v1/webhooks/" + pathEscape(id)}, nil, opts)
}
