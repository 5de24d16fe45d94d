// Package coverage reads an account's capture timeline — every run,
// complete or not, every failed collection, the span covered by complete
// listings and the gaps in it — for records officers who must certify what
// was and was not captured. `osmarc coverage`, `osmarc jobs`, the daemon
// and the web application's account page all read it from here, so they
// agree.
//
// A gap is a span in which collection failed, or, for an account with a
// collect schedule, in which no run happened for more than twice the
// schedule's interval.
package coverage

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/catalog"
	"github.com/osmarc/osmarc/archive/collect"
)

// Run is one run in the history: a capture (by a collector, an import or
// ingest), with its failure if it had one, or a failure that recorded no
// capture.
type Run struct {
	StartedAt   time.Time  `json:"started_at"`
	EndedAt     *time.Time `json:"ended_at,omitempty"`
	Accounts    []string   `json:"accounts"`
	Collector   string     `json:"collector"`
	Capture     string     `json:"capture,omitempty"`
	Items       int64      `json:"items"`
	NewVersions int64      `json:"new_versions"`
	Removed     int64      `json:"removed"`
	Errors      int64      `json:"errors"`
	Complete    bool       `json:"complete"`
	Failed      bool       `json:"failed"`
	Class       string     `json:"class,omitempty"`
	Error       string     `json:"error,omitempty"`
	RetryAt     *time.Time `json:"retry_at,omitempty"`
}

// Result is the run's outcome in a word or a few.
func (e Run) Result() string {
	switch {
	case e.Failed:
		return "FAILED " + e.Class
	case e.Errors > 0:
		return fmt.Sprintf("incomplete (%d bad)", e.Errors)
	case e.Complete:
		return "complete"
	}
	return "ok"
}

// Good reports a run that finished without failure.
func (e Run) Good() bool { return !e.Failed && e.Errors == 0 && e.Capture != "" }

// History reads the run history, oldest first, of one account (a key) or
// of all (""). It reads every capture summary and every journal event.
func History(a *archive.Archive, account string) ([]Run, error) {
	caps, err := a.Captures()
	if err != nil {
		return nil, err
	}
	h := newHistory(caps, account)
	for ev, err := range a.Events(0) {
		if err != nil {
			return nil, err
		}
		if err := h.event(ev); err != nil {
			return nil, err
		}
	}
	return h.done(), nil
}

// HistorySince reads one account's (or all accounts', "") runs that
// started at or after since, and the last good run before it, so a gap
// that opened before since starts where it really began. It reads every
// capture summary (one small record per run) but only the journal events
// from since on, newest first, stopping at the first older one — and,
// when maxEvents > 0, after maxEvents events: then the window starts at
// the oldest event read instead, so no failure inside it is missed. It
// returns the runs and where the window really starts. A zero since is
// History (every event).
func HistorySince(a *archive.Archive, account string, since time.Time, maxEvents int) ([]Run, time.Time, error) {
	if since.IsZero() {
		runs, err := History(a, account)
		return runs, since, err
	}
	caps, err := a.Captures()
	if err != nil {
		return nil, since, err
	}
	h := newHistory(caps, account)
	// A failure is recorded when its run ends, so scan back a day further
	// than since to find the failures of runs that started after it.
	stop := since.Add(-24 * time.Hour)
	var evs []catalog.Event
	read := 0
	for ev, err := range a.Catalog().EventsNewest(0) {
		if err != nil {
			return nil, since, err
		}
		if ev.Time.Before(stop) {
			break
		}
		if read++; maxEvents > 0 && read > maxEvents {
			if cut := ev.Time.Add(24 * time.Hour); cut.After(since) {
				since = cut
			}
			break
		}
		if ev.Type == collect.EventCollectFailed {
			evs = append(evs, ev)
		}
	}
	for i := len(evs) - 1; i >= 0; i-- {
		if err := h.event(evs[i]); err != nil {
			return nil, since, err
		}
	}
	runs := h.done()
	// Keep the last good run before since, and everything from since on.
	keep := runs[:0:0]
	var seed *Run
	for i := range runs {
		r := runs[i]
		if r.StartedAt.Before(since) {
			if r.Good() {
				seed = &runs[i]
			}
			continue
		}
		keep = append(keep, r)
	}
	if seed != nil {
		keep = append([]Run{*seed}, keep...)
	}
	return keep, since, nil
}

type history struct {
	account   string
	out       []Run
	byCapture map[string]int
}

func newHistory(caps []catalog.Capture, account string) *history {
	h := &history{account: account, byCapture: map[string]int{}}
	for _, cp := range caps {
		if account != "" && !slices.Contains(cp.Accounts, account) {
			continue
		}
		ended := cp.EndedAt
		h.byCapture[cp.ID] = len(h.out)
		h.out = append(h.out, Run{
			StartedAt: cp.StartedAt, EndedAt: &ended, Accounts: cp.Accounts, Collector: cp.Collector, Capture: cp.ID,
			Items: cp.Items, NewVersions: cp.NewVersions, Removed: cp.Removed, Errors: cp.Errors, Complete: cp.Complete,
		})
	}
	return h
}

func (h *history) event(ev catalog.Event) error {
	if ev.Type != collect.EventCollectFailed {
		return nil
	}
	at := ev.Time
	var f collect.FailedRun
	if err := json.Unmarshal(ev.Data, &f); err != nil {
		return fmt.Errorf("journal event %d: %w", ev.Seq, err)
	}
	if h.account != "" && f.Account != h.account {
		return nil
	}
	if i, ok := h.byCapture[f.Capture]; ok && f.Capture != "" {
		e := &h.out[i]
		e.Failed, e.Class, e.Error, e.RetryAt, e.Complete = true, f.Class, f.Error, f.RetryAt, false
		return nil
	}
	started := f.StartedAt
	if started.IsZero() {
		started = at
	}
	evTime := at
	h.out = append(h.out, Run{
		StartedAt: started, EndedAt: &evTime, Accounts: []string{f.Account}, Collector: f.Collector,
		Failed: true, Class: f.Class, Error: f.Error, RetryAt: f.RetryAt,
	})
	return nil
}

func (h *history) done() []Run {
	slices.SortStableFunc(h.out, func(x, y Run) int { return x.StartedAt.Compare(y.StartedAt) })
	return h.out
}

// Report is an account's capture timeline.
type Report struct {
	Account      string     `json:"account"`
	Status       string     `json:"status"`
	Collect      string     `json:"collect,omitempty"`
	RegisteredAt time.Time  `json:"registered_at"`
	Deactivated  *time.Time `json:"deactivated_at,omitempty"`
	// Runs, oldest first.
	Runs []Run `json:"runs"`
	// CompleteListings counts the runs that listed the account completely.
	CompleteListings int `json:"complete_listings"`
	// CoveredFrom is the start of the first complete listing, CoveredTo the
	// end of the last good run after it: the span covered completely,
	// except for Gaps.
	CoveredFrom *time.Time `json:"covered_from,omitempty"`
	CoveredTo   *time.Time `json:"covered_to,omitempty"`
	Gaps        []Gap      `json:"gaps"`
	// Failures counts the failed runs by class.
	Failures map[string]int `json:"failures"`
}

// Gap is a span in which collection failed or did not run.
type Gap struct {
	From time.Time `json:"from"`
	// To is when a good run ended the gap; nil while it is still open.
	To     *time.Time `json:"to,omitempty"`
	Reason string     `json:"reason"`
}

// Build reads the account's timeline from its runs (oldest first). now
// closes an open gap; the schedule's period, when known, finds missed runs
// (a span between good runs longer than twice the period).
func Build(acct archive.Account, runs []Run, period time.Duration, now time.Time) Report {
	rep := Report{
		Account: acct.Key, Status: acct.Status, Collect: acct.Collect, RegisteredAt: acct.RegisteredAt,
		Deactivated: acct.DeactivatedAt, Runs: runs, Gaps: []Gap{}, Failures: map[string]int{},
	}
	if rep.Runs == nil {
		rep.Runs = []Run{}
	}
	var lastGood time.Time // end of the last good run
	var pending []Run      // failures since it
	gapStart := func() time.Time {
		if !lastGood.IsZero() {
			return lastGood
		}
		if !acct.RegisteredAt.IsZero() && acct.RegisteredAt.Before(pending[0].StartedAt) {
			return acct.RegisteredAt
		}
		return pending[0].StartedAt
	}
	for _, r := range runs {
		if r.Failed || r.Errors > 0 {
			rep.Failures[classOf(r)]++
			pending = append(pending, r)
			continue
		}
		if !r.Good() {
			continue
		}
		if r.Complete {
			rep.CompleteListings++
			if rep.CoveredFrom == nil {
				t := r.StartedAt
				rep.CoveredFrom = &t
			}
		}
		switch {
		case len(pending) > 0:
			to := r.StartedAt
			rep.Gaps = append(rep.Gaps, Gap{From: gapStart(), To: &to, Reason: failureSummary(pending)})
		case period > 0 && !lastGood.IsZero() && r.StartedAt.Sub(lastGood) > 2*period:
			to := r.StartedAt
			rep.Gaps = append(rep.Gaps, Gap{From: lastGood, To: &to,
				Reason: fmt.Sprintf("no run for %s (schedule %s)", RoundDuration(r.StartedAt.Sub(lastGood)), acct.Collect)})
		}
		lastGood, pending = *r.EndedAt, nil
		if rep.CoveredFrom != nil {
			t := lastGood
			rep.CoveredTo = &t
		}
	}
	active := acct.Status != archive.AccountDeactivated
	switch {
	case len(pending) > 0:
		rep.Gaps = append(rep.Gaps, Gap{From: gapStart(), Reason: failureSummary(pending) + "; no good run since"})
	case active && period > 0 && !lastGood.IsZero() && now.Sub(lastGood) > 2*period:
		rep.Gaps = append(rep.Gaps, Gap{From: lastGood,
			Reason: fmt.Sprintf("no run for %s (schedule %s)", RoundDuration(now.Sub(lastGood)), acct.Collect)})
	}
	return rep
}

func classOf(r Run) string {
	if r.Class != "" {
		return r.Class
	}
	return "malformed"
}

// failureSummary says how often and why collection failed, the latest
// message of each class.
func failureSummary(fails []Run) string {
	var classes []string
	count := map[string]int{}
	last := map[string]string{}
	for _, f := range fails {
		c := classOf(f)
		if count[c] == 0 {
			classes = append(classes, c)
		}
		count[c]++
		if f.Error != "" {
			last[c] = f.Error
		} else if last[c] == "" {
			last[c] = fmt.Sprintf("%d bad record(s)", f.Errors)
		}
	}
	var parts []string
	for _, c := range classes {
		parts = append(parts, fmt.Sprintf("%s ×%d (%s)", c, count[c], last[c]))
	}
	return fmt.Sprintf("collection failed %d time(s): %s", len(fails), strings.Join(parts, "; "))
}

// RoundDuration shows a duration in days from two days up, else to the
// minute from an hour up, else to the second.
func RoundDuration(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	case d >= time.Hour:
		return d.Round(time.Minute).String()
	}
	return d.Round(time.Second).String()
}

// ScheduleParser reads account collect schedules: five fields (minute
// first), six with seconds first, or a descriptor (@daily, @every 6h).
var ScheduleParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseSchedule reads an account's collect schedule.
func ParseSchedule(spec string) (cron.Schedule, error) {
	s, err := ScheduleParser.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("collect schedule %q: %w", spec, err)
	}
	return s, nil
}

// SchedulePeriod is the longest interval between the schedule's next few
// activations after at.
func SchedulePeriod(s cron.Schedule, at time.Time) time.Duration {
	var longest time.Duration
	t := s.Next(at)
	for range 8 {
		n := s.Next(t)
		if n.IsZero() {
			break
		}
		longest = max(longest, n.Sub(t))
		t = n
	}
	return longest
}

// Period is the interval of the account's collect schedule at now, 0 when
// it has none or it does not parse (then no missed runs are reported).
func Period(acct archive.Account, now time.Time) time.Duration {
	if acct.Collect == "" {
		return 0
	}
	s, err := ParseSchedule(acct.Collect)
	if err != nil {
		return 0
	}
	return SchedulePeriod(s, now)
}
