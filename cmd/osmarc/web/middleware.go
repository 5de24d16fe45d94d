package web

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// ContentSecurityPolicy is sent with every response: only this server's
// own scripts, styles, images and forms; no plugins, no framing, no
// <base>. Archived content is hostile: nothing in it can run.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// securityHeaders sets the headers every response carries.
func (s *Server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		if s.cfg.TLS {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

// recoverPanics turns a handler's panic into a 500 that says nothing of
// the program's insides, and logs the stack.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("handler panicked", "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
				s.fail(w, r, http.StatusInternalServerError, "internal", "internal error (logged)", "")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// limitBody refuses bodies over Config.MaxBody: at once when the length is
// declared, else when a handler reads past it (the decoder's error is a
// *http.MaxBytesError, which fail turns into 413).
func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > s.cfg.MaxBody {
			s.fail(w, r, http.StatusRequestEntityTooLarge, "too-large",
				fmt.Sprintf("request body of %d bytes is over the limit of %d bytes; nothing was changed", r.ContentLength, s.cfg.MaxBody), "body")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBody)
		next.ServeHTTP(w, r)
	})
}

type ctxKey int

const authKey ctxKey = 0

// authInfo is who made a request and how.
type authInfo struct {
	user *User
	// sessionID and csrf are set for a browser session.
	sessionID string
	csrf      string
	// token is set when a bearer token authenticated the request.
	token *Token
	// expired: a session cookie came, but its session had ended.
	expired bool
	// badToken: an Authorization header came with a token that is not
	// (or no longer) good.
	badToken bool
	// pre is the anonymous CSRF cookie's value (before sign-in).
	pre      string
	preToken string
}

func authFrom(ctx context.Context) *authInfo {
	a, _ := ctx.Value(authKey).(*authInfo)
	if a == nil {
		return &authInfo{}
	}
	return a
}

// UserFrom returns the signed-in user of a request's context, or nil.
func UserFrom(ctx context.Context) *User { return authFrom(ctx).user }

// Can reports whether the request's user holds perm (for showing or
// hiding a form; handlers are checked by their route's permission).
func Can(ctx context.Context, perm Permission) bool {
	u := UserFrom(ctx)
	if u == nil {
		return perm == PermPublic
	}
	return Allowed(u.Role, perm)
}

// Redact reports whether what the request shows must be redacted:
// personal information and exempt items, for users without
// PermReadUnredacted.
func Redact(ctx context.Context) bool { return !Can(ctx, PermReadUnredacted) }

// CSRFField is the name of the hidden form field that carries the CSRF
// token; scripts using a session cookie send the X-CSRF-Token header.
const CSRFField = "csrf_token"

// CSRFToken is the token a page puts in every form that changes anything
// (as <input type="hidden" name="csrf_token">): the session's, or before
// sign-in one bound to the browser's pre-session cookie.
func CSRFToken(r *http.Request) string {
	a := authFrom(r.Context())
	if a.csrf != "" {
		return a.csrf
	}
	return a.preToken
}

// authenticate finds who is asking: a bearer token (scripts), else a
// session cookie (browsers). Neither is an error here; the route's
// permission decides.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := &authInfo{}
		now := s.now()
		if h := r.Header.Get("Authorization"); h != "" {
			scheme, tok, _ := strings.Cut(h, " ")
			if u, t, ok := s.users.TokenUser(strings.TrimSpace(tok)); ok && strings.EqualFold(scheme, "Bearer") {
				a.user, a.token = &u, &t
			} else {
				a.badToken = true
			}
		} else if c, err := r.Cookie(s.sessionCookie()); err == nil && c.Value != "" {
			ss, ok, expired := s.sessions.lookup(c.Value, now)
			switch {
			case ok:
				if u, err := s.users.User(ss.user); err == nil && !u.Disabled {
					a.user, a.sessionID, a.csrf = &u, c.Value, ss.csrf
				} else {
					s.sessions.delete(c.Value)
					a.expired = true
				}
			default:
				a.expired = expired || !ok
			}
			if a.user == nil {
				s.setCookie(w, s.sessionCookie(), "", -1)
			}
		}
		if a.user == nil && a.token == nil && !a.badToken {
			// A browser before sign-in: bind a CSRF token to a random
			// cookie, so the sign-in form is protected too.
			if c, err := r.Cookie(s.preCookie()); err == nil && len(c.Value) >= 32 {
				a.pre = c.Value
			} else if !strings.HasPrefix(r.URL.Path, "/api/") {
				a.pre = randomID()
				s.setCookie(w, s.preCookie(), a.pre, 0)
			}
			if a.pre != "" {
				a.preToken = s.preCSRF(a.pre)
			}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), authKey, a)))
	})
}

func (s *Server) preCSRF(pre string) string {
	m := hmac.New(sha256.New, s.csrfKey[:])
	m.Write([]byte("osmarc pre-session csrf\x00" + pre))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// crossOrigin refuses state-changing browser requests from other sites
// (Sec-Fetch-Site, Origin), a second wall behind the CSRF token.
var crossOrigin = http.NewCrossOriginProtection()

// checkCSRF checks a state-changing request. A bearer-token request is
// exempt: no browser sends one by itself.
func (s *Server) checkCSRF(r *http.Request, a *authInfo) error {
	if a.token != nil {
		return nil
	}
	if err := crossOrigin.Check(r); err != nil {
		return errors.New("refused a cross-origin request")
	}
	want := a.csrf
	if want == "" {
		// Before sign-in, a JSON request to the API (POST
		// /api/v1/session) needs no token: a page on another site cannot
		// send application/json without a CORS preflight, which this
		// server never grants, and the origin check above passed.
		if strings.HasPrefix(r.URL.Path, "/api/") && strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			return nil
		}
		want = a.preToken
	}
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		ct := r.Header.Get("Content-Type")
		if strings.HasPrefix(ct, "application/x-www-form-urlencoded") || strings.HasPrefix(ct, "multipart/form-data") {
			got = r.PostFormValue(CSRFField)
		}
	}
	switch {
	case got == "":
		return errors.New("the CSRF token is missing (reload the page and try again)")
	case want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1:
		return errors.New("the CSRF token does not match this session (reload the page and try again)")
	}
	return nil
}

// guard checks a route's permission and, for a change, its CSRF token,
// before the handler runs.
func (s *Server) guard(rt Route) http.Handler {
	api := rt.API()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := authFrom(r.Context())
		if a.badToken {
			s.fail(w, r, http.StatusUnauthorized, "bad-token", "the API token is unknown, revoked, or its user disabled", "Authorization")
			return
		}
		if rt.Perm != PermPublic {
			if a.user == nil {
				if !api && r.Method == http.MethodGet {
					q := url.Values{"next": {r.URL.RequestURI()}}
					if a.expired {
						q.Set("expired", "1")
					}
					http.Redirect(w, r, "/signin?"+q.Encode(), http.StatusSeeOther)
					return
				}
				if a.expired {
					s.fail(w, r, http.StatusUnauthorized, "session-expired", "your session has expired: sign in again", "")
				} else {
					s.fail(w, r, http.StatusUnauthorized, "unauthenticated", "sign in first (or send an API token: Authorization: Bearer …)", "")
				}
				return
			}
			if !Allowed(a.user.Role, rt.Perm) {
				s.fail(w, r, http.StatusForbidden, "forbidden",
					fmt.Sprintf("your role (%s) may not do this: it needs %q, held by %s", a.user.Role, rt.Perm, roleList(RolesWith(rt.Perm))), "")
				return
			}
		}
		if !safeMethod(r.Method) {
			if err := s.checkCSRF(r, a); err != nil {
				s.fail(w, r, http.StatusForbidden, "csrf", err.Error()+"; nothing was changed", CSRFField)
				return
			}
		}
		rt.Handler(w, r)
	})
}

func roleList(rs []Role) string {
	if len(rs) == 0 {
		return "no role"
	}
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = string(r)
	}
	return strings.Join(parts, ", ")
}

// retryAfter sets Retry-After in whole seconds.
func retryAfter(w http.ResponseWriter, d time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(int(d.Seconds()+0.999)))
}
