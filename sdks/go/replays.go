package botcadence

import (
	"context"
	"net/url"
	"strconv"
)

// ReplaysService runs the inputs of a workflow's past executions again, in the background:
// a bulk replay.
type ReplaysService struct{ c *Client }

// replayBody is the body of createReplay: the filters, and dry_run for Count.
type replayBody struct {
	*CreateReplayParams
	DryRun bool `json:"dry_run,omitempty"`
}

// Create starts replaying the executions params selects (nil: the default limit, any
// finished status, any time); follow it with Get. The workflow must be active.
func (s *ReplaysService) Create(workflowID string, params *CreateReplayParams, opts ...Option) (*Replay, error) {
	return s.CreateContext(context.Background(), workflowID, params, opts...)
}

// CreateContext starts a bulk replay. It carries an Idempotency-Key, so a retry after a lost
// answer does not start a second one.
func (s *ReplaysService) CreateContext(ctx context.Context, workflowID string, params *CreateReplayParams, opts ...Option) (*Replay, error) {
	out := new(Replay)
	err := s.c.doJSON(ctx, &request{method: "POST", path: "/v1/workflows/" + pathEscape(workflowID) + "/replays",
		body: replayBody{CreateReplayParams: params}, idempotencyKey: true}, out, opts)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Count is Create as a dry run: how many executions it would replay. Nothing is started.
func (s *ReplaysService) Count(workflowID string, params *CreateReplayParams, opts ...Option) (*ReplayCount, error) {
	return s.CountContext(context.Background(), workflowID, params, opts...)
}

// CountContext is CreateContext as a dry run (createReplay with dry_run).
func (s *ReplaysService) CountContext(ctx context.Context, workflowID string, params *CreateReplayParams, opts ...Option) (*ReplayCount, error) {
	out := new(ReplayCount)
	err := s.c.doJSON(ctx, &request{method: "POST", path: "/v1/workflows/" + pathEscape(workflowID) + "/replays",
		body: replayBody{CreateReplayParams: params, DryRun: true}, idempotencyKey: true}, out, opts)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Get returns a replay's progress.
func (s *ReplaysService) Get(id string, opts ...Option) (*Replay, error) {
	return s.GetContext(context.Background(), id, opts...)
}

// GetContext returns a replay's progress.
func (s *ReplaysService) GetContext(ctx context.Context, id string, opts ...Option) (*Replay, error) {
	out := new(Replay)
	err := s.c.doJSON(ctx, &request{method: "GET", path: "/v1/replays/" + pathEscape(id)}, out, opts)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Cancel stops a running replay and returns it; a finished one is returned unchanged.
func (s *ReplaysService) Cancel(id string, opts ...Option) (*Replay, error) {
	return s.CancelContext(context.Background(), id, opts...)
}

// CancelContext stops a running replay and returns it.
func (s *ReplaysService) CancelContext(ctx context.Context, id string, opts ...Option) (*Replay, error) {
	out := new(Replay)
	err := s.c.doJSON(ctx, &request{method: "DELETE", path: "/v1/replays/" + pathEscape(id)}, out, opts)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ShadowReplaysService runs the inputs of a workflow's past executions through another
// definition and compares each run with what the original did.
type ShadowReplaysService struct{ c *Client }

// Create starts a shadow replay of params.Definition or params.Version (exactly one).
func (s *ShadowReplaysService) Create(workflowID string, params *CreateShadowReplayParams, opts ...Option) (*ShadowReplay, error) {
	return s.CreateContext(context.Background(), workflowID, params, opts...)
}

// CreateContext starts a shadow replay. It carries an Idempotency-Key, so a retry after a
// lost answer does not start a second one.
func (s *ShadowReplaysService) CreateContext(ctx context.Context, workflowID string, params *CreateShadowReplayParams, opts ...Option) (*ShadowReplay, error) {
	out := new(ShadowReplay)
	err := s.c.doJSON(ctx, &request{method: "POST", path: "/v1/workflows/" + pathEscape(workflowID) + "/shadow-replays",
		body: bodyOf(params), idempotencyKey: true}, out, opts)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Get returns a shadow replay's state and summary.
func (s *ShadowReplaysService) Get(id string, opts ...Option) (*ShadowReplay, error) {
	return s.GetContext(context.Background(), id, opts...)
}

// GetContext returns a shadow replay's state and summary.
func (s *ShadowReplaysService) GetContext(ctx context.Context, id string, opts ...Option) (*ShadowReplay, error) {
	out := new(ShadowReplay)
	err := s.c.doJSON(ctx, &request{method: "GET", path: "/v1/shadow-replays/" + pathEscape(id)}, out, opts)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Cancel stops a running shadow replay and returns it; a finished one is returned unchanged.
func (s *ShadowReplaysService) Cancel(id string, opts ...Option) (*ShadowReplay, error) {
	return s.CancelContext(context.Background(), id, opts...)
}

// CancelContext stops a running shadow replay and returns it.
func (s *ShadowReplaysService) CancelContext(ctx context.Context, id string, opts ...Option) (*ShadowReplay, error) {
	out := new(ShadowReplay)
	err := s.c.doJSON(ctx, &request{method: "DELETE", path: "/v1/shadow-replays/" + pathEscape(id)}, out, opts)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Results returns the first page of a shadow replay's results, changed ones first; use
// ResultsContext to filter and page, or IterateResults to walk them all.
func (s *ShadowReplaysService) Results(id string, opts ...Option) (*ShadowResultList, error) {
	return s.ResultsContext(context.Background(), id, nil, opts...)
}

// ResultsContext returns one page of a shadow replay's results (params may be nil).
func (s *ShadowReplaysService) ResultsContext(ctx context.Context, id string, params *ListShadowResultsParams, opts ...Option) (*ShadowResultList, error) {
	out := new(ShadowResultList)
	q := url.Values{}
	if params != nil {
		pageQuery(q, params.Page, params.PerPage)
		if params.Changed != nil {
			q.Set("changed", strconv.FormatBool(*params.Changed))
		}
	}
	err := s.c.doJSON(ctx, &request{method: "GET",
		path: "/v1/shadow-replays/" + pathEscape(id) + "/results", query: q}, out, opts)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// IterateResults walks every result of a shadow replay (matching params, which may be nil).
func (s *ShadowReplaysService) IterateResults(id string, params *ListShadowResultsParams, opts ...Option) *Iterator[ShadowResult] {
	return s.IterateResultsContext(context.Background(), id, params, opts...)
}

// IterateResultsContext walks every result of a shadow replay within ctx.
func (s *ShadowReplaysService) IterateResultsContext(ctx context.Context, id string, params *ListShadowResultsParams, opts ...Option) *Iterator[ShadowResult] {
	p := ListShadowResultsParams{}
	if params != nil {
		p = *params
	}
	return newIterator(ctx, p.Page, func(ctx context.Context, page int) ([]ShadowResult, int64, int64, error) {
		p.Page = page
		list, err := s.ResultsContext(ctx, id, &p, opts...)
		if err != nil {
			return nil, 0, 0, err
		}
		return list.Data, list.Total, list.PerPage, nil
	})
}
