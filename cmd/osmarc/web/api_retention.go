package web

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/osmarc/osmarc/archive/retention"
)

func (s *Server) apiSchedules(w http.ResponseWriter, r *http.Request) {
	ss, err := s.records.Schedules()
	if err != nil {
		s.Fail(w, r, err, "")
		return
	}
	if ss == nil {
		ss = []retention.Schedule{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"schedules": ss})
}

func (s *Server) apiSchedule(w http.ResponseWriter, r *http.Request) {
	sc, err := s.records.Schedule(r.PathValue("id"))
	if err != nil {
		s.Fail(w, r, err, "id")
		return
	}
	writeJSON(w, http.StatusOK, sc)
}

// apiScheduleAdd adds a schedule, or with ?update=true (and a reason)
// changes one.
func (s *Server) apiScheduleAdd(w http.ResponseWriter, r *http.Request) {
	var in struct {
		retention.Schedule
		Reason string `json:"reason"`
	}
	if err := decodeJSON(r, &in); err != nil {
		s.Fail(w, r, err, "body")
		return
	}
	if in.Action == "" {
		in.Action = "destroy"
	}
	update := r.URL.Query().Get("update") == "true"
	err := s.Write(r.Context(), func(ctx context.Context) error {
		if update {
			if strings.TrimSpace(in.Reason) == "" {
				return badInput("reason is required to change a schedule")
			}
			return s.records.UpdateSchedule(ctx, in.Schedule, in.Reason)
		}
		return s.records.AddSchedule(ctx, in.Schedule)
	})
	if err != nil {
		s.Fail(w, r, asBadInput(err), "body")
		return
	}
	sc, err := s.records.Schedule(in.ID)
	if err != nil {
		s.Fail(w, r, err, "id")
		return
	}
	writeJSON(w, http.StatusCreated, sc)
}

// HoldView is a hold with the number of items in its scope now.
type HoldView struct {
	retention.Hold
	Items int `json:"items"`
}

func (s *Server) holdView(ctx context.Context, h retention.Hold) (HoldView, error) {
	n, err := s.records.HoldCount(ctx, h)
	return HoldView{h, n}, err
}

func (s *Server) apiHolds(w http.ResponseWriter, r *http.Request) {
	hs, err := s.records.Holds()
	if err != nil {
		s.Fail(w, r, err, "")
		return
	}
	out := []HoldView{}
	for _, h := range hs {
		v, err := s.holdView(r.Context(), h)
		if err != nil {
			s.Fail(w, r, err, "")
			return
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"holds": out})
}

func (s *Server) apiHold(w http.ResponseWriter, r *http.Request) {
	h, err := s.records.Hold(r.PathValue("name"))
	if err != nil {
		s.Fail(w, r, err, "name")
		return
	}
	v, err := s.holdView(r.Context(), h)
	if err != nil {
		s.Fail(w, r, err, "")
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// parseDayParam reads a date (2024-03-01) or an RFC 3339 time.
func parseDayParam(name, v string) (*time.Time, error) {
	if v == "" {
		return nil, nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return &t, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return nil, badInput(name + ": want a date like 2024-03-01 or a time like 2024-03-01T14:00:00Z")
	}
	return &t, nil
}

func (s *Server) apiHoldPlace(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name     string   `json:"name"`
		Matter   string   `json:"matter"`
		Reason   string   `json:"reason"`
		Accounts []string `json:"accounts"`
		From     string   `json:"from"`
		To       string   `json:"to"`
		Query    string   `json:"query"`
	}
	if err := decodeJSON(r, &in); err != nil {
		s.Fail(w, r, err, "body")
		return
	}
	h := retention.Hold{Name: in.Name, Matter: in.Matter, Reason: in.Reason, Accounts: in.Accounts, Query: in.Query}
	var err error
	if h.From, err = parseDayParam("from", in.From); err != nil {
		s.Fail(w, r, err, "from")
		return
	}
	if h.To, err = parseDayParam("to", in.To); err != nil {
		s.Fail(w, r, err, "to")
		return
	}
	var placed retention.Hold
	err = s.Write(r.Context(), func(ctx context.Context) error {
		var err error
		placed, err = s.records.PlaceHold(ctx, h, UserFrom(ctx).Name)
		return err
	})
	if err != nil {
		s.Fail(w, r, asBadInput(err), "body")
		return
	}
	v, err := s.holdView(r.Context(), placed)
	if err != nil {
		s.Fail(w, r, err, "")
		return
	}
	writeJSON(w, http.StatusCreated, v)
}

func (s *Server) apiHoldRelease(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Reason string `json:"reason"`
	}
	if err := decodeJSON(r, &in); err != nil {
		s.Fail(w, r, err, "body")
		return
	}
	var h retention.Hold
	err := s.Write(r.Context(), func(ctx context.Context) error {
		var err error
		h, err = s.records.ReleaseHold(ctx, r.PathValue("name"), in.Reason, UserFrom(ctx).Name)
		return err
	})
	if err != nil {
		s.Fail(w, r, asBadInput(err), "name")
		return
	}
	writeJSON(w, http.StatusOK, h)
}

func (s *Server) apiPlans(w http.ResponseWriter, r *http.Request) {
	ps, err := s.records.Plans()
	if err != nil {
		s.Fail(w, r, err, "")
		return
	}
	if ps == nil {
		ps = []retention.Plan{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"plans": ps})
}

func (s *Server) apiPlan(w http.ResponseWriter, r *http.Request) {
	p, err := s.records.PlanByID(r.PathValue("id"))
	if err != nil {
		s.Fail(w, r, err, "id")
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) apiPlanCreate(w http.ResponseWriter, r *http.Request) {
	var in struct {
		AsOf     string `json:"as_of"`
		Schedule string `json:"schedule"`
	}
	if err := decodeJSON(r, &in); err != nil {
		s.Fail(w, r, err, "body")
		return
	}
	at := s.now()
	if in.AsOf != "" {
		t, err := parseDayParam("as_of", in.AsOf)
		if err != nil {
			s.Fail(w, r, err, "as_of")
			return
		}
		at = *t
	}
	var p retention.Plan
	err := s.Write(r.Context(), func(ctx context.Context) error {
		var err error
		p, err = s.records.Plan(ctx, at, in.Schedule, retention.DefaultApprovers, UserFrom(ctx).Name)
		return err
	})
	if err != nil {
		s.Fail(w, r, asBadInput(err), "body")
		return
	}
	writeJSON(w, http.StatusCreated, p)
}

// apiPlanApprove records the signed-in user's approval. The approver is
// always the signed-in user, never a name sent in the body, and
// retention refuses the planner and anyone who approved already: the
// second person is a different account.
func (s *Server) apiPlanApprove(w http.ResponseWriter, r *http.Request) {
	var p retention.Plan
	err := s.Write(r.Context(), func(ctx context.Context) error {
		var err error
		p, err = s.records.Approve(ctx, r.PathValue("id"), UserFrom(ctx).Name)
		return err
	})
	if err != nil {
		s.Fail(w, r, asBadInput(err), "id")
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) apiPlanExecute(w http.ResponseWriter, r *http.Request) {
	var p retention.Plan
	err := s.Write(r.Context(), func(ctx context.Context) error {
		var err error
		p, err = s.records.Execute(ctx, r.PathValue("id"), UserFrom(ctx).Name)
		return err
	})
	if err != nil {
		s.Fail(w, r, asBadInput(err), "id")
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) apiCertificate(w http.ResponseWriter, r *http.Request) {
	c, err := s.a.ReadCertificate(r.Context(), r.PathValue("digest"))
	if err != nil {
		s.Fail(w, r, asBadInput(err), "digest")
		return
	}
	writeJSON(w, http.StatusOK, c)
}
