package botcadence

import (
	"context"
	"net/url"
	"strconv"
)

// WorkflowsService manages workflows: a trigger and the actions it runs.
type WorkflowsService struct{ c *Client }

// List returns the first page of workflows (the daemon's default page size); use
// ListContext to filter and page, or Iterate to walk them all.
func (s *WorkflowsService) List(opts ...Option) (*WorkflowList, error) {
	return s.ListContext(context.Background(), nil, opts...)
}

// ListContext returns one page of workflows (params may be nil).
func (s *WorkflowsService) ListContext(ctx context.Context, params *ListWorkflowsParams, opts ...Option) (*WorkflowList, error) {
	out := new(WorkflowList)
	q := url.Values{}
	if params != nil {
		pageQuery(q, params.Page, params.PerPage)
		if params.Status != "" {
			q.Set("status", string(params.Status))
		}
	}
	err := s.c.doJSON(ctx, &request{method: "GET", path: "/v1/workflows", query: q}, out, opts)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Iterate walks every workflow, page after page (params may be nil).
func (s *WorkflowsService) Iterate(params *ListWorkflowsParams, opts ...Option) *Iterator[Workflow] {
	return s.IterateContext(context.Background(), params, opts...)
}

// IterateContext walks every workflow, page after page, within ctx.
func (s *WorkflowsService) IterateContext(ctx context.Context, params *ListWorkflowsParams, opts ...Option) *Iterator[Workflow] {
	p := ListWorkflowsParams{}
	if params != nil {
		p = *params
	}
	return newIterator(ctx, p.Page, func(ctx context.Context, page int) ([]Workflow, int64, int64, error) {
		p.Page = page
		list, err := s.ListContext(ctx, &p, opts...)
		if err != nil {
			return nil, 0, 0, err
		}
		return list.Data, list.Total, list.PerPage, nil
	})
}

// Create creates a workflow ("draft" unless params.Status says otherwise).
func (s *WorkflowsService) Create(params *CreateWorkflowParams, opts ...Option) (*Workflow, error) {
	return s.CreateContext(context.Background(), params, opts...)
}

// CreateContext creates a workflow. It carries an Idempotency-Key, so retrying it after a
// lost answer never creates a second one.
func (s *WorkflowsService) CreateContext(ctx context.Context, params *CreateWorkflowParams, opts ...Option) (*Workflow, error) {
	out := new(Workflow)
	err := s.c.doJSON(ctx, &request{method: "POST", path: "/v1/workflows", body: bodyOf(params),
		idempotencyKey: true}, out, opts)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Get returns a workflow.
func (s *WorkflowsService) Get(id string, opts ...Option) (*Workflow, error) {
	return s.GetContext(context.Background(), id, opts...)
}

// GetContext returns a workflow.
func (s *WorkflowsService) GetContext(ctx context.Context, id string, opts ...Option) (*Workflow, error) {
	out := new(Workflow)
	err := s.c.doJSON(ctx, &request{method: "GET", path: "/v1/workflows/" + pathEscape(id)}, out, opts)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Update changes the fields set in params.
func (s *WorkflowsService) Update(id string, params *UpdateWorkflowParams, opts ...Option) (*Workflow, error) {
	return s.UpdateContext(context.Background(), id, params, opts...)
}

// UpdateContext changes the fields set in params.
func (s *WorkflowsService) UpdateContext(ctx context.Context, id string, params *UpdateWorkflowParams, opts ...Option) (*Workflow, error) {
	out := new(Workflow)
	err := s.c.doJSON(ctx, &request{method: "PATCH", path: "/v1/workflows/" + pathEscape(id),
		body: bodyOf(params)}, out, opts)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Delete deletes a workflow with its webhooks.
func (s *WorkflowsService) Delete(id string, opts ...Option) error {
	return s.DeleteContext(context.Background(), id, opts...)
}

// DeleteContext deletes a workflow with its webhooks.
func (s *WorkflowsService) DeleteContext(ctx context.Context, id string, opts ...Option) error {
	return s.c.doJSON(ctx, &request{method: "DELETE", path: "/v1/workflows/" + pathEscape(id)}, nil, opts)
}

// pageQuery adds page and per_page when set.
func pageQuery(q url.Values, page, perPage int) {
	if page > 0 {
		q.Set("page", strconv.Itoa(page))
	}
	if perPage > 0 {
		q.Set("per_page", strconv.Itoa(perPage))
	}
}

// bodyOf keeps a nil params pointer from being sent as the JSON "null": an empty object is
// what "nothing set" means to every operation.
func bodyOf[T any](params *T) interface{} {
	if params == nil {
		return struct{}{}
	}
	return params
}
