package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/osmarc/osmarc/archive"
)

// Audit event types the web application writes to the journal.
const (
	EventSignIn       = "auth.signed-in"
	EventSignInFailed = "auth.sign-in-failed"
	EventSignOut      = "auth.signed-out"
	// EventExemptViewed: someone read an item unredacted that holds
	// personal information or an exemption.
	EventExemptViewed = "item.viewed-exempt"
)

// Sign-in errors, tested with errors.Is.
var (
	// ErrSignIn: wrong name or password, or the user is disabled (the
	// caller is not told which).
	ErrSignIn = errors.New("wrong user name or password")
	// ErrRateLimited: too many failed attempts for this user or address.
	ErrRateLimited = errors.New("too many failed sign-ins")
)

// RateLimitError says when sign-in may be tried again.
type RateLimitError struct{ RetryAfter time.Duration }

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("%v: try again in %s", ErrRateLimited, e.RetryAfter.Round(time.Second))
}

func (e *RateLimitError) Unwrap() error { return ErrRateLimited }

// SignIn checks a name and password and, when good, starts a session: a
// new random id (never one the browser brought), set as an HttpOnly,
// SameSite=Strict cookie (Secure under TLS). Every attempt, good or not,
// is a journal event with the address it came from. Failures count
// against the user name and the address; past the limits, attempts are
// refused without checking the password (*RateLimitError).
func (s *Server) SignIn(w http.ResponseWriter, r *http.Request, name, password string) (*User, error) {
	u, _, err := s.signIn(w, r, name, password)
	return u, err
}

// signIn is SignIn, also returning the new session's CSRF token.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request, name, password string) (*User, string, error) {
	now := s.now()
	addr := clientAddr(r)
	ukey, akey := "user:"+name, "addr:"+addr
	if b, until := s.limiter.blocked(ukey, s.cfg.SignInLimit, now); b {
		s.auditSignIn(r, name, addr, false, "rate limited (user)")
		return nil, "", &RateLimitError{RetryAfter: until.Sub(now)}
	}
	if b, until := s.limiter.blocked(akey, s.cfg.AddrLimit, now); b {
		s.auditSignIn(r, name, addr, false, "rate limited (address)")
		return nil, "", &RateLimitError{RetryAfter: until.Sub(now)}
	}
	u, ok, reason := s.users.Authenticate(name, password)
	if !ok {
		s.limiter.fail(ukey, now)
		s.limiter.fail(akey, now)
		s.auditSignIn(r, name, addr, false, reason)
		return nil, "", ErrSignIn
	}
	s.limiter.reset(ukey)
	// A session the browser had before is ended, not reused.
	if old := authFrom(r.Context()); old.sessionID != "" {
		s.sessions.delete(old.sessionID)
	}
	id, ss := s.sessions.create(u.Name, addr, now)
	s.setCookie(w, s.sessionCookie(), id, int(s.cfg.SessionMax.Seconds()))
	s.auditSignIn(r, name, addr, true, "")
	return &u, ss.csrf, nil
}

// SignOut ends the request's session and clears its cookie.
func (s *Server) SignOut(w http.ResponseWriter, r *http.Request) {
	a := authFrom(r.Context())
	if a.sessionID != "" {
		s.sessions.delete(a.sessionID)
		if a.user != nil {
			s.Audit(r, EventSignOut, map[string]any{"user": a.user.Name, "address": clientAddr(r)})
		}
	}
	s.setCookie(w, s.sessionCookie(), "", -1)
}

func (s *Server) auditSignIn(r *http.Request, name, addr string, ok bool, reason string) {
	typ := EventSignInFailed
	data := map[string]any{"user": name, "address": addr}
	if ok {
		typ = EventSignIn
	} else {
		data["reason"] = reason
	}
	// A failed attempt's actor is the web server, not the name typed.
	ctx := archive.WithActor(context.WithoutCancel(r.Context()), "web:"+addr)
	if ok {
		ctx = archive.WithActor(ctx, name)
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if _, err := s.a.RecordEvent(ctx, typ, data); err != nil {
		s.log.Error("cannot record a sign-in in the journal", "user", name, "address", addr, "err", err)
	}
	s.log.Info("sign-in", "user", name, "address", addr, "ok", ok, "reason", reason)
}

// Audit records what the request's user did as a journal event of typ
// (searches, views of exempt content, exports; changes made through the
// archive packages are already events of their own). It logs, and
// returns, an error when the journal cannot be written: a handler that
// must not act unrecorded stops then.
func (s *Server) Audit(r *http.Request, typ string, data map[string]any) error {
	err := s.Write(context.WithoutCancel(r.Context()), func(ctx context.Context) error {
		_, err := s.a.RecordEvent(ctx, typ, data)
		return err
	})
	if err != nil {
		s.log.Error("cannot record an event in the journal", "type", typ, "err", err)
	}
	return err
}
