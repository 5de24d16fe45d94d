package web

import (
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/catalog"
	"github.com/osmarc/osmarc/archive/collect"
)

type accountRow struct {
	archive.Account
	LastCapture  time.Time
	LastComplete bool
	Failing      string
}

type accountsPage struct {
	Accounts []accountRow
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
	failing := s.failuresSince(last)
	p := &accountsPage{}
	for _, a := range accts {
		row := accountRow{Account: a, LastCapture: last[a.Key].EndedAt, LastComplete: last[a.Key].Complete}
		if f, ok := failing[a.Key]; ok {
			row.Failing = "collection failing: " + f.Class
		}
		p.Accounts = append(p.Accounts, row)
	}
	s.render(w, r, http.StatusOK, "accounts", "Accounts", p)
}

// failuresSince returns, by account, the newest failed collection that
// came after the account's last capture.
func (s *Server) failuresSince(last map[string]catalog.Capture) map[string]collect.FailedRun {
	out := map[string]collect.FailedRun{}
	for ev, err := range s.a.Events(1) {
		if err != nil {
			break
		}
		if ev.Type != collect.EventCollectFailed {
			continue
		}
		var f collect.FailedRun
		if json.Unmarshal(ev.Data, &f) != nil {
			continue
		}
		if ev.Time.After(last[f.Account].EndedAt) {
			out[f.Account] = f
		}
	}
	return out
}

// coverageRun is one capture or failed collection of an account.
type coverageRun struct {
	StartedAt          time.Time
	Collector          string
	Items, NewVersions int64
	Removed, Errors    int64
	Complete           bool
}

type coverageGap struct {
	From   time.Time
	To     *time.Time
	Reason string
}

type coverage struct {
	Runs             []coverageRun
	CompleteListings int
	CoveredFrom      *time.Time
	CoveredTo        *time.Time
	Gaps             []coverageGap
}

type failureRow struct {
	At             time.Time
	Class, Message string
}

type accountPage struct {
	A        archive.Account
	Items    int
	Cov      coverage
	Failures []failureRow
}

// pageAccount shows an account and its capture timeline: every capture,
// the span covered by complete listings, and the gaps where collection
// failed (the same reading as osmarc coverage).
func (s *Server) pageAccount(w http.ResponseWriter, r *http.Request) {
	acct, err := s.a.Account(r.PathValue("key"))
	if err != nil {
		s.Fail(w, r, err, "key")
		return
	}
	p := &accountPage{A: acct}
	for _, err := range s.a.List(archive.ListFilter{Platform: acct.Platform, Account: acct.Handle}) {
		if err != nil {
			break
		}
		p.Items++
	}
	caps, err := s.a.Captures()
	if err != nil {
		s.Fail(w, r, err, "")
		return
	}
	type ev struct {
		at   time.Time
		end  time.Time
		run  *coverageRun
		fail *failureRow
	}
	var evs []ev
	for _, c := range caps {
		if !slices.Contains(c.Accounts, acct.Key) {
			continue
		}
		run := &coverageRun{StartedAt: c.StartedAt, Collector: c.Collector, Items: c.Items, NewVersions: c.NewVersions,
			Removed: c.Removed, Errors: c.Errors, Complete: c.Complete}
		evs = append(evs, ev{at: c.StartedAt, end: c.EndedAt, run: run})
	}
	for e, err := range s.a.Events(1) {
		if err != nil {
			break
		}
		if e.Type != collect.EventCollectFailed {
			continue
		}
		var f collect.FailedRun
		if json.Unmarshal(e.Data, &f) != nil || f.Account != acct.Key {
			continue
		}
		at := f.StartedAt
		if at.IsZero() {
			at = e.Time
		}
		evs = append(evs, ev{at: at, end: e.Time, fail: &failureRow{At: at, Class: f.Class, Message: f.Error}})
	}
	slices.SortStableFunc(evs, func(x, y ev) int { return x.at.Compare(y.at) })
	cov := &p.Cov
	var lastGood time.Time
	var failedSince *time.Time
	for _, e := range evs {
		if e.fail != nil {
			p.Failures = append(p.Failures, *e.fail)
			if failedSince == nil {
				t := lastGood
				if t.IsZero() {
					t = e.at
				}
				failedSince = &t
			}
			continue
		}
		cov.Runs = append(cov.Runs, *e.run)
		if e.run.Errors > 0 {
			continue
		}
		if e.run.Complete {
			cov.CompleteListings++
			if cov.CoveredFrom == nil {
				t := e.at
				cov.CoveredFrom = &t
			}
		}
		if failedSince != nil {
			to := e.at
			cov.Gaps = append(cov.Gaps, coverageGap{From: *failedSince, To: &to, Reason: "collection failed"})
			failedSince = nil
		}
		lastGood = e.end
		if cov.CoveredFrom != nil {
			t := lastGood
			cov.CoveredTo = &t
		}
	}
	if failedSince != nil {
		cov.Gaps = append(cov.Gaps, coverageGap{From: *failedSince, Reason: "collection failed; no good run since"})
	}
	s.render(w, r, http.StatusOK, "account", "Account "+acct.Key, p)
}
