package collect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/osmarc/osmarc/archive"
)

// EventCollectFailed is the journal event a failed run records, so that
// coverage reports show when collection failed and why. Its data is a
// FailedRun.
const EventCollectFailed = "collect.failed"

// Classes of failure, as FailedRun.Class and RunResult.Class name them.
const (
	ClassAuth        = "auth"        // the token is missing, expired or refused
	ClassRateLimit   = "rate-limit"  // the platform kept saying to slow down
	ClassUnavailable = "unavailable" // 5xx, timeouts, connection errors past the retries
	ClassMalformed   = "malformed"   // a response or record did not parse
	ClassOther       = "other"       // anything else (the store failed, a bug)
)

// ErrDeactivated: the account was deactivated, so it is not collected.
var ErrDeactivated = errors.New("account deactivated")

// Classify names the class of a run's error: auth, rate-limit,
// unavailable, malformed or other ("" for nil).
func Classify(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrAuth):
		return ClassAuth
	case errors.Is(err, ErrRateLimited):
		return ClassRateLimit
	case errors.Is(err, ErrUnavailable):
		return ClassUnavailable
	case errors.Is(err, ErrMalformed), errors.Is(err, archive.ErrBadInput):
		return ClassMalformed
	}
	var ie *archive.InputError
	if errors.As(err, &ie) {
		return ClassMalformed
	}
	return ClassOther
}

// FailedRun is the data of a collect.failed event. It holds no secret:
// Error is scrubbed of tokens and of the account's secret.
type FailedRun struct {
	Account   string    `json:"account"`
	Collector string    `json:"collector"`
	Class     string    `json:"class"`
	Error     string    `json:"error"`
	Capture   string    `json:"capture,omitempty"`
	StartedAt time.Time `json:"started_at"`
	// RetryAt is when the platform said requests may resume (a rate
	// limit longer than the client waits).
	RetryAt *time.Time `json:"retry_at,omitempty"`
}

// RunOptions shape one run.
type RunOptions struct {
	// Full asks for a complete listing (Job.Full).
	Full bool
	// NoMedia skips media downloads (Job.Media is its opposite).
	NoMedia bool
	// HTTP reaches the platform; nil builds a Client from Client, with
	// AllowPrivate set from the account.
	HTTP Fetcher
	// Client are the options of the Client built when HTTP is nil.
	Client ClientOptions
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Log receives the run's progress (default: nothing).
	Log *slog.Logger
	// Getenv reads env: credentials (default os.Getenv).
	Getenv func(string) string
	// OnError is told of each bad record.
	OnError func(*archive.InputError)
	// Progress, when set, is told the number of items captured so far
	// after each one.
	Progress func(items int64)
	// Grace is how long a request already under way when ctx ends may
	// go on, so the page in hand is finished and captured (default 30 s);
	// no request starts after ctx ends.
	Grace time.Duration
	// Lock serialises the writes to the archive (commits and events) of
	// runs that share it concurrently: the archive takes one writer at a
	// time. Default: one lock shared by every run in the process.
	Lock sync.Locker
}

func (o *RunOptions) defaults() {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Lock == nil {
		o.Lock = &writeLock
	}
	if o.Grace <= 0 {
		o.Grace = 30 * time.Second
	}
}

// writeLock is the default RunOptions.Lock.
var writeLock sync.Mutex

// RunResult says what one run did.
type RunResult struct {
	Account   string `json:"account"`
	Collector string `json:"collector"`
	// Capture is the capture's id; empty when nothing was recorded.
	Capture     string `json:"capture,omitempty"`
	Items       int64  `json:"items"`
	NewVersions int64  `json:"new_versions"`
	Removed     int64  `json:"removed"`
	// Errors counts the bad records reported.
	Errors int64 `json:"errors"`
	// MediaErrors counts media that could not be fetched or stored; they
	// do not make the capture incomplete.
	MediaErrors int64 `json:"media_errors"`
	// Complete: the run listed its scope completely, without error.
	Complete  bool          `json:"complete"`
	StartedAt time.Time     `json:"started_at"`
	Duration  time.Duration `json:"duration_ns"`
	// Class and Error say why the run failed (scrubbed); empty when it
	// did not.
	Class string `json:"class,omitempty"`
	Error string `json:"error,omitempty"`
	// Skipped says why the account was not collected (deactivated).
	Skipped string `json:"skipped,omitempty"`
	// NewAccounts are the accounts the capture registered.
	NewAccounts []string `json:"new_accounts,omitempty"`
}

// ReadSecret reads the secret a credentials reference names: "env:NAME"
// (an environment variable, through getenv) or "file:/path" (the file's
// content, trimmed). An empty reference is no secret. A secret that
// cannot be read is ErrAuth, with a message naming the reference, never
// the value.
func ReadSecret(ref string, getenv func(string) string) (string, error) {
	switch {
	case ref == "":
		return "", nil
	case strings.HasPrefix(ref, "env:"):
		name := strings.TrimPrefix(ref, "env:")
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return "", authErrorf("credentials %s: the environment variable %s is not set", ref, name)
		}
		return v, nil
	case strings.HasPrefix(ref, "file:"):
		path := strings.TrimPrefix(ref, "file:")
		f, err := os.Open(path)
		if err != nil {
			why := "cannot be read"
			if errors.Is(err, fs.ErrNotExist) {
				why = "does not exist"
			} else if errors.Is(err, fs.ErrPermission) {
				why = "is not readable by this user"
			}
			return "", authErrorf("credentials %s: the file %s", ref, why)
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, 64<<10))
		if err != nil {
			return "", authErrorf("credentials %s: the file cannot be read", ref)
		}
		v := strings.TrimSpace(string(b))
		if v == "" {
			return "", authErrorf("credentials %s: the file is empty", ref)
		}
		return v, nil
	}
	return "", authErrorf("credentials %q: want env:NAME or file:/path", ref)
}

// authErrorf is an error wrapping ErrAuth whose message says only what
// is wrong with the credentials reference.
func authErrorf(format string, args ...any) error {
	return &runError{msg: fmt.Sprintf(format, args...), err: ErrAuth}
}

// Run runs collector c once for acct into archive a, as one capture:
//   - a deactivated account is not collected (an error wrapping
//     ErrDeactivated, nothing recorded);
//   - the secret is read from acct.Credentials now, never stored;
//   - the collector starts from the state the last successful run of the
//     same collector for the account recorded;
//   - what it captured is committed even when it fails; the capture is
//     then incomplete (never marked complete, so nothing is marked
//     removed because of it) and keeps the previous state;
//   - a failure (an error, or bad records) is recorded as a
//     collect.failed event and returned, wrapped, with RunResult.Class
//     naming its class.
//
// Cancelling ctx asks the collector to stop (between pages); what it
// captured is still committed, as incomplete.
func Run(ctx context.Context, a *archive.Archive, acct archive.Account, c Collector, o RunOptions) (RunResult, error) {
	o.defaults()
	res := RunResult{Account: acct.Key, Collector: c.Platform(), StartedAt: o.Now().UTC()}
	if acct.Status == archive.AccountDeactivated {
		when := ""
		if acct.DeactivatedAt != nil {
			when = " on " + acct.DeactivatedAt.UTC().Format(time.DateOnly)
		}
		res.Skipped = "deactivated" + when
		return res, fmt.Errorf("collect %s: not collected: the account was deactivated%s: %w", acct.Key, when, ErrDeactivated)
	}
	log := o.Log.WithGroup("collect").With("account", acct.Key, "collector", c.Platform())
	secret, err := ReadSecret(acct.Credentials, o.Getenv)
	if err != nil {
		return fail(ctx, a, &res, o, "", err)
	}
	state, err := a.LastState(acct.Key, c.Platform())
	if err != nil {
		return fail(ctx, a, &res, o, secret, fmt.Errorf("read the last run's state: %w", err))
	}
	hc := o.HTTP
	if hc == nil {
		co := o.Client
		co.AllowPrivate = acct.AllowPrivate
		if co.Logger == nil {
			co.Logger = o.Log
		}
		hc = NewClient(co)
	}
	hc = &stoppingFetcher{inner: hc, stop: ctx, grace: o.Grace}
	var sources []string
	if acct.BaseURL != "" {
		sources = []string{acct.BaseURL}
	}
	// The capture outlives a cancelled ctx: what was captured before the
	// collector stopped is still written.
	wctx := context.WithoutCancel(ctx)
	w, err := a.BeginCapture(wctx, archive.CaptureOptions{
		Collector: c.Platform(), CollectorVersion: c.Version(), Account: acct.Key, Sources: sources, OnError: o.OnError,
	})
	if err != nil {
		return fail(ctx, a, &res, o, secret, fmt.Errorf("begin capture: %w", err))
	}
	sink := &runSink{CaptureSink: CaptureSink{w}, progress: o.Progress}
	job := &Job{
		Account: acct, Secret: secret, State: state, Full: o.Full, Media: !o.NoMedia,
		HTTP: hc, Sink: sink, Now: o.Now, Log: log,
	}
	log.Debug("collecting", "full", o.Full, "state", len(state) > 0)
	cerr := collectSafely(ctx, c, job)
	if cerr == nil && ctx.Err() != nil {
		cerr = fmt.Errorf("stopped: %w", ctx.Err())
	}
	if cerr == nil {
		// Only a run that finished may say it listed completely, and
		// only it moves the state on.
		if sink.scope != nil {
			w.Complete(*sink.scope)
		}
		if sink.state != nil {
			w.SetState(sink.state)
		}
	}
	return commit(ctx, a, w, &res, o, secret, cerr, log)
}

// RunImport imports srcs with imp for acct into archive a, as one capture
// by "import:<format>": each source in turn; a source that fails is
// reported and the others still imported; everything good is committed;
// bad records or a failed source make the capture incomplete, are recorded
// as a collect.failed event and are returned.
func RunImport(ctx context.Context, a *archive.Archive, acct archive.Account, imp Importer, srcs []Source, o RunOptions) (RunResult, error) {
	o.defaults()
	name := "import:" + imp.Format()
	res := RunResult{Account: acct.Key, Collector: name, StartedAt: o.Now().UTC()}
	log := o.Log.WithGroup("collect").With("account", acct.Key, "collector", name)
	var sources []string
	for _, s := range srcs {
		sources = append(sources, s.Name)
	}
	wctx := context.WithoutCancel(ctx)
	w, err := a.BeginCapture(wctx, archive.CaptureOptions{Collector: name, Account: acct.Key, Sources: sources, OnError: o.OnError})
	if err != nil {
		return fail(ctx, a, &res, o, "", fmt.Errorf("begin capture: %w", err))
	}
	sink := &runSink{CaptureSink: CaptureSink{w}, progress: o.Progress}
	var errs []error
	for _, src := range srcs {
		if err := ctx.Err(); err != nil {
			errs = append(errs, fmt.Errorf("stopped: %w", err))
			break
		}
		if err := importSafely(ctx, imp, src, acct, sink); err != nil {
			if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
				// The source is reported as a bad record so the capture
				// says it was not read whole.
				w.Bad(&archive.InputError{Source: src.Name, Err: err})
			}
			errs = append(errs, fmt.Errorf("%s: %w", src.Name, err))
		}
	}
	ierr := errors.Join(errs...)
	if ierr == nil {
		if sink.scope != nil {
			w.Complete(*sink.scope)
		}
		if sink.state != nil {
			w.SetState(sink.state)
		}
	}
	return commit(ctx, a, w, &res, o, "", ierr, log)
}

// commit records the capture whatever happened, and the failure if there
// was one.
func commit(ctx context.Context, a *archive.Archive, w *archive.CaptureWriter, res *RunResult, o RunOptions, secret string, runErr error, log *slog.Logger) (RunResult, error) {
	o.Lock.Lock()
	ir, cerr := w.Commit(context.WithoutCancel(ctx))
	o.Lock.Unlock()
	res.Capture, res.Items, res.NewVersions, res.Removed, res.Errors = ir.Capture, ir.Items, ir.NewVersions, ir.Removed, ir.Errors
	res.MediaErrors = ir.MediaErrors
	res.Complete, res.NewAccounts = ir.Complete, ir.NewAccounts
	if cerr != nil {
		if ir.Capture == "" {
			res.Items, res.NewVersions, res.Removed = 0, 0, 0
		}
		runErr = errors.Join(runErr, fmt.Errorf("commit: %w", cerr))
	}
	if runErr == nil && res.Errors > 0 {
		runErr = &runError{msg: fmt.Sprintf("%d bad record(s) were not captured; the capture is incomplete", res.Errors), err: ErrMalformed}
	}
	if runErr != nil {
		res.Complete = false
		return fail(ctx, a, res, o, secret, runErr)
	}
	res.Duration = o.Now().Sub(res.StartedAt)
	log.Debug("collected", "capture", res.Capture, "items", res.Items, "new_versions", res.NewVersions, "complete", res.Complete)
	return *res, nil
}

// fail records a collect.failed event for the run and returns its error,
// scrubbed of the secret and tokens.
func fail(ctx context.Context, a *archive.Archive, res *RunResult, o RunOptions, secret string, err error) (RunResult, error) {
	res.Class = Classify(err)
	res.Error = ScrubSecret(oneLine(err.Error()), secret)
	res.Duration = o.Now().Sub(res.StartedAt)
	ev := FailedRun{Account: res.Account, Collector: res.Collector, Class: res.Class, Error: res.Error, Capture: res.Capture, StartedAt: res.StartedAt}
	var rl *RateLimitError
	if errors.As(err, &rl) {
		t := rl.RetryAt.UTC()
		ev.RetryAt = &t
	}
	o.Lock.Lock()
	_, rerr := a.RecordEvent(context.WithoutCancel(ctx), EventCollectFailed, ev)
	o.Lock.Unlock()
	out := &runError{msg: fmt.Sprintf("%s %s: %s", verb(res.Collector), res.Account, res.Error), err: err}
	if rerr != nil {
		return *res, errors.Join(out, fmt.Errorf("record the failure: %w", rerr))
	}
	return *res, out
}

func verb(collector string) string {
	if strings.HasPrefix(collector, "import:") {
		return "import"
	}
	return "collect"
}

// runError is a run's error with a scrubbed message; errors.Is still sees
// the sentinels it wraps.
type runError struct {
	msg string
	err error
}

func (e *runError) Error() string { return e.msg }
func (e *runError) Unwrap() error { return e.err }

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// runSink holds back Complete and SetState until the run is known to have
// finished without error.
type runSink struct {
	CaptureSink
	progress func(items int64)
	items    atomic.Int64
	mu       sync.Mutex
	scope    *archive.Scope
	state    json.RawMessage
}

func (s *runSink) AddItem(ctx context.Context, it archive.Item, o archive.ItemOptions) error {
	err := s.CaptureSink.AddItem(ctx, it, o)
	if err == nil && s.progress != nil {
		s.progress(s.items.Add(1))
	}
	return err
}

func (s *runSink) Complete(sc archive.Scope) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scope = &sc
}

func (s *runSink) SetState(state json.RawMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state = append(json.RawMessage(nil), state...)
}

// collectSafely runs the collector, turning a panic into an error.
func collectSafely(ctx context.Context, c Collector, job *Job) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("collector %s panicked: %v", c.Platform(), r)
		}
	}()
	return c.Collect(ctx, job)
}

func importSafely(ctx context.Context, imp Importer, src Source, acct archive.Account, sink Sink) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("importer %s panicked: %v", imp.Format(), r)
		}
	}()
	return imp.Import(ctx, src, acct, sink)
}

// stoppingFetcher lets the request in hand finish when the run is told to
// stop, and starts none after: a collector stopped between pages keeps the
// page it was fetching.
type stoppingFetcher struct {
	inner Fetcher
	stop  context.Context
	grace time.Duration
}

// detach returns a context for one request that outlives the run's stop by
// the grace period, but ends at once when ctx ends for another reason (the
// collector's own deadline).
func (s *stoppingFetcher) detach(ctx context.Context) (context.Context, context.CancelFunc) {
	d, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var timer *time.Timer
	var mu sync.Mutex
	unhook := context.AfterFunc(ctx, func() {
		if s.stop.Err() == nil || ctx.Err() == context.DeadlineExceeded {
			cancel()
			return
		}
		mu.Lock()
		timer = time.AfterFunc(s.grace, cancel)
		mu.Unlock()
	})
	return d, func() {
		unhook()
		mu.Lock()
		if timer != nil {
			timer.Stop()
		}
		mu.Unlock()
		cancel()
	}
}

func (s *stoppingFetcher) Get(ctx context.Context, url string, header http.Header) (*Response, error) {
	if err := s.stop.Err(); err != nil {
		return nil, fmt.Errorf("get %s: stopping: %w", Scrub(url), err)
	}
	rctx, cancel := s.detach(ctx)
	defer cancel()
	return s.inner.Get(rctx, url, header)
}

func (s *stoppingFetcher) Download(ctx context.Context, url string, limit int64, accept []string) (*Download, error) {
	if err := s.stop.Err(); err != nil {
		return nil, fmt.Errorf("download %s: stopping: %w", Scrub(url), err)
	}
	rctx, cancel := s.detach(ctx)
	defer cancel()
	return s.inner.Download(rctx, url, limit, accept)
}
