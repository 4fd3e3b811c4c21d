package server

import (
	"context"
	"errors"

	"github.com/rosterhq/roster/scim"
)

// errOverBudget is the cause of a request's query context once the query
// has run for the server's QueryBudget.
var errOverBudget = errors.New("the query ran past the server's query budget")

// queryContext returns the context a list or search request queries the
// store with: ctx, ended after s.QueryBudget (with errOverBudget as its
// cause) unless the budget is off.
func (s *server) queryContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if s.QueryBudget < 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeoutCause(ctx, s.QueryBudget, errOverBudget)
}

// overBudget returns err, or a 400 tooMany in its place when err is the
// end of ctx's query budget: the filter (or startIndex) asked for more
// work than the server does for one request. A client that went away
// keeps its own error.
func (s *server) overBudget(ctx context.Context, err error) error {
	if err == nil || !errors.Is(context.Cause(ctx), errOverBudget) {
		return err
	}
	s.metrics.overBudget()
	return scim.BadRequest(scim.TooMany,
		"the query needs more work than the server does for one request (%v); narrow the filter with an attribute the server indexes (id, userName, displayName, externalId, emails.value, meta.lastModified) or page with a cursor instead of a deep startIndex",
		s.QueryBudget)
}
