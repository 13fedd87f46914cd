package botcadence

import "context"

// Iterator walks a list page after page, fetching the next page only when the previous one
// is used up, until the list's total is reached or a page comes back empty.
//
//	it := client.Workflows.Iterate(&botcadence.ListWorkflowsParams{PerPage: 50})
//	for it.Next() {
//		wf := it.Value()
//		...
//	}
//	if err := it.Err(); err != nil { ... }
type Iterator[T any] struct {
	ctx   context.Context
	fetch func(ctx context.Context, page int) (items []T, total, perPage int64, err error)

	page  int // the next page to fetch
	buf   []T
	idx   int
	cur   T
	err   error
	done  bool
	pages int
}

func newIterator[T any](ctx context.Context, firstPage int,
	fetch func(ctx context.Context, page int) ([]T, int64, int64, error)) *Iterator[T] {
	if ctx == nil {
		ctx = context.Background()
	}
	if firstPage < 1 {
		firstPage = 1
	}
	return &Iterator[T]{ctx: ctx, fetch: fetch, page: firstPage}
}

// Next advances to the next item, fetching a page when needed; it returns false at the end
// of the list or on an error (see Err).
func (it *Iterator[T]) Next() bool {
	for {
		if it.idx < len(it.buf) {
			it.cur = it.buf[it.idx]
			it.idx++
			return true
		}
		if it.done || it.err != nil {
			return false
		}
		items, total, perPage, err := it.fetch(it.ctx, it.page)
		if err != nil {
			it.err = err
			return false
		}
		it.pages++
		it.buf, it.idx = items, 0
		// Items up to the end of this page: when the total is reached there is no next page
		// to ask for. The answer's per_page is the one in force, whatever was asked.
		if perPage <= 0 {
			perPage = int64(len(items))
		}
		reached := int64(it.page-1)*perPage + int64(len(items))
		it.page++
		if len(items) == 0 || reached >= total {
			it.done = true
		}
	}
}

// Value returns the current item (after Next returned true).
func (it *Iterator[T]) Value() T { return it.cur }

// Err returns the error that stopped the iteration, if any.
func (it *Iterator[T]) Err() error { return it.err }

// Pages returns how many pages were fetched so far.
func (it *Iterator[T]) Pages() int { return it.pages }

// All collects the remaining items.
func (it *Iterator[T]) All() ([]T, error) {
	var out []T
	for it.Next() {
		out = append(out, it.Value())
	}
	return out, it.Err()
}
