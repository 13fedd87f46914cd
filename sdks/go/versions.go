package botcadence

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
)

// WorkflowVersionsService reads a workflow's versions: every change to its trigger or
// actions makes a new, immutable one. Rolling back is an update with an old version's
// trigger and actions.
type WorkflowVersionsService struct{ c *Client }

// List returns the first page of a workflow's versions, newest first; use ListContext to
// page, or Iterate to walk them all.
func (s *WorkflowVersionsService) List(workflowID string, opts ...Option) (*WorkflowVersionList, error) {
	return s.ListContext(context.Background(), workflowID, nil, opts...)
}

// ListContext returns one page of a workflow's versions, newest first (params may be nil).
func (s *WorkflowVersionsService) ListContext(ctx context.Context, workflowID string, params *ListWorkflowVersionsParams, opts ...Option) (*WorkflowVersionList, error) {
	out := new(WorkflowVersionList)
	q := url.Values{}
	if params != nil {
		pageQuery(q, params.Page, params.PerPage)
	}
	err := s.c.doJSON(ctx, &request{method: "GET",
		path: "/v1/workflows/" + pathEscape(workflowID) + "/versions", query: q}, out, opts)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Iterate walks every version of a workflow, newest first (params may be nil).
func (s *WorkflowVersionsService) Iterate(workflowID string, params *ListWorkflowVersionsParams, opts ...Option) *Iterator[WorkflowVersion] {
	return s.IterateContext(context.Background(), workflowID, params, opts...)
}

// IterateContext walks every version of a workflow within ctx.
func (s *WorkflowVersionsService) IterateContext(ctx context.Context, workflowID string, params *ListWorkflowVersionsParams, opts ...Option) *Iterator[WorkflowVersion] {
	p := ListWorkflowVersionsParams{}
	if params != nil {
		p = *params
	}
	return newIterator(ctx, p.Page, func(ctx context.Context, page int) ([]WorkflowVersion, int64, int64, error) {
		p.Page = page
		list, err := s.ListContext(ctx, workflowID, &p, opts...)
		if err != nil {
			return nil, 0, 0, err
		}
		return list.Data, list.Total, list.PerPage, nil
	})
}

// Get returns one version of a workflow (1 is the definition it was created with).
func (s *WorkflowVersionsService) Get(workflowID string, version int64, opts ...Option) (*WorkflowVersion, error) {
	return s.GetContext(context.Background(), workflowID, version, opts...)
}

// GetContext returns one version of a workflow.
func (s *WorkflowVersionsService) GetContext(ctx context.Context, workflowID string, version int64, opts ...Option) (*WorkflowVersion, error) {
	if version < 1 {
		return nil, fmt.Errorf("botcadence: workflow version %d: versions start at 1", version)
	}
	out := new(WorkflowVersion)
	err := s.c.doJSON(ctx, &request{method: "GET",
		path: "/v1/workflows/" + pathEscape(workflowID) + "/versions/" + strconv.FormatInt(version, 10)}, out, opts)
	if err != nil {
		return nil, err
	}
	return out, nil
}
