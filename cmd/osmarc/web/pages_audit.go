package web

import (
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
	Events                      []auditRow
	Shown, Matched              int
	More                        string
	Check                       *archive.JournalReport
	Keep                        map[string]string
}

// auditPageSize is how many events one audit page shows.
const auditPageSize = 100

// pageAudit lists the journal newest first, filtered by type prefix,
// actor, text in the data and dates; ?check=1 re-computes the hash chain
// from the store.
func (s *Server) pageAudit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p := &auditPage{Type: strings.TrimSpace(q.Get("type")), Actor: strings.TrimSpace(q.Get("actor")), Text: q.Get("text"),
		From: q.Get("from"), To: q.Get("to"), Keep: map[string]string{}}
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
	var before uint64
	if v := q.Get("before"); v != "" {
		if before, err = strconv.ParseUint(v, 10, 64); err != nil {
			s.Fail(w, r, badInput("before: want an event number"), "before")
			return
		}
	}
	for _, k := range []string{"type", "actor", "text", "from", "to"} {
		if v := q.Get(k); v != "" {
			p.Keep[k] = v
		}
	}
	// Newest first: keep the last page's worth of matches in a ring.
	var matched []catalog.Event
	for ev, err := range s.a.Events(1) {
		if err != nil {
			s.Fail(w, r, err, "")
			return
		}
		if before > 0 && ev.Seq >= before {
			break
		}
		if p.Type != "" && !strings.HasPrefix(ev.Type, p.Type) ||
			p.Actor != "" && !strings.EqualFold(ev.Actor, p.Actor) ||
			p.Text != "" && !strings.Contains(strings.ToLower(string(ev.Data)), strings.ToLower(p.Text)) ||
			!from.IsZero() && ev.Time.Before(from) || !to.IsZero() && !ev.Time.Before(to) {
			continue
		}
		p.Matched++
		matched = append(matched, ev)
		if len(matched) > 2*auditPageSize {
			matched = append(matched[:0:0], matched[len(matched)-auditPageSize:]...)
		}
	}
	if len(matched) > auditPageSize {
		matched = matched[len(matched)-auditPageSize:]
	}
	for i := len(matched) - 1; i >= 0; i-- {
		ev := matched[i]
		p.Events = append(p.Events, auditRow{Seq: ev.Seq, Time: ev.Time, Actor: ev.Actor, Type: ev.Type, Data: string(ev.Data)})
	}
	p.Shown = len(p.Events)
	if p.Matched > p.Shown && len(matched) > 0 {
		v := url.Values{}
		for k, val := range p.Keep {
			v.Set(k, val)
		}
		v.Set("before", strconv.FormatUint(matched[0].Seq, 10))
		p.More = "/audit?" + v.Encode()
	}
	if q.Get("check") != "" {
		if p.Check, err = s.a.VerifyJournal(r.Context()); err != nil {
			s.Fail(w, r, err, "")
			return
		}
	}
	s.render(w, r, http.StatusOK, "audit", "Audit", p)
}
