package web

import (
	"strings"

	"github.com/osmarc/osmarc/archive/retention"
	"github.com/osmarc/osmarc/index"
)

// HoldScope resolves hold names to their scopes for the search index
// (index.Index.SetHoldScope), so the hold filter, --hold and a query's
// hold:NAME keep what the hold keeps: the items its accounts, dates and
// query cover, now and as items are captured later.
func HoldScope(r *retention.Records) func(string) (index.Scope, error) {
	return func(name string) (index.Scope, error) {
		h, err := r.Hold(strings.TrimSpace(name))
		if err != nil {
			return index.Scope{}, err
		}
		return ScopeOf(h), nil
	}
}

// ScopeOf is what a hold keeps, as the index searches it.
func ScopeOf(h retention.Hold) index.Scope {
	sc := index.Scope{Name: "hold " + h.Name, Query: h.Query, Accounts: h.Accounts}
	if h.From != nil {
		sc.From = *h.From
	}
	if h.To != nil {
		sc.To = *h.To
	}
	return sc
}
