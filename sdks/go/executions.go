package botcadence

import (
	"context"
	"net/url"
	"time"
)

// ExecutionsService reads what each event did, step by step, and replays executions.
type ExecutionsService struct{ c *Client }

// List returns the first page of a workflow's executions, newest first; use ListContext to
// filter and page, or Iterate to walk them all.
func (s *ExecutionsService) List(workflowID string, opts ...Option) (*ExecutionList, error) {
	return s.ListContext(context.Background(), workflowID, nil, opts...)
}

// ListContext returns one page of a workflow's executions, newest first (params may be nil).
func (s *ExecutionsService) ListContext(ctx context.Context, workflowID string, params *ListExecutionsParams, opts ...Option) (*ExecutionList, error) {
	out := new(ExecutionList)
	q := url.Values{}
	if params != nil {
		pageQuery(q, params.Page, params.PerPage)
		if params.Status != "" {
			q.Set("status", string(params.Status))
		}
		if !params.From.IsZero() {
			q.Set("from", params.From.UTC().Format(time.RFC3339Nano))
		}
		if !params.To.IsZero() {
			q.Set("to", params.To.UTC().Format(time.RFC3339Nano))
		}
	}
	err := s.c.doJSON(ctx, &request{method: "GET",
		path: "/v1/workflows/" + pathEscape(workflowID) + "/executions", query: q}, out, opts)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Iterate walks every execution of a workflow (matching params, which may be nil).
func (s *ExecutionsService) Iterate(workflowID string, params *ListExecutionsParams, opts ...Option) *Iterator[ExecutionSummary] {
	return s.IterateContext(context.Background(), workflowID, params, opts...)
}

// IterateContext walks every execution of a workflow within ctx.
func (s *ExecutionsService) IterateContext(ctx context.Context, workflowID string, params *ListExecutionsParams, opts ...Option) *Iterator[ExecutionSummary] {
	p := ListExecutionsParams{}
	if params != nil {
		p = *params
	}
	return newIterator(ctx, p.Page, func(ctx context.Context, page int) ([]ExecutionSummary, int64, int64, error) {
		p.Page = page
		list, err := s.ListContext(ctx, workflowID, &p, opts...)
		if err != nil {
			return nil, 0, 0, err
		}
		return list.Data, list.Total, list.PerPage, nil
	})
}

// Get returns an execution with its steps.
func (s *ExecutionsService) Get(id string, opts ...Option) (*Execution, error) {
	return s.GetContext(context.Background(), id, opts...)
}

// GetContext returns an execution with its steps.
func (s *ExecutionsService) GetContext(ctx context.Context, id string, opts ...Option) (*Execution, error) {
	out := new(Execution)
	err := s.c.doJSON(ctx, &request{method: "GET", path: "/v1/executions/" + pathEscape(id)}, out, opts)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Replay runs an execution's input again as a new execution, which it returns (its
// ReplayOf names the original); the workflow must be active.
func (s *ExecutionsService) Replay(id string, opts ...Option) (*Execution, error) {
	return s.ReplayContext(context.Background(), id, opts...)
}

// ReplayContext runs an execution's input again. It carries an Idempotency-Key, so a retry
// after a lost answer does not replay twice.
func (s *ExecutionsService) ReplayContext(ctx context.Context, id string, opts ...Option) (*Execution, error) {
	out := new(Execution)
	err := s.c.doJSON(ctx, &request{method: "POST", path: "/v1/executions/" + pathEscape(id) + "/replay",
		idempotencyKey: true}, out, opts)
	if err != nil {
		return nil, err
	}
	return out, nil
}
