package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/request"
	"github.com/osmarc/osmarc/archive/retention"
	"github.com/osmarc/osmarc/index"
)

type holdRow struct {
	retention.Hold
	N     int
	Scope string
	Count string
}

type holdsPage struct {
	Holds            []holdRow
	Active, Released int
	CanEdit          bool
}

func holdScope(h retention.Hold) string {
	var parts []string
	if len(h.Accounts) > 0 {
		parts = append(parts, "accounts "+strings.Join(h.Accounts, ", "))
	}
	if h.From != nil {
		parts = append(parts, "from "+h.From.UTC().Format(time.DateOnly))
	}
	if h.To != nil {
		parts = append(parts, "before "+h.To.UTC().Format(time.DateOnly))
	}
	if h.Query != "" {
		parts = append(parts, "matching "+h.Query)
	}
	if len(parts) == 0 {
		return "everything"
	}
	return strings.Join(parts, "; ")
}

func (s *Server) pageHolds(w http.ResponseWriter, r *http.Request) {
	hs, err := s.records.Holds()
	if err != nil {
		s.Fail(w, r, err, "")
		return
	}
	p := &holdsPage{CanEdit: Can(r.Context(), PermHolds)}
	sort.SliceStable(hs, func(i, j int) bool {
		if (hs[i].Status == retention.HoldActive) != (hs[j].Status == retention.HoldActive) {
			return hs[i].Status == retention.HoldActive
		}
		return hs[i].PlacedAt.After(hs[j].PlacedAt)
	})
	for i, h := range hs {
		row := holdRow{Hold: h, N: i + 1, Scope: holdScope(h)}
		if h.Status == retention.HoldActive {
			p.Active++
			n, err := s.holdCount(r.Context(), h)
			if err != nil {
				row.Count = "unknown: " + err.Error()
			} else {
				row.Count = fmt.Sprint(n)
			}
		} else {
			p.Released++
			row.Count = "—"
		}
		p.Holds = append(p.Holds, row)
	}
	s.render(w, r, http.StatusOK, "holds", "Holds", p)
}

// holdCount counts the items a hold covers: through the index when the
// hold has a query (the archive's own count reads a query broadly without
// a matcher), else the archive's count.
func (s *Server) holdCount(ctx context.Context, h retention.Hold) (uint64, error) {
	if h.Query == "" || s.ix == nil {
		n, err := s.records.HoldCount(ctx, h)
		return uint64(n), err
	}
	q := url.Values{"q": {h.Query}}
	req, err := ParseSearch(q)
	if err != nil {
		return 0, err
	}
	var n uint64
	_, err = s.ix.SearchAll(ctx, req, func(hit index.Hit) error {
		it, err := s.a.Catalog().Item(hit.Key)
		if err == nil && h.Covers(&it) {
			n++
		}
		return nil
	})
	return n, err
}

func (s *Server) pageHoldPlace(w http.ResponseWriter, r *http.Request) {
	h := retention.Hold{Name: r.PostFormValue("name"), Matter: r.PostFormValue("matter"), Reason: r.PostFormValue("reason"),
		Accounts: strings.Fields(r.PostFormValue("accounts")), Query: strings.TrimSpace(r.PostFormValue("query"))}
	for _, f := range []struct {
		name string
		to   **time.Time
	}{{"from", &h.From}, {"to", &h.To}} {
		if v := r.PostFormValue(f.name); v != "" {
			t, err := request.ParseDate(v)
			if err != nil {
				s.Fail(w, r, badInput(f.name+": "+err.Error()), f.name)
				return
			}
			*f.to = &t
		}
	}
	if h.Query != "" {
		if _, err := ParseSearch(url.Values{"q": {h.Query}}); err != nil {
			s.Fail(w, r, err, "query")
			return
		}
	}
	var placed retention.Hold
	err := s.Write(r.Context(), func(ctx context.Context) error {
		var err error
		placed, err = s.records.PlaceHold(ctx, h, UserFrom(r.Context()).Name)
		return err
	})
	if err != nil {
		s.Fail(w, r, asInput(err), "")
		return
	}
	done(w, r, "/holds", "Hold "+placed.Name+" placed.")
}

func (s *Server) pageHoldRelease(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	err := s.Write(r.Context(), func(ctx context.Context) error {
		_, err := s.records.ReleaseHold(ctx, name, r.PostFormValue("reason"), UserFrom(r.Context()).Name)
		return err
	})
	if err != nil {
		s.Fail(w, r, asInput(err), "")
		return
	}
	done(w, r, "/holds", "Hold "+name+" released.")
}

type certRow struct {
	Digest, Plan string
	Destroyed    int
	At           time.Time
}

type retentionPage struct {
	Schedules    []retention.Schedule
	Rules        []retention.Rule
	Plans        []retention.Plan
	Certificates []certRow
	CanPlan      bool
	CanApprove   bool
	CanClassify  bool
	CanSchedule  bool
	Classes      []string
	Exemptions   []string
	// Test is the key tried against the rules (?test=KEY), and Explain
	// how its classification comes about, rule by rule.
	Test    string
	Explain *retention.Explanation
}

func (s *Server) pageRetention(w http.ResponseWriter, r *http.Request) {
	p := &retentionPage{CanPlan: Can(r.Context(), PermDispositionPlan), CanApprove: Can(r.Context(), PermDispositionApprove),
		CanClassify: Can(r.Context(), PermClassify), CanSchedule: Can(r.Context(), PermSchedules), Classes: retention.Classes,
		Exemptions: s.exemptionCodes()}
	var err error
	if p.Schedules, err = s.records.Schedules(); err != nil {
		s.Fail(w, r, err, "")
		return
	}
	if p.Plans, err = s.records.Plans(); err != nil {
		s.Fail(w, r, err, "")
		return
	}
	sort.SliceStable(p.Plans, func(i, j int) bool { return p.Plans[i].CreatedAt.After(p.Plans[j].CreatedAt) })
	certs := s.certificates()
	for i, pl := range p.Plans {
		c, ok := certs[pl.ID]
		if !ok {
			continue
		}
		if p.Plans[i].Result == nil {
			p.Plans[i].Result = &retention.PlanExecution{}
		}
		p.Plans[i].Result.Certificate = c.Digest
		p.Certificates = append(p.Certificates, c)
	}
	sort.Slice(p.Certificates, func(i, j int) bool { return p.Certificates[i].At.After(p.Certificates[j].At) })
	rs, err := s.records.Rules()
	if err != nil {
		s.Fail(w, r, err, "")
		return
	}
	p.Rules = rs.Rules
	if p.Test = strings.TrimSpace(r.URL.Query().Get("test")); p.Test != "" {
		if _, err := s.a.Catalog().Item(p.Test); err != nil {
			s.Fail(w, r, err, "test")
			return
		}
		ex, err := s.records.Explain(r.Context(), p.Test)
		if err != nil {
			s.Fail(w, r, asInput(err), "test")
			return
		}
		p.Explain = &ex
	}
	s.render(w, r, http.StatusOK, "retention", "Retention", p)
}

func (s *Server) pagePlan(w http.ResponseWriter, r *http.Request) {
	var pl retention.Plan
	err := s.Write(r.Context(), func(ctx context.Context) error {
		var err error
		pl, err = s.records.Plan(ctx, s.now(), r.PostFormValue("schedule"), retention.DefaultApprovers, UserFrom(r.Context()).Name)
		return err
	})
	if err != nil {
		s.Fail(w, r, asInput(err), "schedule")
		return
	}
	done(w, r, "/retention#p-"+pl.ID, fmt.Sprintf("Plan %s made: %d item(s) eligible, %d held back. It needs %d approval(s) from someone else.",
		pl.ID, pl.Items, pl.Held, pl.Required))
}

func (s *Server) pagePlanApprove(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var pl retention.Plan
	err := s.Write(r.Context(), func(ctx context.Context) error {
		var err error
		pl, err = s.records.Approve(ctx, id, UserFrom(r.Context()).Name)
		return err
	})
	if err != nil {
		s.Fail(w, r, asInput(err), "id")
		return
	}
	done(w, r, "/retention", fmt.Sprintf("Plan %s approved by %s (%d of %d); it is %s.", pl.ID, UserFrom(r.Context()).Name, len(pl.Approvals), pl.Required, pl.Status))
}

func (s *Server) pagePlanExecute(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var pl retention.Plan
	err := s.Write(r.Context(), func(ctx context.Context) error {
		var err error
		pl, err = s.records.Execute(ctx, id, UserFrom(r.Context()).Name)
		return err
	})
	if err != nil {
		s.Fail(w, r, asInput(err), "id")
		return
	}
	msg := fmt.Sprintf("Plan %s executed.", pl.ID)
	if pl.Result != nil {
		msg = fmt.Sprintf("Plan %s executed: %d item(s) destroyed; certificate %s.", pl.ID, pl.Result.Destroyed, pl.Result.Certificate)
	}
	done(w, r, "/retention", msg)
}

// certificates lists, by plan, the certificates of destruction the
// journal's executions recorded. The digest is only in the execution's
// event, so the journal is read — newest first, and only back to the
// oldest execution (the executed plans say when): an archive that never
// disposed of anything reads no event, and the cost follows the time
// since the first disposition, not the size of the journal.
func (s *Server) certificates() map[string]certRow {
	out := map[string]certRow{}
	plans, err := s.records.Plans()
	if err != nil {
		return out
	}
	var oldest time.Time
	for _, pl := range plans {
		if pl.Status == retention.PlanExecuted && pl.ExecutedAt != nil && (oldest.IsZero() || pl.ExecutedAt.Before(oldest)) {
			oldest = *pl.ExecutedAt
		}
	}
	if oldest.IsZero() {
		return out
	}
	for ev, err := range s.a.Catalog().EventsNewest(0) {
		if err != nil || ev.Time.Before(oldest.Add(-time.Minute)) {
			break
		}
		if ev.Type != retention.EventExecuted {
			continue
		}
		var d struct {
			Plan        retention.Plan `json:"plan"`
			Certificate string         `json:"certificate"`
		}
		if json.Unmarshal(ev.Data, &d) != nil || d.Certificate == "" {
			continue
		}
		if _, seen := out[d.Plan.ID]; seen {
			continue // newest first: a later execution of the plan was kept
		}
		row := certRow{Digest: d.Certificate, Plan: d.Plan.ID, At: ev.Time}
		if d.Plan.Result != nil {
			row.Destroyed = d.Plan.Result.Destroyed
		} else {
			row.Destroyed = d.Plan.Items
		}
		out[d.Plan.ID] = row
	}
	return out
}

type certificatePage struct {
	Digest string
	C      *archive.Certificate
}

func (s *Server) pageCertificate(w http.ResponseWriter, r *http.Request) {
	dg := r.PathValue("digest")
	if _, err := archive.ParseDigest(dg); err != nil {
		s.Fail(w, r, badInput("digest: "+err.Error()), "digest")
		return
	}
	// Only a certificate an execution recorded is shown: the page is not
	// a way to read any blob.
	known := false
	for _, c := range s.certificates() {
		known = known || c.Digest == dg
	}
	if !known {
		s.fail(w, r, http.StatusNotFound, "not-found", "no certificate of destruction "+dg, "digest")
		return
	}
	c, err := s.a.ReadCertificate(r.Context(), dg)
	if err != nil {
		s.Fail(w, r, err, "digest")
		return
	}
	s.render(w, r, http.StatusOK, "certificate", "Certificate "+c.Plan, &certificatePage{Digest: dg, C: c})
}
