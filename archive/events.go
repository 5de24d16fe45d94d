package archive

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"strings"

	"github.com/osmarc/osmarc/archive/catalog"
	"github.com/osmarc/osmarc/archive/journal"
)

// RecordEvent appends a record-management event of typ to the journal (in
// the store, then the catalog) and returns its number. data must encode to
// a JSON object; it must hold no secret.
func (a *Archive) RecordEvent(ctx context.Context, typ string, data any) (uint64, error) {
	if !strings.Contains(typ, ".") {
		return 0, fmt.Errorf("event type %q: want a dotted name such as collect.failed", typ)
	}
	ev, err := a.appendEvent(ctx, typ, data)
	return ev.Seq, err
}

// Events yields the journal events the catalog has applied, from seq on.
func (a *Archive) Events(from uint64) iter.Seq2[catalog.Event, error] {
	return a.cat.Events(from)
}

// Captures lists the captures in id (time) order.
func (a *Archive) Captures() ([]catalog.Capture, error) { return a.cat.Captures() }

// LastState is the state the newest capture by collector for account
// recorded (nil when there is none), so a collector goes on where it got to.
func (a *Archive) LastState(accountKey, collector string) (json.RawMessage, error) {
	caps, err := a.cat.Captures()
	if err != nil {
		return nil, err
	}
	for i := len(caps) - 1; i >= 0; i-- {
		cp := caps[i]
		if cp.Collector != collector || len(cp.State) == 0 {
			continue
		}
		for _, acct := range cp.Accounts {
			if acct == accountKey {
				return cp.State, nil
			}
		}
	}
	return nil, nil
}

// JournalReport is what VerifyJournal found.
type JournalReport struct {
	Events  uint64 `json:"events"`
	Head    string `json:"head"`
	Problem string `json:"problem,omitempty"`
}

// VerifyJournal re-computes the journal's hash chain from the store and
// names the first event that was changed, removed or reordered; it also
// checks the newest event against the one the catalog applied.
func (a *Archive) VerifyJournal(ctx context.Context) (*JournalReport, error) {
	rep := &JournalReport{}
	v := journal.NewVerifier()
	err := a.store.List(ctx, journal.Prefix, "", func(oi ObjectInfo) error {
		b, err := ReadAll(ctx, a.store, oi.Key)
		if err != nil {
			return err
		}
		if _, err := v.Check(oi.Key, b); err != nil {
			rep.Problem = err.Error()
			return errStopList
		}
		rep.Events++
		return nil
	})
	if err != nil && err != errStopList {
		return nil, err
	}
	h := v.Head()
	rep.Head = h.Hash
	if rep.Problem == "" {
		if ch, err := a.cat.Head(); err == nil {
			switch {
			case ch.Seq > h.Seq:
				rep.Problem = fmt.Sprintf("journal ends at event %d but the catalog applied events up to %d: event %d was removed", h.Seq, ch.Seq, h.Seq+1)
			case ch.Seq == h.Seq && ch.Hash != h.Hash:
				rep.Problem = fmt.Sprintf("event %d differs from the one the catalog applied: event %d was changed", h.Seq, h.Seq)
			}
		}
	}
	return rep, nil
}
