package web

import (
	"context"
	"sync"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/request"
)

// EventSearchRuns records several searches by one user that the server
// wrote to the journal together: {"by", "searches": [{"at", "query",
// "filters", "hits"}]}. A single search is a search.run event, as the
// command line writes it.
const EventSearchRuns = "search.runs"

// searchLog writes the journal events of searches with group commit: a
// search waits until its event is durable in the store before its hits
// are shown, but while one write is under way the searches that arrive
// queue and go into the next write together, one event per user. The
// journal's cost (a store write and sync per event) is then paid once per
// batch, not once per search, and every search is still recorded, with
// who ran it and when, before anyone sees its hits.
type searchLog struct {
	mu       sync.Mutex
	pending  []*pendingSearch
	flushing bool
}

type pendingSearch struct {
	actor string
	entry map[string]any
	done  chan error
}

// queueSearch queues one search's journal entry; the channel it returns
// says when the entry is in the journal, or why it is not.
func (s *Server) queueSearch(actor, query string, filters map[string]string, hits uint64) <-chan error {
	p := &pendingSearch{actor: actor, done: make(chan error, 1), entry: map[string]any{
		"at": s.now().UTC().Format(time.RFC3339Nano), "query": query, "filters": filters, "hits": hits,
	}}
	l := &s.searches
	l.mu.Lock()
	l.pending = append(l.pending, p)
	if !l.flushing {
		l.flushing = true
		go s.flushSearches()
	}
	l.mu.Unlock()
	return p.done
}

// waitLogged waits until a queued entry is in the journal.
func waitLogged(ctx context.Context, done <-chan error) error {
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		// The entry is still written; the caller shows nothing.
		return ctx.Err()
	}
}

// flushSearches writes the queued searches until none is left.
func (s *Server) flushSearches() {
	l := &s.searches
	for {
		l.mu.Lock()
		batch := l.pending
		l.pending = nil
		if len(batch) == 0 {
			l.flushing = false
			l.mu.Unlock()
			return
		}
		l.mu.Unlock()
		// One event per user, in the order of their first search.
		var order []string
		byActor := map[string][]*pendingSearch{}
		for _, p := range batch {
			if _, ok := byActor[p.actor]; !ok {
				order = append(order, p.actor)
			}
			byActor[p.actor] = append(byActor[p.actor], p)
		}
		s.writeMu.Lock()
		for _, actor := range order {
			ps := byActor[actor]
			ctx := archive.WithActor(context.Background(), actor)
			var err error
			if len(ps) == 1 {
				e := ps[0].entry
				_, err = request.LogSearch(ctx, s.a, actor, e["query"].(string), e["filters"].(map[string]string), int(e["hits"].(uint64)))
			} else {
				entries := make([]map[string]any, len(ps))
				for i, p := range ps {
					entries[i] = p.entry
				}
				_, err = s.a.RecordEvent(ctx, EventSearchRuns, map[string]any{"by": actor, "searches": entries})
			}
			if err != nil {
				s.log.Error("cannot record searches in the journal", "user", actor, "searches", len(ps), "err", err)
			}
			for _, p := range ps {
				p.done <- err
			}
		}
		s.writeMu.Unlock()
	}
}
