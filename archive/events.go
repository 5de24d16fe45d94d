package archive

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"strings"

	"github.com/osmarc/osmarc/archive/catalog"
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
