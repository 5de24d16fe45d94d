package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

func (s *Server) apiUsers(w http.ResponseWriter, r *http.Request) {
	us := s.users.List()
	if us == nil {
		us = []User{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": us})
}

// apiUserAdd creates a user. The password comes in the body (over TLS or
// loopback), is checked, hashed and never stored or logged.
func (s *Server) apiUserAdd(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name     string `json:"name"`
		Role     string `json:"role"`
		Password string `json:"password"`
	}
	if err := decodeJSON(r, &in); err != nil {
		s.Fail(w, r, err, "body")
		return
	}
	role, err := ParseRole(in.Role)
	if err != nil {
		s.Fail(w, r, badInput(err.Error()), "role")
		return
	}
	var u User
	err = s.Write(r.Context(), func(ctx context.Context) error {
		var err error
		u, err = s.users.Add(ctx, s.a, in.Name, role, in.Password)
		return err
	})
	if err != nil {
		where := "name"
		if errors.Is(err, ErrBadPassword) {
			where = "password"
		}
		s.Fail(w, r, asBadInput(err), where)
		return
	}
	writeJSON(w, http.StatusCreated, u)
}

// apiUserChange changes a user: role, disabled, or password (one or more
// in one request). Disabling or a new password ends the user's sessions.
func (s *Server) apiUserChange(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Role     *string `json:"role"`
		Disabled *bool   `json:"disabled"`
		Password *string `json:"password"`
		Reason   string  `json:"reason"`
	}
	if err := decodeJSON(r, &in); err != nil {
		s.Fail(w, r, err, "body")
		return
	}
	name := r.PathValue("name")
	if _, err := s.users.User(name); err != nil {
		s.Fail(w, r, err, "name")
		return
	}
	var role Role
	if in.Role != nil {
		var err error
		if role, err = ParseRole(*in.Role); err != nil {
			s.Fail(w, r, badInput(err.Error()), "role")
			return
		}
	}
	if in.Password != nil {
		if err := CheckPassword(*in.Password); err != nil {
			s.Fail(w, r, err, "password")
			return
		}
	}
	if in.Disabled != nil && *in.Disabled && name == UserFrom(r.Context()).Name {
		s.Fail(w, r, badInput("you cannot disable yourself; ask another admin"), "disabled")
		return
	}
	err := s.Write(r.Context(), func(ctx context.Context) error {
		if in.Role != nil {
			if _, err := s.users.SetRole(ctx, s.a, name, role, in.Reason); err != nil {
				return err
			}
		}
		if in.Disabled != nil {
			var err error
			if *in.Disabled {
				_, err = s.users.Disable(ctx, s.a, name, in.Reason)
			} else {
				_, err = s.users.Enable(ctx, s.a, name, in.Reason)
			}
			if err != nil {
				return err
			}
		}
		if in.Password != nil {
			if _, err := s.users.SetPassword(ctx, s.a, name, *in.Password); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.Fail(w, r, asBadInput(err), "body")
		return
	}
	if (in.Disabled != nil && *in.Disabled) || in.Password != nil {
		s.sessions.deleteUser(name)
	}
	u, _ := s.users.User(name)
	writeJSON(w, http.StatusOK, u)
}

func (s *Server) apiTokens(w http.ResponseWriter, r *http.Request) {
	ts := s.users.Tokens(r.URL.Query().Get("user"))
	if ts == nil {
		ts = []Token{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": ts})
}

// apiTokenCreate makes a token and returns its secret, once.
func (s *Server) apiTokenCreate(w http.ResponseWriter, r *http.Request) {
	var in struct {
		User string `json:"user"`
		Note string `json:"note"`
	}
	if err := decodeJSON(r, &in); err != nil {
		s.Fail(w, r, err, "body")
		return
	}
	var t Token
	var secret string
	err := s.Write(r.Context(), func(ctx context.Context) error {
		var err error
		t, secret, err = s.users.CreateToken(ctx, s.a, in.User, in.Note)
		return err
	})
	if err != nil {
		s.Fail(w, r, asBadInput(err), "user")
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"token": t, "secret": secret})
}

func (s *Server) apiTokenRevoke(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Reason string `json:"reason"`
	}
	if err := decodeJSON(r, &in); err != nil {
		s.Fail(w, r, err, "body")
		return
	}
	var t Token
	err := s.Write(r.Context(), func(ctx context.Context) error {
		var err error
		t, err = s.users.RevokeToken(ctx, s.a, r.PathValue("id"), in.Reason)
		return err
	})
	if err != nil {
		s.Fail(w, r, asBadInput(err), "id")
		return
	}
	writeJSON(w, http.StatusOK, t)
}

// apiAudit lists journal events, newest first, filtered by type (a
// prefix: hold. or hold.*), actor, time and text, a page at a time
// (before=SEQ pages back).
func (s *Server) apiAudit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	typ := strings.TrimSuffix(q.Get("type"), "*")
	actor, text := q.Get("actor"), strings.ToLower(q.Get("text"))
	from, err := parseDayParam("from", q.Get("from"))
	if err != nil {
		s.Fail(w, r, err, "from")
		return
	}
	to, err := parseDayParam("to", q.Get("to"))
	if err != nil {
		s.Fail(w, r, err, "to")
		return
	}
	limit := 100
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 10000 {
			s.Fail(w, r, badInput("limit: want a whole number from 1 to 10000"), "limit")
			return
		}
	}
	var before uint64
	if v := q.Get("before"); v != "" {
		if before, err = strconv.ParseUint(v, 10, 64); err != nil {
			s.Fail(w, r, badInput("before: want an event number"), "before")
			return
		}
	}
	redact := Redact(r.Context())
	// Newest first, keeping only the last `limit` matches in a ring.
	ring := make([]auditEvent, 0, limit)
	start := 0
	for ev, err := range s.a.Events(1) {
		if err != nil {
			s.Fail(w, r, err, "")
			return
		}
		if before > 0 && ev.Seq >= before {
			break
		}
		if typ != "" && !strings.HasPrefix(ev.Type, typ) || actor != "" && !strings.EqualFold(ev.Actor, actor) ||
			from != nil && ev.Time.Before(*from) || to != nil && !ev.Time.Before(*to) ||
			text != "" && !strings.Contains(strings.ToLower(string(ev.Data)), text) {
			continue
		}
		ae := auditEvent{Seq: ev.Seq, Time: ev.Time, Actor: ev.Actor, Type: ev.Type, Data: withholdSecrets(ev.Data), Hash: ev.Hash}
		if redact {
			ae.Data = redactEventData(ae.Data)
		}
		if len(ring) < limit {
			ring = append(ring, ae)
		} else {
			ring[start] = ae
			start = (start + 1) % limit
		}
	}
	out := make([]auditEvent, 0, len(ring))
	for i := len(ring) - 1; i >= 0; i-- {
		out = append(out, ring[(start+i)%len(ring)])
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": out})
}

func (s *Server) apiAuditVerify(w http.ResponseWriter, r *http.Request) {
	rep, err := s.a.VerifyJournal(r.Context())
	if err != nil {
		s.Fail(w, r, err, "")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": rep.Problem == "", "report": rep, "checked_at": s.now().UTC().Format(time.RFC3339)})
}
