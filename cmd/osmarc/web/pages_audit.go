package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/catalog"
	"github.com/osmarc/osmarc/archive/request"
)

type auditRow struct {
	Seq   uint64
	Time  time.Time
	Actor string
	Type  string
	Data  string
}

type auditPage struct {
	Type, Actor, Text, From, To string
	Size                        int
	Sizes                       []int
	Events                      []auditRow
	// Older links to the next page; Searched, when the scan stopped at
	// its bound before filling the page, says how far back it looked.
	Older    string
	Searched int
	Down     uint64
	Newest   string
	Check    *archive.JournalReport
	Keep     map[string]string
}

// The audit page's sizes: a page shows auditPageSize events unless ?n=
// asks for one of auditSizes; one request reads at most auditScanLimit
// events looking for matches (a variable so tests can lower it).
const auditPageSize = 100

var auditScanLimit = 50000

var auditSizes = []int{25, 100, 250, 500}

// pageAudit lists the journal newest first, filtered by type prefix,
// actor, text in the data and dates, a page at a time (?n= events,
// ?before=SEQ for older ones); ?check=1 re-computes the hash chain from
// the store.
//
// Cost: it reads the catalog's events backwards from the newest (or from
// before), a few hundred per read transaction, and stops when the page is
// full, when it passes the from date, or after auditScanLimit events —
// then it says how far it looked and links to the rest. So a page costs
// what it shows (plus, for a rare filter, at most auditScanLimit decoded
// events), however long the journal is.
func (s *Server) pageAudit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p := &auditPage{Type: strings.TrimSpace(q.Get("type")), Actor: strings.TrimSpace(q.Get("actor")), Text: q.Get("text"),
		From: q.Get("from"), To: q.Get("to"), Size: auditPageSize, Sizes: auditSizes, Keep: map[string]string{}}
	var from, to time.Time
	var err error
	if p.From != "" {
		if from, err = request.ParseDate(p.From); err != nil {
			s.Fail(w, r, badInput("from: "+err.Error()), "from")
			return
		}
	}
	if p.To != "" {
		if to, err = request.ParseDate(p.To); err != nil {
			s.Fail(w, r, badInput("to: "+err.Error()), "to")
			return
		}
		to = to.AddDate(0, 0, 1)
	}
	if v := q.Get("n"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > auditSizes[len(auditSizes)-1] {
			s.Fail(w, r, badInput("n: want a page size from 1 to "+strconv.Itoa(auditSizes[len(auditSizes)-1])), "n")
			return
		}
		p.Size = n
	}
	var before uint64
	if v := q.Get("before"); v != "" {
		if before, err = strconv.ParseUint(v, 10, 64); err != nil || before == 0 {
			s.Fail(w, r, badInput("before: want an event number"), "before")
			return
		}
	}
	for _, k := range []string{"type", "actor", "text", "from", "to", "n"} {
		if v := q.Get(k); v != "" {
			p.Keep[k] = v
		}
	}
	link := func(before uint64) string {
		v := url.Values{}
		for k, val := range p.Keep {
			v.Set(k, val)
		}
		if before > 0 {
			v.Set("before", strconv.FormatUint(before, 10))
		}
		return "/audit?" + v.Encode()
	}
	if before > 0 {
		p.Newest = link(0)
	}
	text := strings.ToLower(p.Text)
	// A role that may not read personal information (an admin) reads it
	// redacted in event data, as in the audit API, and the text filter
	// matches what that role sees, so it cannot probe for what is hidden.
	redact := Redact(r.Context())
	match := func(ev catalog.Event) (json.RawMessage, bool) {
		if p.Type != "" && !strings.HasPrefix(ev.Type, p.Type) || p.Actor != "" && !strings.EqualFold(ev.Actor, p.Actor) ||
			!to.IsZero() && !ev.Time.Before(to) {
			return nil, false
		}
		data := withholdSecrets(ev.Data)
		if redact {
			data = redactEventData(data)
		}
		return data, text == "" || strings.Contains(strings.ToLower(string(data)), text)
	}
	scanned := 0
	for ev, err := range s.a.Catalog().EventsNewest(before) {
		if err != nil {
			s.Fail(w, r, err, "")
			return
		}
		if !from.IsZero() && ev.Time.Before(from) {
			break // the journal is in time order: nothing older matches
		}
		scanned++
		if data, ok := match(ev); ok {
			p.Events = append(p.Events, auditRow{Seq: ev.Seq, Time: ev.Time, Actor: ev.Actor, Type: ev.Type, Data: string(data)})
			if len(p.Events) == p.Size {
				if ev.Seq > 1 {
					p.Older = link(ev.Seq)
				}
				break
			}
		}
		if scanned >= auditScanLimit {
			if ev.Seq > 1 {
				p.Searched, p.Down, p.Older = scanned, ev.Seq, link(ev.Seq)
			}
			break
		}
	}
	if q.Get("check") != "" {
		if p.Check, err = s.a.VerifyJournal(r.Context()); err != nil {
			s.Fail(w, r, err, "")
			return
		}
	}
	s.render(w, r, http.StatusOK, "audit", "Audit", p)
}
