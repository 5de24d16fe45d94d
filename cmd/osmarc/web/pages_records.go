package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/osmarc/osmarc/archive/retention"
)

// The records officer's forms: classify an item (and undo it), the
// classification rules (add, move, remove, test a key) and the retention
// schedules (add, show). Each goes through the same retention functions
// the API and the CLI use, so each change is the same journal event,
// made by the signed-in user; the guard has checked the role and the
// CSRF token before a handler runs.

// formCodes reads exemption codes given as several fields, or as one
// field of codes separated by spaces or commas.
func formCodes(r *http.Request, name string) []string {
	var out []string
	for _, v := range r.PostForm[name] {
		out = append(out, strings.FieldsFunc(v, func(c rune) bool { return c == ',' || c == ' ' || c == '\t' || c == '\n' })...)
	}
	return out
}

// required fails with a clear error when a form field is empty.
func required(r *http.Request, names ...string) error {
	for _, n := range names {
		if strings.TrimSpace(r.PostFormValue(n)) == "" {
			return badInput(n + " is required")
		}
	}
	return nil
}

// pageClassify records a person's classification of one item (it
// outranks every rule until undone), as `osmarc classify` does.
func (s *Server) pageClassify(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	if _, err := s.a.Catalog().Item(key); err != nil {
		s.Fail(w, r, err, "key")
		return
	}
	if err := required(r, "class", "reason"); err != nil {
		s.Fail(w, r, err, "")
		return
	}
	var d retention.Decision
	err := s.Write(r.Context(), func(ctx context.Context) error {
		var err error
		d, err = s.records.Classify(ctx, key, r.PostFormValue("class"), strings.TrimSpace(r.PostFormValue("schedule")), formCodes(r, "exemptions"),
			r.PostFormValue("reason"))
		return err
	})
	if err != nil {
		s.Fail(w, r, asInput(err), "")
		return
	}
	msg := "Classified as " + d.Class
	if len(d.Exemptions) > 0 {
		msg += ", exempt under " + strings.Join(d.Exemptions, ", ")
	}
	done(w, r, itemURL(key), msg+".")
}

// pageUnclassify undoes a person's classification: the rules decide again.
func (s *Server) pageUnclassify(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	if _, err := s.a.Catalog().Item(key); err != nil {
		s.Fail(w, r, err, "key")
		return
	}
	if err := required(r, "reason"); err != nil {
		s.Fail(w, r, err, "")
		return
	}
	err := s.Write(r.Context(), func(ctx context.Context) error {
		_, err := s.records.Unclassify(ctx, key, r.PostFormValue("reason"))
		return err
	})
	if err != nil {
		s.Fail(w, r, asInput(err), "")
		return
	}
	done(w, r, itemURL(key), "The classification was undone: the rules decide again.")
}

// ruleChanged says what a rule change did.
func ruleChanged(what string, ch retention.RuleChange) string {
	return fmt.Sprintf("%s The rules were evaluated over %d item(s); %d changed classification.", what, ch.Evaluated, ch.Reclassified)
}

func (s *Server) pageRuleAdd(w http.ResponseWriter, r *http.Request) {
	if err := required(r, "match", "class", "reason"); err != nil {
		s.Fail(w, r, err, "")
		return
	}
	at := 0
	if v := strings.TrimSpace(r.PostFormValue("at")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			s.Fail(w, r, badInput("position: want a whole number (1 first; empty: last)"), "at")
			return
		}
		at = n
	}
	ru := retention.Rule{Match: r.PostFormValue("match"), Class: r.PostFormValue("class"), Schedule: strings.TrimSpace(r.PostFormValue("schedule")),
		Exemptions: formCodes(r, "exemptions"), Note: r.PostFormValue("note")}
	var added retention.Rule
	var ch retention.RuleChange
	err := s.Write(r.Context(), func(ctx context.Context) error {
		var err error
		added, ch, err = s.records.AddRule(ctx, ru, at, r.PostFormValue("reason"))
		return err
	})
	if err != nil {
		s.Fail(w, r, asInput(err), "match")
		return
	}
	done(w, r, "/retention#rules-h", ruleChanged("Rule "+added.ID+" added.", ch))
}

func (s *Server) pageRuleMove(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	to, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("to")))
	if err != nil || to < 1 {
		s.Fail(w, r, badInput("to: want the rule's new position, 1 first"), "to")
		return
	}
	if err := required(r, "reason"); err != nil {
		s.Fail(w, r, err, "")
		return
	}
	var ch retention.RuleChange
	err = s.Write(r.Context(), func(ctx context.Context) error {
		var err error
		ch, err = s.records.MoveRule(ctx, id, to, r.PostFormValue("reason"))
		return err
	})
	if err != nil {
		s.Fail(w, r, asInput(err), "id")
		return
	}
	done(w, r, "/retention#rules-h", ruleChanged(fmt.Sprintf("Rule %s moved to position %d.", id, to), ch))
}

func (s *Server) pageRuleRemove(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := required(r, "reason"); err != nil {
		s.Fail(w, r, err, "")
		return
	}
	var ch retention.RuleChange
	err := s.Write(r.Context(), func(ctx context.Context) error {
		var err error
		ch, err = s.records.RemoveRule(ctx, id, r.PostFormValue("reason"))
		return err
	})
	if err != nil {
		s.Fail(w, r, asInput(err), "id")
		return
	}
	done(w, r, "/retention#rules-h", ruleChanged("Rule "+id+" removed.", ch))
}

// pageScheduleAdd adds a retention schedule, as `osmarc schedule add` does.
func (s *Server) pageScheduleAdd(w http.ResponseWriter, r *http.Request) {
	if err := required(r, "id", "title", "authority", "retain"); err != nil {
		s.Fail(w, r, err, "")
		return
	}
	sc := retention.Schedule{ID: strings.TrimSpace(r.PostFormValue("id")), Title: r.PostFormValue("title"),
		Authority: r.PostFormValue("authority"), Action: strings.TrimSpace(r.PostFormValue("action")), Note: r.PostFormValue("note")}
	var err error
	if sc.Retain, err = retention.ParsePeriod(r.PostFormValue("retain")); err != nil {
		s.Fail(w, r, badInput("retain: "+err.Error()), "retain")
		return
	}
	if v := strings.TrimSpace(r.PostFormValue("cutoff")); v != "" {
		if sc.Cutoff, err = retention.ParseCutoff(v); err != nil {
			s.Fail(w, r, badInput("cutoff: "+err.Error()), "cutoff")
			return
		}
	}
	if sc.Action == "" {
		sc.Action = retention.ActionDestroy
	}
	err = s.Write(r.Context(), func(ctx context.Context) error { return s.records.AddSchedule(ctx, sc) })
	if err != nil {
		s.Fail(w, r, asInput(err), "id")
		return
	}
	done(w, r, "/retention/schedules/"+url.PathEscape(sc.ID), "Schedule "+sc.ID+" added.")
}

type schedulePage struct {
	S        retention.Schedule
	Accounts []string
}

// pageSchedule shows one schedule and the accounts filed under it.
func (s *Server) pageSchedule(w http.ResponseWriter, r *http.Request) {
	sc, err := s.records.Schedule(r.PathValue("id"))
	if err != nil {
		s.Fail(w, r, err, "id")
		return
	}
	p := &schedulePage{S: sc}
	if accts, err := s.a.Accounts(); err == nil {
		for _, a := range accts {
			if a.Schedule == sc.ID {
				p.Accounts = append(p.Accounts, a.Key)
			}
		}
	}
	s.render(w, r, http.StatusOK, "schedule", "Schedule "+sc.ID, p)
}

// exemptionCodes are the exemption codes the forms suggest.
func (s *Server) exemptionCodes() []string {
	var out []string
	for _, e := range s.presets.Exemptions {
		out = append(out, e.Code)
	}
	return out
}
