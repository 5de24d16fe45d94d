package web

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/catalog"
	"github.com/osmarc/osmarc/archive/collect"
	"github.com/osmarc/osmarc/archive/collect/coverage"
	"github.com/osmarc/osmarc/archive/request"
)

type accountRow struct {
	archive.Account
	LastCapture  time.Time
	LastComplete bool
	Failing      string
}

type accountsPage struct {
	Accounts []accountRow
	// Scanned says the failure scan stopped at its bound before reaching
	// every account's last capture.
	Scanned int
	// CanEdit: the admin's register form.
	CanEdit   bool
	Schedules []string
	Empty     archive.Account
}

func (s *Server) pageAccounts(w http.ResponseWriter, r *http.Request) {
	accts, err := s.a.Accounts()
	if err != nil {
		s.Fail(w, r, err, "")
		return
	}
	caps, err := s.a.Captures()
	if err != nil {
		s.Fail(w, r, err, "")
		return
	}
	last := map[string]catalog.Capture{}
	for _, c := range caps {
		for _, k := range c.Accounts {
			if c.EndedAt.After(last[k].EndedAt) {
				last[k] = c
			}
		}
	}
	failing, scanned, err := s.failuresSince(accts, last)
	if err != nil {
		s.Fail(w, r, err, "")
		return
	}
	p := &accountsPage{Scanned: scanned, CanEdit: Can(r.Context(), PermAccounts)}
	if p.CanEdit {
		p.Schedules = s.scheduleIDs()
	}
	for _, a := range accts {
		row := accountRow{Account: a, LastCapture: last[a.Key].EndedAt, LastComplete: last[a.Key].Complete}
		if f, ok := failing[a.Key]; ok {
			row.Failing = "collection failing: " + f.Class
		}
		p.Accounts = append(p.Accounts, row)
	}
	s.render(w, r, http.StatusOK, "accounts", "Accounts", p)
}

// failureScanLimit bounds how many journal events the accounts page reads
// looking for failed collections.
const failureScanLimit = 20000

// failuresSince returns, by account, the newest failed collection that
// came after the account's last capture. It reads the journal newest
// first and stops at the oldest of the accounts' last captures, so on a
// healthy archive it reads the events since the least recent capture;
// when an account was never captured it stops after failureScanLimit
// events and returns that count (0 when it did not need to stop).
func (s *Server) failuresSince(accts []archive.Account, last map[string]catalog.Capture) (map[string]collect.FailedRun, int, error) {
	out := map[string]collect.FailedRun{}
	var oldest time.Time
	for i, a := range accts {
		t := last[a.Key].EndedAt
		if i == 0 || t.Before(oldest) {
			oldest = t
		}
	}
	n := 0
	for ev, err := range s.a.Catalog().EventsNewest(0) {
		if err != nil {
			return nil, 0, err
		}
		if !oldest.IsZero() && ev.Time.Before(oldest) {
			return out, 0, nil
		}
		if n++; n > failureScanLimit {
			return out, failureScanLimit, nil
		}
		if ev.Type != collect.EventCollectFailed {
			continue
		}
		var f collect.FailedRun
		if json.Unmarshal(ev.Data, &f) != nil {
			continue
		}
		if _, seen := out[f.Account]; !seen && ev.Time.After(last[f.Account].EndedAt) {
			out[f.Account] = f
		}
	}
	return out, 0, nil
}

type accountPage struct {
	A        archive.Account
	Items    int64
	Cov      coverage.Report
	Failures []coverage.Run
	// Since is the start of the window shown ("" for the whole history);
	// Window the default window in days; All links to the whole history.
	Since, All string
	Window     int
	// Cut is the bound on journal events that moved the window's start.
	Cut int
	// CanEdit: the admin's change and deactivate forms.
	CanEdit   bool
	Schedules []string
}

// coverageWindow is the span of history the account page reads unless
// asked for more: a year; coverageScan bounds the journal events it reads
// for that window (a variable so tests can lower it).
const coverageWindow = 365

var coverageScan = 50000

// pageAccount shows an account and its capture timeline, read by
// archive/collect/coverage as `osmarc coverage` reads it: every run, the
// span covered by complete listings, and the gaps — failed collection, or
// no run for longer than twice the account's collect schedule.
//
// Cost: every capture summary (one small record per run) and the journal
// events of the window only, newest first, stopping at its start or after
// coverageScan events — then the window starts later, where the reading
// stopped, and the page says so. ?since=YYYY-MM-DD moves the window;
// ?since=all reads the whole journal (what osmarc coverage reads).
func (s *Server) pageAccount(w http.ResponseWriter, r *http.Request) {
	acct, err := s.a.Account(r.PathValue("key"))
	if err != nil {
		s.Fail(w, r, err, "key")
		return
	}
	now := s.now().UTC()
	p := &accountPage{A: acct, Window: coverageWindow, All: accountURL(acct.Key) + "?since=all", CanEdit: Can(r.Context(), PermAccounts)}
	if p.CanEdit {
		p.Schedules = s.scheduleIDs()
	}
	since := now.AddDate(0, 0, -coverageWindow)
	switch v := r.URL.Query().Get("since"); v {
	case "all":
		since = time.Time{}
	case "":
	default:
		if since, err = request.ParseDate(v); err != nil {
			s.Fail(w, r, badInput("since: "+err.Error()+" (or all)"), "since")
			return
		}
	}
	asked := since
	if counts, err := s.a.Catalog().Accounts(); err == nil {
		for _, c := range counts {
			if c.Platform == acct.Platform && c.Account == acct.Handle {
				p.Items = c.Items
			}
		}
	}
	runs, from, err := coverage.HistorySince(s.a, acct.Key, since, coverageScan)
	if err != nil {
		s.Fail(w, r, err, "")
		return
	}
	if !from.IsZero() {
		p.Since = from.UTC().Format(time.DateOnly)
		if from.After(asked) {
			p.Cut = coverageScan
		}
	}
	p.Cov = coverage.Build(acct, runs, coverage.Period(acct, now), now)
	for _, run := range runs {
		if run.Failed {
			p.Failures = append(p.Failures, run)
		}
	}
	s.render(w, r, http.StatusOK, "account", "Account "+acct.Key, p)
}

// scheduleIDs lists the retention schedules' ids, for the forms.
func (s *Server) scheduleIDs() []string {
	var out []string
	if ss, err := s.records.Schedules(); err == nil {
		for _, sc := range ss {
			out = append(out, sc.ID)
		}
	}
	return out
}
