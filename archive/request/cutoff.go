package request

import (
	"time"

	"github.com/osmarc/osmarc/archive"
)

// CutoffEvent is the retention cutoff event a closed request starts: a
// schedule with the cutoff "event:request-closed" runs its retention
// period from the day the last request that holds an item was closed
// (NARA GRS 4.2 item 020 keeps request files six years after the final
// response).
const CutoffEvent = "request-closed"

// Cutoffs say, for every item that is or was in a request, whether a
// request still open holds it and when the last request holding it was
// closed. Items a request removed stay: they were part of its record.
type Cutoffs struct {
	open   map[string][]string // item key → ids of open requests holding it
	closed map[string]time.Time
}

// LoadCutoffs reads every request in the archive.
func LoadCutoffs(a *archive.Archive) (*Cutoffs, error) {
	rs, err := List(a)
	if err != nil {
		return nil, err
	}
	c := &Cutoffs{open: map[string][]string{}, closed: map[string]time.Time{}}
	for _, r := range rs {
		keys := make([]string, 0, len(r.Items)+len(r.Removed))
		for _, it := range r.Items {
			keys = append(keys, it.Key)
		}
		for _, x := range r.Removed {
			keys = append(keys, x.Key)
		}
		for _, k := range keys {
			switch {
			case r.Status == StatusOpen:
				c.open[k] = appendOnce(c.open[k], r.ID)
			case r.ClosedAt != nil && r.ClosedAt.After(c.closed[k]):
				c.closed[k] = r.ClosedAt.UTC()
			}
		}
	}
	return c, nil
}

func appendOnce(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

// Open returns the ids of the open requests that hold key: while there
// are any, the item is part of a pending request and must not be
// destroyed.
func (c *Cutoffs) Open(key string) []string { return c.open[key] }

// Closed is the request-closed event of key, in the form of
// retention.EventDates: when the last request holding it was closed, and
// ok only when it has been in a request and none holding it is open.
func (c *Cutoffs) Closed(key string) (at time.Time, ok bool) {
	if len(c.open[key]) > 0 {
		return time.Time{}, false
	}
	at, ok = c.closed[key]
	return at, ok
}

// EventDate answers a retention schedule's event cutoff for key: the
// CutoffEvent, or nothing for any other event name.
func (c *Cutoffs) EventDate(key, name string) (time.Time, bool) {
	if name != CutoffEvent {
		return time.Time{}, false
	}
	return c.Closed(key)
}
