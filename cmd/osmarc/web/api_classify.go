package web

import (
	"context"
	"net/http"
	"strings"

	"github.com/osmarc/osmarc/archive/retention"
)

func (s *Server) apiRules(w http.ResponseWriter, r *http.Request) {
	rs, err := s.records.Rules()
	if err != nil {
		s.Fail(w, r, err, "")
		return
	}
	if rs.Rules == nil {
		rs.Rules = []retention.Rule{}
	}
	writeJSON(w, http.StatusOK, rs)
}

// apiRuleAdd adds a classification rule at a position (1 first; 0 last)
// and re-evaluates every item, as `osmarc rule add` does.
func (s *Server) apiRuleAdd(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Match      string   `json:"match"`
		Class      string   `json:"class"`
		Schedule   string   `json:"schedule"`
		Exemptions []string `json:"exemptions"`
		Note       string   `json:"note"`
		At         int      `json:"at"`
		Reason     string   `json:"reason"`
	}
	if err := decodeJSON(r, &in); err != nil {
		s.Fail(w, r, err, "body")
		return
	}
	var out struct {
		Rule   retention.Rule       `json:"rule"`
		Change retention.RuleChange `json:"change"`
	}
	err := s.Write(r.Context(), func(ctx context.Context) error {
		var err error
		out.Rule, out.Change, err = s.records.AddRule(ctx, retention.Rule{Match: in.Match, Class: in.Class, Schedule: in.Schedule,
			Exemptions: in.Exemptions, Note: in.Note}, in.At, in.Reason)
		return err
	})
	if err != nil {
		s.Fail(w, r, asBadInput(err), "body")
		return
	}
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) apiRuleMove(w http.ResponseWriter, r *http.Request) {
	var in struct {
		To     int    `json:"to"`
		Reason string `json:"reason"`
	}
	if err := decodeJSON(r, &in); err != nil {
		s.Fail(w, r, err, "body")
		return
	}
	s.ruleChange(w, r, func(ctx context.Context) (retention.RuleChange, error) {
		return s.records.MoveRule(ctx, r.PathValue("id"), in.To, in.Reason)
	})
}

func (s *Server) apiRuleRemove(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Reason string `json:"reason"`
	}
	if err := decodeJSON(r, &in); err != nil {
		s.Fail(w, r, err, "body")
		return
	}
	s.ruleChange(w, r, func(ctx context.Context) (retention.RuleChange, error) {
		return s.records.RemoveRule(ctx, r.PathValue("id"), in.Reason)
	})
}

func (s *Server) ruleChange(w http.ResponseWriter, r *http.Request, fn func(ctx context.Context) (retention.RuleChange, error)) {
	var ch retention.RuleChange
	err := s.Write(r.Context(), func(ctx context.Context) error {
		var err error
		ch, err = fn(ctx)
		return err
	})
	if err != nil {
		s.Fail(w, r, asBadInput(err), "id")
		return
	}
	writeJSON(w, http.StatusOK, ch)
}

// apiClassify records a person's classification of one item (it outranks
// every rule until undone), as `osmarc classify` does.
func (s *Server) apiClassify(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Class      string   `json:"class"`
		Schedule   string   `json:"schedule"`
		Exemptions []string `json:"exemptions"`
		Reason     string   `json:"reason"`
	}
	if err := decodeJSON(r, &in); err != nil {
		s.Fail(w, r, err, "body")
		return
	}
	if strings.TrimSpace(in.Reason) == "" {
		s.Fail(w, r, badInput("reason is required"), "reason")
		return
	}
	s.decision(w, r, func(ctx context.Context) (retention.Decision, error) {
		return s.records.Classify(ctx, r.PathValue("key"), in.Class, in.Schedule, in.Exemptions, in.Reason)
	})
}

func (s *Server) apiUnclassify(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Reason string `json:"reason"`
	}
	if err := decodeJSON(r, &in); err != nil {
		s.Fail(w, r, err, "body")
		return
	}
	s.decision(w, r, func(ctx context.Context) (retention.Decision, error) {
		return s.records.Unclassify(ctx, r.PathValue("key"), in.Reason)
	})
}

func (s *Server) decision(w http.ResponseWriter, r *http.Request, fn func(ctx context.Context) (retention.Decision, error)) {
	if _, err := s.a.Catalog().Item(r.PathValue("key")); err != nil {
		s.Fail(w, r, err, "key")
		return
	}
	var d retention.Decision
	err := s.Write(r.Context(), func(ctx context.Context) error {
		var err error
		d, err = fn(ctx)
		return err
	})
	if err != nil {
		s.Fail(w, r, asBadInput(err), "body")
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// apiExplain says how an item's classification came about, rule by rule.
func (s *Server) apiExplain(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	if _, err := s.a.Catalog().Item(key); err != nil {
		s.Fail(w, r, err, "key")
		return
	}
	ex, err := s.records.Explain(r.Context(), key)
	if err != nil {
		s.Fail(w, r, asBadInput(err), "key")
		return
	}
	writeJSON(w, http.StatusOK, ex)
}
