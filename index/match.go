package index

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Match reports which of keys a query matches, on one snapshot of the
// index, with the semantics of Search (a key not in the index matches
// nothing). It is what records management asks of the index for a legal
// hold's query and for classification rules (retention.Matcher). A
// malformed query is a *QueryError.
func (ix *Index) Match(ctx context.Context, query string, keys []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(keys) == 0 {
		if _, err := parseQuery(query); err != nil {
			return nil, err
		}
		return out, nil
	}
	// The keys are named: a capture's own staged items are among them
	// when it classifies them.
	e, pl, done, err := ix.plan(&Request{Query: query, withStaged: true})
	if err != nil {
		return nil, err
	}
	defer done()
	for i, s := range e.segs {
		if pl.match[i] == nil || pl.match[i].IsEmpty() {
			continue
		}
		for start := 0; start < len(keys); start += 1000 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			chunk := keys[start:min(len(keys), start+1000)]
			b, err := s.ss.DocNumbers(chunk)
			if err != nil {
				return nil, fmt.Errorf("index: look up keys: %w", err)
			}
			b.And(pl.match[i])
			it := b.Iterator()
			for it.HasNext() {
				f, err := e.stored(i, it.Next(), map[string]bool{"_id": true})
				if err != nil {
					return nil, err
				}
				out[first(f["_id"])] = true
			}
		}
	}
	return out, nil
}

// MatchKeys calls fn with the key of every item a query matches, on one
// snapshot of the index, in no particular order, and returns how many
// there were. It reads nothing but the keys, so it is how a batch of
// classification rules is evaluated over a whole archive. An error from
// fn stops it and is returned.
func (ix *Index) MatchKeys(ctx context.Context, query string, fn func(key string) error) (uint64, error) {
	e, pl, done, err := ix.plan(&Request{Query: query})
	if err != nil {
		return 0, err
	}
	defer done()
	var n uint64
	want := map[string]bool{"_id": true}
	for i := range e.segs {
		if pl.match[i] == nil {
			continue
		}
		it := pl.match[i].Iterator()
		for it.HasNext() {
			if n%1024 == 0 {
				if err := ctx.Err(); err != nil {
					return n, err
				}
			}
			f, err := e.stored(i, it.Next(), want)
			if err != nil {
				return n, err
			}
			if err := fn(first(f["_id"])); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// QueryClause is one clause of a query as typed, and the field it
// searches ("" for the words of the text).
type QueryClause struct {
	Text  string
	Field string
	// Required is true for a "+" clause, Excluded for a "-" clause.
	Required, Excluded bool
}

// Clauses splits a query into its clauses, so a caller can say which of
// them hold for an item (Match each alone) and which fields a query uses.
// A malformed query is a *QueryError.
func Clauses(query string) ([]QueryClause, error) {
	p, err := parseQuery(query)
	if err != nil {
		return nil, err
	}
	src := []rune(query)
	var out []QueryClause
	for i, c := range p.clauses {
		end := len(src)
		if i+1 < len(p.clauses) {
			end = p.clauses[i+1].col - 1
		}
		qc := QueryClause{Text: strings.TrimSpace(string(src[c.col-1 : end])), Field: c.field, Required: c.occur == must, Excluded: c.occur == mustNot}
		out = append(out, qc)
	}
	return out, nil
}

// IsQueryError reports whether err is a malformed query.
func IsQueryError(err error) bool { return errors.Is(err, ErrQuery) }
