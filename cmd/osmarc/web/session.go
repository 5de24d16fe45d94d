package web

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net"
	"net/http"
	"sync"
	"time"
)

func readRand(b []byte) (int, error) { return rand.Read(b) }

// randomID is 256 random bits, base64url.
func randomID() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// session is one signed-in browser. It lives in the server's memory only:
// a restart signs everyone out. The cookie holds the id; the map is keyed
// by the id's SHA-256 so a memory dump of the keys cannot be replayed.
type session struct {
	user     string
	csrf     string
	created  time.Time
	lastSeen time.Time
	addr     string
}

type sessions struct {
	mu        sync.Mutex
	m         map[[32]byte]*session
	idle, max time.Duration
}

func newSessions(idle, max time.Duration) *sessions {
	return &sessions{m: map[[32]byte]*session{}, idle: idle, max: max}
}

func (ss *sessions) create(user, addr string, now time.Time) (id string, s *session) {
	id = randomID()
	s = &session{user: user, csrf: randomID(), created: now, lastSeen: now, addr: addr}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	// Drop expired sessions now and then, so the map stays small.
	if len(ss.m)%64 == 63 {
		for k, o := range ss.m {
			if ss.expired(o, now) {
				delete(ss.m, k)
			}
		}
	}
	ss.m[sha256.Sum256([]byte(id))] = s
	return id, s
}

func (ss *sessions) expired(s *session, now time.Time) bool {
	return now.Sub(s.lastSeen) >= ss.idle || now.Sub(s.created) >= ss.max
}

// lookup finds a live session and marks it used; expired sessions are
// deleted and reported as such.
func (ss *sessions) lookup(id string, now time.Time) (s session, ok, expired bool) {
	k := sha256.Sum256([]byte(id))
	ss.mu.Lock()
	defer ss.mu.Unlock()
	p := ss.m[k]
	if p == nil {
		return session{}, false, false
	}
	if ss.expired(p, now) {
		delete(ss.m, k)
		return session{}, false, true
	}
	p.lastSeen = now
	return *p, true, false
}

func (ss *sessions) delete(id string) {
	ss.mu.Lock()
	delete(ss.m, sha256.Sum256([]byte(id)))
	ss.mu.Unlock()
}

// deleteUser ends every session of a user (disabled, password changed).
func (ss *sessions) deleteUser(user string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for k, s := range ss.m {
		if s.user == user {
			delete(ss.m, k)
		}
	}
}

// Cookie names. Under TLS the __Host- prefix makes browsers refuse the
// cookie unless it is Secure, host-only and for path /.
func (s *Server) sessionCookie() string {
	if s.cfg.TLS {
		return "__Host-osmarc_session"
	}
	return "osmarc_session"
}

func (s *Server) preCookie() string {
	if s.cfg.TLS {
		return "__Host-osmarc_pre"
	}
	return "osmarc_pre"
}

func (s *Server) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: s.cfg.TLS, SameSite: http.SameSiteStrictMode,
	})
}

// limiter counts failed sign-ins by key (a user name, an address) within
// a sliding window.
type limiter struct {
	mu     sync.Mutex
	window time.Duration
	fails  map[string][]time.Time
}

func newLimiter(window time.Duration) *limiter {
	return &limiter{window: window, fails: map[string][]time.Time{}}
}

// blocked reports whether key has limit failures in the window, and when
// the oldest of them leaves it.
func (l *limiter) blocked(key string, limit int, now time.Time) (bool, time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ts := l.prune(key, now)
	if len(ts) >= limit {
		return true, ts[len(ts)-limit].Add(l.window)
	}
	return false, time.Time{}
}

func (l *limiter) prune(key string, now time.Time) []time.Time {
	ts := l.fails[key]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= l.window {
		i++
	}
	ts = ts[i:]
	if len(ts) == 0 {
		delete(l.fails, key)
	} else {
		l.fails[key] = ts
	}
	return ts
}

func (l *limiter) fail(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ts := l.prune(key, now)
	// Keep a bounded tail: the limit is far below this.
	if len(ts) >= 256 {
		ts = ts[len(ts)-255:]
	}
	l.fails[key] = append(ts, now)
}

func (l *limiter) reset(key string) {
	l.mu.Lock()
	delete(l.fails, key)
	l.mu.Unlock()
}

// clientAddr is the peer's IP address. osmarc does not trust
// X-Forwarded-For: behind a proxy, every client shares the proxy's limit.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
