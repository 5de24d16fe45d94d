package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/request"
	"github.com/osmarc/osmarc/archive/retention"
	"github.com/osmarc/osmarc/index"
)

// Config says what a Server serves and how.
type Config struct {
	// Archive is the open archive (opened as its writer: the server
	// records events). Required.
	Archive *archive.Archive
	// Index is the search index; nil makes search answer 503.
	Index *index.Index
	// Users is the user registry; nil loads it from the archive.
	Users *Users
	// Records is records management over the archive, wired to the
	// index (rules, query holds, classification); nil means
	// retention.New(Archive, Now) without an index.
	Records *retention.Records
	// Presets are the request laws, calendars and exemption codes; nil
	// means request.DefaultPresets().
	Presets *request.Presets
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives the server's log (group "web"); nil discards.
	Logger *slog.Logger
	// TLS says the server is reached over HTTPS: cookies are Secure and
	// carry the __Host- prefix.
	TLS bool
	// MaxBody bounds a request body (0: 1 MiB); more is refused with 413.
	MaxBody int64
	// SessionIdle ends a session unused this long (0: 30 minutes);
	// SessionMax ends any session this long after sign-in (0: 12 hours).
	SessionIdle, SessionMax time.Duration
	// SignInLimit is how many failed sign-ins a user name may have, and
	// AddrLimit how many an address may have, within SignInWindow before
	// further attempts are refused until the window passes (0: 5, 20 and
	// 15 minutes).
	SignInLimit, AddrLimit int
	SignInWindow           time.Duration
	// WriteLock serialises the archive's writers; the daemon passes the
	// lock its collectors commit under. Nil: the server's own.
	WriteLock sync.Locker
	// ProduceBag writes a request's production as a bag at out exactly as
	// `osmarc request produce` does (the command layer sets it); nil:
	// request.Produce into a plain BagIt bag.
	ProduceBag ProduceFunc
	// Export runs an export as `osmarc export` does (the command layer
	// sets it); nil: the API offers no export.
	Export ExportFunc
	// BcryptCost is the cost of passwords set through the server (0:
	// DefaultCost; tests pass bcrypt.MinCost).
	BcryptCost int
}

// Server is the web application: JSON API, HTML pages, sign-in, sessions
// and roles over one open archive. Create it with New; serve Handler().
type Server struct {
	cfg      Config
	a        *archive.Archive
	ix       *index.Index
	users    *Users
	presets  *request.Presets
	records  *retention.Records
	log      *slog.Logger
	now      func() time.Time
	writeMu  sync.Locker
	sessions *sessions
	limiter  *limiter
	csrfKey  [32]byte
	searches searchLog

	routes  []Route
	handler http.Handler
}

// Route is one handler: its pattern (net/http ServeMux syntax, method
// first: "GET /api/v1/items/{key...}"), the permission it needs, and the
// handler. Every route of the server is in Server.Routes, so tests can
// check each one against each role.
type Route struct {
	Pattern string
	Perm    Permission
	Handler http.HandlerFunc
	// Summary says what the route does (OpenAPI, docs).
	Summary string
}

// Method and Path split the pattern.
func (rt Route) Method() string { m, _, _ := strings.Cut(rt.Pattern, " "); return m }

// Path is the pattern's path.
func (rt Route) Path() string { _, p, _ := strings.Cut(rt.Pattern, " "); return p }

// API reports whether the route belongs to the JSON API.
func (rt Route) API() bool { return strings.HasPrefix(rt.Path(), "/api/") }

// New builds a server over an open archive.
func New(cfg Config) (*Server, error) {
	if cfg.Archive == nil {
		return nil, errors.New("web: no archive")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 1 << 20
	}
	if cfg.SessionIdle <= 0 {
		cfg.SessionIdle = 30 * time.Minute
	}
	if cfg.SessionMax <= 0 {
		cfg.SessionMax = 12 * time.Hour
	}
	if cfg.SignInLimit <= 0 {
		cfg.SignInLimit = 5
	}
	if cfg.AddrLimit <= 0 {
		cfg.AddrLimit = 20
	}
	if cfg.SignInWindow <= 0 {
		cfg.SignInWindow = 15 * time.Minute
	}
	if cfg.WriteLock == nil {
		cfg.WriteLock = &sync.Mutex{}
	}
	if cfg.Presets == nil {
		cfg.Presets = request.DefaultPresets()
	}
	if cfg.Records == nil {
		cfg.Records = retention.New(cfg.Archive, cfg.Now)
	}
	if cfg.Users == nil {
		u, err := LoadUsers(cfg.Archive, cfg.BcryptCost)
		if err != nil {
			return nil, err
		}
		cfg.Users = u
	}
	s := &Server{
		cfg: cfg, a: cfg.Archive, ix: cfg.Index, users: cfg.Users, presets: cfg.Presets,
		records: cfg.Records,
		log:     cfg.Logger.WithGroup("web"), now: cfg.Now, writeMu: cfg.WriteLock,
		sessions: newSessions(cfg.SessionIdle, cfg.SessionMax),
		limiter:  newLimiter(cfg.SignInWindow),
	}
	if _, err := readRand(s.csrfKey[:]); err != nil {
		return nil, fmt.Errorf("web: random key: %w", err)
	}
	if s.ix != nil {
		// The hold filter and hold:NAME keep what each hold's scope covers.
		s.ix.SetHoldScope(HoldScope(s.records))
	}
	s.routes = append(s.apiRoutes(), s.pageRoutes()...)
	mux := http.NewServeMux()
	for _, rt := range s.routes {
		mux.Handle(rt.Pattern, s.guard(rt))
	}
	// Anything else: a 404 in the caller's language (JSON under /api/).
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, http.StatusNotFound, "not-found", "no such page: "+r.URL.Path, "")
	})
	s.handler = s.securityHeaders(s.recoverPanics(s.limitBody(s.authenticate(mux))))
	return s, nil
}

// Handler is the whole application with its middleware.
func (s *Server) Handler() http.Handler { return s.handler }

// Routes lists every route the server registered (API and pages).
func (s *Server) Routes() []Route { return append([]Route(nil), s.routes...) }

// Users is the server's user registry.
func (s *Server) Users() *Users { return s.users }

// Archive is the archive the server serves.
func (s *Server) Archive() *archive.Archive { return s.a }

// Index is the search index (nil when there is none).
func (s *Server) Index() *index.Index { return s.ix }

// Records is records management over the archive.
func (s *Server) Records() *retention.Records { return s.records }

// Presets are the request presets.
func (s *Server) Presets() *request.Presets { return s.presets }

// Write runs fn as the archive's writer, holding the write lock, with ctx
// naming the signed-in user as the actor of every journal event fn
// records. Every handler that changes the archive goes through Write.
func (s *Server) Write(ctx context.Context, fn func(ctx context.Context) error) error {
	if u := UserFrom(ctx); u != nil {
		ctx = archive.WithActor(ctx, u.Name)
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	return fn(ctx)
}

// Serve serves the application on srv's listener until ctx ends, then
// shuts down gracefully (in-flight requests get 5 seconds).
func Serve(ctx context.Context, srv *http.Server, serve func() error) error {
	done := make(chan error, 1)
	go func() { done <- serve() }()
	select {
	case err := <-done:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
