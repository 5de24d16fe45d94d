// Package graphtest serves Graph API fixtures for the Facebook and
// Instagram collectors' tests, injects faults (rate limits, 5xx, expired
// tokens, malformed bodies), and runs collectors and importers into real
// archives.
package graphtest

import (
	"context"
	"fmt"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/collect"
)

// Server serves fixture files as the Graph API would. A request for
// /v19.0/101/feed?after=X is answered from <Dir>/<Run>/101_feed_after_X.json,
// or <Dir>/101_feed_after_X.json when the run has no such file; a request
// for /media/NAME from <Dir>/media/NAME. A route with faults queued
// answers with them first, one per request.
type Server struct {
	*httptest.Server
	Dir string
	// Token, when set, must come as "Authorization: Bearer <Token>";
	// other requests get Graph error 190.
	Token string
	// Echo, when set, is written into every paging.next link, as some
	// Graph API responses echo the access token.
	Echo string

	mu       sync.Mutex
	runs     []string
	faults   map[string][]Fault
	requests []string
	auth     []string
}

// Fault is a response served instead of a fixture.
type Fault struct {
	Status int
	Body   string
	Header map[string]string
}

// GraphError is a Graph API error response.
func GraphError(status, code, subcode int, msg string) Fault {
	return Fault{Status: status, Body: fmt.Sprintf(`{"error":{"message":%q,"type":"OAuthException","code":%d,"error_subcode":%d,"fbtrace_id":"AbCdEf123"}}`, msg, code, subcode)}
}

// Expired is Graph error 190, an expired token.
func Expired() Fault {
	return GraphError(400, 190, 463, "Error validating access token: Session has expired on Monday, 15-Jan-24 10:00:00 PST.")
}

// RateLimited is a Graph rate-limit error (code 4, 17, 32 or 613).
func RateLimited(code int) Fault {
	return Fault{Status: 400, Body: fmt.Sprintf(`{"error":{"message":"(#%d) Application request limit reached","type":"OAuthException","is_transient":true,"code":%d,"fbtrace_id":"AbCdEf123"}}`, code, code),
		Header: map[string]string{"X-App-Usage": `{"call_count":100,"total_cputime":20,"total_time":30}`}}
}

// TooMany is HTTP 429.
func TooMany() Fault { return Fault{Status: 429, Body: `{"error":{"message":"Too many requests"}}`} }

// Unavailable is HTTP 503.
func Unavailable() Fault { return Fault{Status: 503, Body: "Service Unavailable"} }

// New starts a server on fixtures in dir.
func New(tb testing.TB, dir string) *Server {
	tb.Helper()
	s := &Server{Dir: dir, faults: map[string][]Fault{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(s.Close)
	return s
}

// Base is the Graph API base URL, version included.
func (s *Server) Base() string { return s.URL + "/v19.0" }

// SetRun chooses the fixture subdirectories tried, in order, before Dir.
func (s *Server) SetRun(runs ...string) {
	s.mu.Lock()
	s.runs = runs
	s.mu.Unlock()
}

// Fault queues faults for a route ("101_feed", "media_parade.jpg").
func (s *Server) Fault(route string, f ...Fault) {
	s.mu.Lock()
	s.faults[route] = append(s.faults[route], f...)
	s.mu.Unlock()
}

// Requests are the requests served so far, as path?query.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

// Auth are the Authorization headers of the requests.
func (s *Server) Auth() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.auth...)
}

var reVersion = regexp.MustCompile(`^v\d+\.\d+$`)

// Route is the fixture name of a request.
func Route(u *url.URL) string {
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) > 0 && reVersion.MatchString(parts[0]) {
		parts = parts[1:]
	}
	r := strings.Join(parts, "_")
	if a := u.Query().Get("after"); a != "" {
		r += "_after_" + a
	}
	return r
}

func (s *Server) serve(w http.ResponseWriter, req *http.Request) {
	route := Route(req.URL)
	s.mu.Lock()
	s.requests = append(s.requests, req.URL.RequestURI())
	s.auth = append(s.auth, req.Header.Get("Authorization"))
	runs := s.runs
	var fault *Fault
	if q := s.faults[route]; len(q) > 0 {
		fault = &q[0]
		s.faults[route] = q[1:]
	}
	s.mu.Unlock()
	if fault != nil {
		for k, v := range fault.Header {
			w.Header().Set(k, v)
		}
		if fault.Status == 0 {
			fault.Status = 200
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(fault.Status)
		w.Write([]byte(fault.Body))
		return
	}
	if strings.HasPrefix(route, "media_") {
		name := strings.TrimPrefix(route, "media_")
		b, err := os.ReadFile(filepath.Join(s.Dir, "media", name))
		if err != nil {
			http.NotFound(w, req)
			return
		}
		w.Header().Set("Content-Type", mime.TypeByExtension(path.Ext(name)))
		w.Write(b)
		return
	}
	if s.Token != "" && req.Header.Get("Authorization") != "Bearer "+s.Token {
		f := Expired()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(f.Status)
		w.Write([]byte(f.Body))
		return
	}
	var body []byte
	var err error
	err = os.ErrNotExist
	for _, dir := range append(runs, "") {
		if body, err = os.ReadFile(filepath.Join(s.Dir, dir, route+".json")); err == nil {
			break
		}
	}
	if err != nil {
		f := GraphError(400, 100, 33, "Unsupported get request. Object with ID '"+route+"' does not exist")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(f.Status)
		w.Write([]byte(f.Body))
		return
	}
	if s.Echo != "" {
		body = []byte(strings.ReplaceAll(string(body), "&after=", "&access_token="+s.Echo+"&after="))
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.Write(body)
}

// Fetcher sends media downloads for any host to the server's /media/.
type Fetcher struct {
	collect.Fetcher
	Server *Server
}

// Download fetches the file of the same name from the server.
func (f Fetcher) Download(ctx context.Context, u string, limit int64, accept []string) (*collect.Download, error) {
	pu, err := url.Parse(u)
	if err != nil {
		return nil, err
	}
	d, err := f.Fetcher.Download(ctx, f.Server.URL+"/media/"+path.Base(pu.Path), limit, accept)
	if d != nil {
		d.URL = u
	}
	return d, err
}

// Client is the shared HTTP client as tests use it: private addresses
// allowed, no waiting between retries.
func Client() *collect.Client {
	return collect.NewClient(collect.ClientOptions{AllowPrivate: true, Sleep: func(ctx context.Context, d time.Duration) error { return ctx.Err() }})
}

// Job is a job for account against the server (media on).
func (s *Server) Job(acct archive.Account, secret string) collect.Job {
	if acct.Key == "" {
		acct.Key = archive.AccountKey(acct.Platform, acct.Handle)
	}
	acct.BaseURL = s.Base()
	return collect.Job{Account: acct, Secret: secret, Media: true, HTTP: Fetcher{Fetcher: Client(), Server: s}, Now: time.Now}
}

// Result is what a run into an archive did.
type Result struct {
	archive.IngestResult
	Bads []*archive.InputError
	Err  error
}

// RunInto runs collector c for job as one capture of archive a.
func RunInto(tb testing.TB, a *archive.Archive, c collect.Collector, job collect.Job) Result {
	tb.Helper()
	ctx := context.Background()
	var r Result
	w, err := a.BeginCapture(ctx, archive.CaptureOptions{Collector: c.Platform(), CollectorVersion: c.Version(), Account: job.Account.Key,
		OnError: func(e *archive.InputError) { r.Bads = append(r.Bads, e) }})
	if err != nil {
		tb.Fatal(err)
	}
	if len(job.State) == 0 {
		if job.State, err = a.LastState(job.Account.Key, c.Platform()); err != nil {
			tb.Fatal(err)
		}
	}
	job.Sink = collect.CaptureSink{CaptureWriter: w}
	r.Err = c.Collect(ctx, &job)
	if r.IngestResult, err = w.Commit(ctx); err != nil {
		tb.Fatal(err)
	}
	return r
}

// ImportInto runs importer im on src as one capture of archive a.
func ImportInto(tb testing.TB, a *archive.Archive, im collect.Importer, src collect.Source, acct archive.Account) Result {
	tb.Helper()
	ctx := context.Background()
	if acct.Platform == "" {
		acct.Platform = im.Platform()
	}
	if acct.Key == "" {
		acct.Key = archive.AccountKey(acct.Platform, acct.Handle)
	}
	var r Result
	w, err := a.BeginCapture(ctx, archive.CaptureOptions{Collector: "import:" + im.Format(), Account: acct.Key, Sources: []string{src.Name},
		OnError: func(e *archive.InputError) { r.Bads = append(r.Bads, e) }})
	if err != nil {
		tb.Fatal(err)
	}
	r.Err = im.Import(ctx, src, acct, collect.CaptureSink{CaptureWriter: w})
	if r.IngestResult, err = w.Commit(ctx); err != nil {
		tb.Fatal(err)
	}
	return r
}

// DirSource is an import source on a directory of the disk.
func DirSource(dir string) collect.Source {
	return collect.Source{Name: dir, FS: os.DirFS(dir), Path: "."}
}

// FileSource is an import source on one file of the disk.
func FileSource(file string) collect.Source {
	return collect.Source{Name: file, FS: os.DirFS(filepath.Dir(file)), Path: filepath.Base(file)}
}
