package collect

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeTime is a clock that Sleep moves, recording each wait.
type fakeTime struct {
	mu     sync.Mutex
	t      time.Time
	sleeps []time.Duration
}

func newFakeTime() *fakeTime { return &fakeTime{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (f *fakeTime) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

func (f *fakeTime) Sleep(ctx context.Context, d time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sleeps = append(f.sleeps, d)
	f.t = f.t.Add(d)
	return ctx.Err()
}

func (f *fakeTime) Sleeps() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.sleeps...)
}

// testClient is a client for httptest servers with a fake clock.
func testClient(ft *fakeTime, mod func(*ClientOptions)) *Client {
	o := ClientOptions{AllowPrivate: true, Sleep: ft.Sleep, Now: ft.Now, MaxRetries: 3, Rand: func() float64 { return 0.5 }}
	if mod != nil {
		mod(&o)
	}
	return NewClient(o)
}

func TestForbiddenAddr(t *testing.T) {
	for _, tc := range []struct {
		addr      string
		forbidden bool
	}{
		{"127.0.0.1", true}, {"127.8.9.10", true}, {"10.1.2.3", true}, {"172.16.0.1", true}, {"172.31.255.255", true},
		{"172.32.0.1", false}, {"192.168.1.1", true}, {"169.254.169.254", true}, {"100.64.0.1", true},
		{"100.127.255.255", true}, {"100.128.0.1", false}, {"0.0.0.0", true}, {"0.1.2.3", true}, {"224.0.0.1", true},
		{"239.255.255.250", true}, {"255.255.255.255", true}, {"240.0.0.1", true}, {"192.0.2.10", true},
		{"8.8.8.8", false}, {"1.1.1.1", false}, {"93.184.216.34", false},
		{"::1", true}, {"::", true}, {"fc00::1", true}, {"fd12:3456::1", true}, {"fe80::1", true},
		{"ff02::1", true}, {"fec0::1", true}, {"::ffff:127.0.0.1", true}, {"::ffff:10.0.0.1", true},
		{"::ffff:169.254.169.254", true}, {"::ffff:8.8.8.8", false}, {"::127.0.0.1", true},
		{"64:ff9b::a00:1", true}, {"64:ff9b::808:808", false}, {"2002:a00:1::", true},
		{"2002:808:808::", false}, {"2001:db8::1", true}, {"2606:4700:4700::1111", false},
		{"2a00:1450:4001:80b::200e", false},
	} {
		if got := ForbiddenAddr(netip.MustParseAddr(tc.addr)); got != tc.forbidden {
			t.Errorf("ForbiddenAddr(%s) = %v, want %v", tc.addr, got, tc.forbidden)
		}
	}
}

func TestClientRefusesPrivateAddresses(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	ft := newFakeTime()
	c := NewClient(ClientOptions{Sleep: ft.Sleep, Now: ft.Now,
		Resolve: func(ctx context.Context, host string) ([]netip.Addr, error) {
			switch host {
			case "localhost":
				return []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")}, nil
			case "intranet.example":
				return []netip.Addr{netip.MustParseAddr("10.0.0.5")}, nil
			case "mixed.example":
				return []netip.Addr{netip.MustParseAddr("93.184.216.34"), netip.MustParseAddr("::ffff:127.0.0.1")}, nil
			}
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		}})
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	for _, u := range []string{
		srv.URL + "/api",
		fmt.Sprintf("http://localhost:%d/", port),
		fmt.Sprintf("http://[::1]:%d/", port),
		fmt.Sprintf("http://[::ffff:127.0.0.1]:%d/", port),
		"http://intranet.example/",
		"http://mixed.example/",
		"http://169.254.169.254/latest/meta-data/",
		"http://0.0.0.0:80/",
	} {
		_, err := c.Get(context.Background(), u, nil)
		if !errors.Is(err, ErrForbiddenAddress) {
			t.Errorf("Get %s: %v, want ErrForbiddenAddress", u, err)
		}
		if _, err := c.Download(context.Background(), u, 1<<20, nil); !errors.Is(err, ErrForbiddenAddress) {
			t.Errorf("Download %s: %v, want ErrForbiddenAddress", u, err)
		}
	}
	if hits.Load() != 0 {
		t.Errorf("the server was reached %d times", hits.Load())
	}
	if len(ft.Sleeps()) != 0 {
		t.Errorf("a refused address was retried: %v", ft.Sleeps())
	}
	// With AllowPrivate the same server is reached.
	if _, err := testClient(ft, nil).Get(context.Background(), srv.URL+"/api", nil); err != nil || hits.Load() != 1 {
		t.Fatalf("AllowPrivate: %v (hits %d)", err, hits.Load())
	}
}

func TestClientSchemesAndRedirects(t *testing.T) {
	var srvURL string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/to-ftp":
			http.Redirect(w, r, "ftp://example.org/file", http.StatusFound)
		case "/to-file":
			http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
		case "/to-private":
			http.Redirect(w, r, "http://10.0.0.1/secret", http.StatusFound)
		case "/to-metadata":
			http.Redirect(w, r, "http://169.254.169.254/latest/", http.StatusFound)
		case "/loop":
			n, _ := strconv.Atoi(r.URL.Query().Get("n"))
			http.Redirect(w, r, fmt.Sprintf("%s/loop?n=%d", srvURL, n+1), http.StatusFound)
		case "/hop":
			http.Redirect(w, r, srvURL+"/ok", http.StatusMovedPermanently)
		case "/ok":
			io.WriteString(w, `{"ok":true}`)
		}
	}))
	defer srv.Close()
	srvURL = srv.URL
	ft := newFakeTime()
	c := testClient(ft, func(o *ClientOptions) { o.AllowPrivate = false; o.MaxRedirects = 3 })
	// The test server is on loopback: let only it through, so a redirect
	// elsewhere meets the guard.
	loop := netip.MustParseAddr("127.0.0.1")
	c.permit = func(a netip.Addr) bool { return a == loop || !ForbiddenAddr(a) }

	for _, tc := range []struct {
		url  string
		want error
	}{
		{"ftp://example.org/x", ErrForbiddenAddress},
		{"file:///etc/passwd", ErrForbiddenAddress},
		{"gopher://example.org/", ErrForbiddenAddress},
		{srv.URL + "/to-ftp", ErrForbiddenAddress},
		{srv.URL + "/to-file", ErrForbiddenAddress},
		{srv.URL + "/to-private", ErrForbiddenAddress},
		{srv.URL + "/to-metadata", ErrForbiddenAddress},
		{srv.URL + "/loop?n=0", errRedirect},
		{srv.URL + "/hop", nil},
	} {
		resp, err := c.Get(context.Background(), tc.url, nil)
		if tc.want == nil {
			if err != nil || string(resp.Body) != `{"ok":true}` {
				t.Errorf("Get %s: %v", tc.url, err)
			}
			continue
		}
		if !errors.Is(err, tc.want) {
			t.Errorf("Get %s: %v, want %v", tc.url, err, tc.want)
		}
	}
	if s := ft.Sleeps(); len(s) != 0 {
		t.Errorf("refusals were retried: %v", s)
	}
}

// script serves a sequence of responses, one per request; the last one
// repeats.
type step struct {
	status int
	header map[string]string
	body   string
}

func scripted(t *testing.T, steps []step) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		if i >= len(steps) {
			i = len(steps) - 1
		}
		s := steps[i]
		for k, v := range s.header {
			w.Header().Set(k, v)
		}
		if s.status == 0 {
			s.status = 200
		}
		w.WriteHeader(s.status)
		io.WriteString(w, s.body)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestClientRetriesAndRateLimits(t *testing.T) {
	t0 := newFakeTime().Now()
	for _, tc := range []struct {
		name     string
		steps    []step
		want     error // nil: success
		requests int32
		sleeps   []time.Duration
		retryAt  time.Time // for a *RateLimitError
	}{
		{name: "ok", steps: []step{{body: "{}"}}, requests: 1},
		{name: "5xx then ok", steps: []step{{status: 500}, {status: 502}, {body: "{}"}}, requests: 3,
			sleeps: []time.Duration{250 * time.Millisecond, 500 * time.Millisecond}},
		{name: "5xx past the retries", steps: []step{{status: 503}}, want: ErrUnavailable, requests: 4,
			sleeps: []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second}},
		{name: "401", steps: []step{{status: 401}}, want: ErrAuth, requests: 1},
		{name: "403", steps: []step{{status: 403}}, want: ErrAuth, requests: 1},
		{name: "404", steps: []step{{status: 404}}, want: ErrNotFound, requests: 1},
		{name: "410", steps: []step{{status: 410}}, want: ErrNotFound, requests: 1},
		{name: "graph expired token", steps: []step{{status: 400, body: `{"error":{"message":"Error validating access token: Session has expired","type":"OAuthException","code":190,"error_subcode":463}}`}},
			want: ErrAuth, requests: 1},
		{name: "400 other", steps: []step{{status: 400, body: `{"error":"bad"}`}}, want: nil, requests: 1},
		{name: "429 retry-after seconds", steps: []step{{status: 429, header: map[string]string{"Retry-After": "7"}}, {body: "{}"}},
			requests: 2, sleeps: []time.Duration{7 * time.Second}},
		{name: "429 retry-after date", steps: []step{{status: 429, header: map[string]string{"Retry-After": t0.Add(90 * time.Second).Format(http.TimeFormat)}}, {body: "{}"}},
			requests: 2, sleeps: []time.Duration{90 * time.Second}},
		{name: "429 retry-after hours", steps: []step{{status: 429, header: map[string]string{"Retry-After": "7200"}}},
			want: ErrRateLimited, requests: 1, retryAt: t0.Add(2 * time.Hour)},
		{name: "429 no hint", steps: []step{{status: 429}, {body: "{}"}}, requests: 2, sleeps: []time.Duration{250 * time.Millisecond}},
		{name: "429 forever", steps: []step{{status: 429, header: map[string]string{"Retry-After": "1"}}}, want: ErrRateLimited, requests: 4,
			sleeps: []time.Duration{time.Second, time.Second, time.Second}},
		{name: "x 429 reset", steps: []step{{status: 429, header: map[string]string{"x-rate-limit-remaining": "0", "x-rate-limit-reset": strconv.FormatInt(t0.Add(60*time.Second).Unix(), 10)}}, {body: "{}"}},
			requests: 2, sleeps: []time.Duration{60 * time.Second}},
		{name: "x 429 reset too far", steps: []step{{status: 429, header: map[string]string{"x-rate-limit-remaining": "0", "x-rate-limit-reset": strconv.FormatInt(t0.Add(3*time.Hour).Unix(), 10)}}},
			want: ErrRateLimited, requests: 1, retryAt: t0.Add(3 * time.Hour)},
		{name: "mastodon 429 reset", steps: []step{{status: 429, header: map[string]string{"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": t0.Add(30 * time.Second).Format("2006-01-02T15:04:05.000Z")}}, {body: "{}"}},
			requests: 2, sleeps: []time.Duration{30 * time.Second}},
		{name: "graph throttled with regain", steps: []step{{status: 403, body: `{"error":{"message":"(#80001) There have been too many calls to this Page account","code":80001}}`,
			header: map[string]string{"X-Business-Use-Case-Usage": `{"1234":[{"type":"pages","call_count":100,"total_cputime":30,"total_time":40,"estimated_time_to_regain_access":3}]}`}}, {body: "{}"}},
			requests: 2, sleeps: []time.Duration{3 * time.Minute}},
		{name: "graph app limit too long", steps: []step{{status: 400, body: `{"error":{"message":"(#4) Application request limit reached","code":4}}`,
			header: map[string]string{"X-Business-Use-Case-Usage": `{"1234":[{"type":"instagram","call_count":100,"total_cputime":1,"total_time":1,"estimated_time_to_regain_access":60}]}`}}},
			want: ErrRateLimited, requests: 1, retryAt: t0.Add(time.Hour)},
		{name: "503 retry-after", steps: []step{{status: 503, header: map[string]string{"Retry-After": "3"}}, {body: "{}"}},
			requests: 2, sleeps: []time.Duration{3 * time.Second}},
		{name: "503 retry-after too long", steps: []step{{status: 503, header: map[string]string{"Retry-After": "86400"}}, {body: "{}"}},
			requests: 2, sleeps: []time.Duration{250 * time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, n := scripted(t, tc.steps)
			ft := newFakeTime()
			c := testClient(ft, nil)
			resp, err := c.Get(context.Background(), srv.URL+"/x", nil)
			switch {
			case tc.want == nil && tc.name == "400 other":
				if err == nil || resp == nil || resp.Status != 400 {
					t.Fatalf("400: %v %v", resp, err)
				}
			case tc.want == nil:
				if err != nil {
					t.Fatalf("Get: %v", err)
				}
			case !errors.Is(err, tc.want):
				t.Fatalf("Get: %v, want %v", err, tc.want)
			}
			if got := n.Load(); got != tc.requests {
				t.Errorf("%d requests, want %d", got, tc.requests)
			}
			if got := ft.Sleeps(); fmt.Sprint(got) != fmt.Sprint(tc.sleeps) {
				t.Errorf("slept %v, want %v", got, tc.sleeps)
			}
			if !tc.retryAt.IsZero() {
				var rl *RateLimitError
				if !errors.As(err, &rl) || !rl.RetryAt.Equal(tc.retryAt) {
					t.Fatalf("want a RateLimitError retrying at %s, got %v", tc.retryAt, err)
				}
				if !strings.Contains(err.Error(), tc.retryAt.Format(time.RFC3339)) {
					t.Errorf("the error does not say when to retry: %v", err)
				}
			}
		})
	}
}

// TestClientPacing: headers on a successful response make the next request
// wait, before it is sent.
func TestClientPacing(t *testing.T) {
	t0 := newFakeTime().Now()
	for _, tc := range []struct {
		name   string
		header map[string]string
		sleeps []time.Duration // before the second request
		want   error
	}{
		{"x none left", map[string]string{"x-rate-limit-limit": "900", "x-rate-limit-remaining": "0", "x-rate-limit-reset": strconv.FormatInt(t0.Add(2*time.Minute).Unix(), 10)},
			[]time.Duration{2 * time.Minute}, nil},
		{"x some left", map[string]string{"x-rate-limit-remaining": "12", "x-rate-limit-reset": strconv.FormatInt(t0.Add(2*time.Minute).Unix(), 10)}, nil, nil},
		{"mastodon none left", map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": t0.Add(45 * time.Second).Format(time.RFC3339Nano)},
			[]time.Duration{45 * time.Second}, nil},
		{"graph app usage low", map[string]string{"X-App-Usage": `{"call_count":10,"total_time":5,"total_cputime":5}`}, nil, nil},
		// (90-75)/(100-75) of MaxBackoff (30 s).
		{"graph app usage high", map[string]string{"X-App-Usage": `{"call_count":90,"total_time":25,"total_cputime":25}`}, []time.Duration{18 * time.Second}, nil},
		{"graph business regain", map[string]string{"X-Business-Use-Case-Usage": `{"99":[{"type":"pages","call_count":96,"total_cputime":20,"total_time":20,"estimated_time_to_regain_access":5}]}`},
			[]time.Duration{5 * time.Minute}, nil},
		{"graph business regain too long", map[string]string{"X-Business-Use-Case-Usage": `{"99":[{"type":"pages","call_count":100,"total_cputime":20,"total_time":20,"estimated_time_to_regain_access":120}]}`},
			nil, ErrRateLimited},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, n := scripted(t, []step{{header: tc.header, body: "{}"}, {body: "{}"}})
			ft := newFakeTime()
			c := testClient(ft, nil)
			if _, err := c.Get(context.Background(), srv.URL+"/1", nil); err != nil {
				t.Fatal(err)
			}
			_, err := c.Get(context.Background(), srv.URL+"/2", nil)
			if !errors.Is(err, tc.want) && !(tc.want == nil && err == nil) {
				t.Fatalf("second Get: %v, want %v", err, tc.want)
			}
			if got := ft.Sleeps(); fmt.Sprint(got) != fmt.Sprint(tc.sleeps) {
				t.Errorf("slept %v, want %v", got, tc.sleeps)
			}
			want := int32(2)
			if tc.want != nil {
				want = 1
			}
			if n.Load() != want {
				t.Errorf("%d requests, want %d", n.Load(), want)
			}
		})
	}
}

func TestClientBackoffIsBoundedFullJitter(t *testing.T) {
	srv, _ := scripted(t, []step{{status: 500}})
	ft := newFakeTime()
	r := 0.999
	c := testClient(ft, func(o *ClientOptions) {
		o.MaxRetries = 10
		o.BaseBackoff = time.Second
		o.MaxBackoff = 20 * time.Second
		o.Rand = func() float64 { return r }
	})
	if _, err := c.Get(context.Background(), srv.URL, nil); !errors.Is(err, ErrUnavailable) {
		t.Fatal(err)
	}
	s := ft.Sleeps()
	if len(s) != 10 {
		t.Fatalf("%d sleeps", len(s))
	}
	for i, d := range s {
		ceil := min(time.Second<<i, 20*time.Second)
		if d < 0 || d >= ceil || d < ceil*99/100 {
			t.Errorf("sleep %d = %v, want just under %v", i, d, ceil)
		}
	}
}

func TestClientTimeoutsAndConnectionErrors(t *testing.T) {
	var n atomic.Int32
	block := make(chan struct{})
	defer close(block)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			select {
			case <-block:
			case <-r.Context().Done():
			}
			return
		}
		io.WriteString(w, "{}")
	}))
	defer srv.Close()
	ft := newFakeTime()
	c := testClient(ft, func(o *ClientOptions) { o.Timeout = 100 * time.Millisecond })
	if _, err := c.Get(context.Background(), srv.URL, nil); err != nil {
		t.Fatalf("a timeout was not retried: %v", err)
	}
	if n.Load() != 2 || len(ft.Sleeps()) != 1 {
		t.Errorf("%d requests, sleeps %v", n.Load(), ft.Sleeps())
	}

	// Nothing listening: retried, then ErrUnavailable; the token in the
	// URL is not in the message.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	ft = newFakeTime()
	c = testClient(ft, nil)
	_, err := c.Get(context.Background(), "http://"+addr+"/v1/me?fields=id&access_token=EAAB-SECRET-TOKEN", http.Header{"Authorization": {"Bearer SECRET-BEARER"}})
	if !errors.Is(err, ErrUnavailable) || len(ft.Sleeps()) != 3 {
		t.Fatalf("connection refused: %v (sleeps %v)", err, ft.Sleeps())
	}
	if strings.Contains(err.Error(), "SECRET") || !strings.Contains(err.Error(), "access_token=REDACTED") {
		t.Errorf("the error leaks or hides too much: %v", err)
	}

	// The caller's context ending stops at once.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Get(ctx, srv.URL, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestClientResponseSizeCap(t *testing.T) {
	srv, _ := scripted(t, []step{{body: strings.Repeat("x", 2048)}})
	ft := newFakeTime()
	c := testClient(ft, func(o *ClientOptions) { o.MaxBody = 1024 })
	if _, err := c.Get(context.Background(), srv.URL, nil); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("2 KiB under a 1 KiB cap: %v", err)
	}
	if len(ft.Sleeps()) != 0 {
		t.Errorf("retried an oversized body")
	}
}

func TestClientNeverLeaksSecrets(t *testing.T) {
	srv, _ := scripted(t, []step{{status: 401, body: `{"error":"invalid token"}`}})
	var logs bytes.Buffer
	ft := newFakeTime()
	c := testClient(ft, func(o *ClientOptions) {
		o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	_, err := c.Get(context.Background(), srv.URL+"/api?access_token=TOPSECRET1&key=TOPSECRET2&max_id=5", http.Header{"Authorization": {"Bearer TOPSECRET3"}})
	if !errors.Is(err, ErrAuth) {
		t.Fatal(err)
	}
	if strings.Contains(err.Error(), "TOPSECRET") || !strings.Contains(err.Error(), "max_id=5") {
		t.Errorf("error: %v", err)
	}
	srv5, _ := scripted(t, []step{{status: 500}})
	c.Get(context.Background(), srv5.URL+"/api?access_token=TOPSECRET4", nil)
	if strings.Contains(logs.String(), "TOPSECRET") || !strings.Contains(logs.String(), "retrying") {
		t.Errorf("logs:\n%s", logs.String())
	}
}

func TestScrub(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://graph.facebook.com/v19.0/me?fields=id&access_token=EAAB123", "https://graph.facebook.com/v19.0/me?fields=id&access_token=REDACTED"},
		{"https://www.googleapis.com/youtube/v3/videos?key=AIzaSy123&part=snippet", "https://www.googleapis.com/youtube/v3/videos?key=REDACTED&part=snippet"},
		{"https://x/?pagination_token=abc&next_token=def", "https://x/?pagination_token=abc&next_token=def"},
		{"https://x/?client_secret=s1&refresh_token=r1&appsecret_proof=p1", "https://x/?client_secret=REDACTED&refresh_token=REDACTED&appsecret_proof=REDACTED"},
		{"get https://user:pass@host/x: boom", "get https://REDACTED@host/x: boom"},
		{"header Authorization: Bearer abcdefghijkl", "header Authorization: Bearer REDACTED"},
		{"s3?X-Amz-Signature=abc&X-Amz-Credential=def", "s3?X-Amz-Signature=REDACTED&X-Amz-Credential=REDACTED"},
		{"monkey=banana&page=2", "monkey=banana&page=2"},
		{"nothing to see", "nothing to see"},
		{"get https://x/me?access_token=abc: HTTP 401", "get https://x/me?access_token=REDACTED: HTTP 401"},
		{"(see https://x/?key=abc).", "(see https://x/?key=REDACTED)."},
	} {
		if got := Scrub(tc.in); got != tc.want {
			t.Errorf("Scrub(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := ScrubSecret("token abc is s3cr3t-value here", "s3cr3t-value"); strings.Contains(got, "s3cr3t") {
		t.Errorf("ScrubSecret: %q", got)
	}
}

var (
	pngBytes = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{0}, 100)...)
	mp4Bytes = append([]byte("\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"), bytes.Repeat([]byte{1}, 200)...)
	htmlPage = []byte("<!DOCTYPE html><html><head><title>Log in</title></head><body>Please log in</body></html>")
	heic     = append([]byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00"), bytes.Repeat([]byte{2}, 64)...)
)

func TestClientDownload(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serve := func(ct string, b []byte) {
			if ct != "" {
				w.Header().Set("Content-Type", ct)
			} else {
				w.Header()["Content-Type"] = nil
			}
			w.Write(b)
		}
		switch r.URL.Path {
		case "/photo.png":
			serve("image/png", pngBytes)
		case "/login-as-png":
			serve("image/png", htmlPage)
		case "/page":
			serve("text/html; charset=utf-8", htmlPage)
		case "/clip.mp4":
			serve("video/mp4", mp4Bytes)
		case "/audio.m4a":
			serve("audio/mp4", mp4Bytes)
		case "/photo.heic":
			serve("image/heic", heic)
		case "/untyped":
			serve("", pngBytes)
		case "/big":
			w.Header().Set("Content-Type", "image/png")
			w.Write(pngBytes)
			w.(http.Flusher).Flush()
			w.Write(bytes.Repeat([]byte{0}, 4096))
		case "/gone":
			http.NotFound(w, r)
		case "/expired":
			w.WriteHeader(403)
		case "/to-ftp":
			http.Redirect(w, r, "ftp://example.org/photo.png", http.StatusFound)
		}
	}))
	defer srv.Close()
	image := []string{"image/"}
	for _, tc := range []struct {
		path   string
		limit  int64
		accept []string
		want   error
		ct     string
	}{
		{"/photo.png", 1 << 20, image, nil, "image/png"},
		{"/photo.png", 1 << 20, nil, nil, "image/png"},
		{"/login-as-png", 1 << 20, image, ErrContentType, ""},
		{"/login-as-png", 1 << 20, nil, ErrContentType, ""},
		{"/page", 1 << 20, image, ErrContentType, ""},
		{"/page", 1 << 20, nil, nil, "text/html"},
		{"/clip.mp4", 1 << 20, []string{"image/", "video/"}, nil, "video/mp4"},
		{"/clip.mp4", 1 << 20, image, ErrContentType, ""},
		{"/audio.m4a", 1 << 20, []string{"audio/"}, nil, "audio/mp4"},
		{"/photo.heic", 1 << 20, image, nil, "image/heic"},
		{"/untyped", 1 << 20, image, nil, "image/png"},
		{"/big", 1024, image, ErrTooLarge, ""},
		{"/photo.png", 10, image, ErrTooLarge, ""},
		{"/gone", 1 << 20, image, ErrNotFound, ""},
		{"/expired", 1 << 20, image, nil, "error"},
		{"/to-ftp", 1 << 20, image, ErrForbiddenAddress, ""},
	} {
		ft := newFakeTime()
		d, err := testClient(ft, nil).Download(context.Background(), srv.URL+tc.path, tc.limit, tc.accept)
		if tc.ct == "error" {
			if err == nil || errors.Is(err, ErrAuth) {
				t.Errorf("%s: %v, want a plain HTTP error", tc.path, err)
			}
			continue
		}
		if tc.want != nil {
			if !errors.Is(err, tc.want) {
				t.Errorf("%s: %v, want %v", tc.path, err, tc.want)
			}
			if d != nil {
				t.Errorf("%s: a refused download returned a file", tc.path)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.path, err)
			continue
		}
		b, _ := io.ReadAll(d.File)
		if d.ContentType != tc.ct || int64(len(b)) != d.Size || sha256.Sum256(b) != [32]byte(d.Digest) {
			t.Errorf("%s: type %s size %d digest ok %v", tc.path, d.ContentType, d.Size, sha256.Sum256(b) == [32]byte(d.Digest))
		}
		name := d.File.Name()
		d.Close()
		if _, err := io.ReadAll(d.File); err == nil {
			t.Errorf("%s: temporary file %s still open", tc.path, name)
		}
	}
	// ftp and file URLs are refused before any connection.
	for _, u := range []string{"ftp://example.org/a.png", "file:///etc/passwd", "data:image/png;base64,AAAA"} {
		if _, err := testClient(newFakeTime(), nil).Download(context.Background(), u, 1<<20, image); !errors.Is(err, ErrForbiddenAddress) {
			t.Errorf("Download %s: %v", u, err)
		}
	}
}

func TestClientDownloadRetries5xx(t *testing.T) {
	srv, n := scripted(t, []step{{status: 502}, {status: 200, header: map[string]string{"Content-Type": "image/png"}, body: string(pngBytes)}})
	ft := newFakeTime()
	d, err := testClient(ft, nil).Download(context.Background(), srv.URL, 1<<20, []string{"image/"})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if n.Load() != 2 || d.Size != int64(len(pngBytes)) {
		t.Errorf("%d requests, size %d", n.Load(), d.Size)
	}
}

// FuzzScrub: Scrub never panics, is idempotent, and leaves no value of an
// access_token parameter behind.
func FuzzScrub(f *testing.F) {
	f.Add("https://graph.facebook.com/me?access_token=EAAB123&fields=id")
	f.Add("get https://u:p@h/x?key=abc: HTTP 401")
	f.Add("Bearer abcdefghijk")
	f.Fuzz(func(t *testing.T, s string) {
		once := Scrub(s)
		if Scrub(once) != once {
			t.Errorf("not idempotent: %q -> %q -> %q", s, once, Scrub(once))
		}
		tok := "Zq9x7TOKENv3"
		u := "https://api.example/v1?" + s + "&access_token=" + tok
		if strings.Contains(Scrub(u), tok) {
			t.Errorf("token left in %q", Scrub(u))
		}
	})
}

// FuzzRateLimitHeaders: the rate-limit header parsers never panic and
// never ask for a negative wait.
func FuzzRateLimitHeaders(f *testing.F) {
	f.Add("120", "1767225600", `{"call_count":90,"total_time":10,"total_cputime":10}`, `{"1":[{"call_count":100,"estimated_time_to_regain_access":5}]}`)
	f.Add("Wed, 21 Oct 2015 07:28:00 GMT", "2026-03-01T12:00:00.000Z", "{", "[]")
	f.Fuzz(func(t *testing.T, retryAfter, reset, appUsage, bucUsage string) {
		now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		if d, ok := parseRetryAfter(retryAfter, now); ok && d < 0 {
			t.Errorf("Retry-After %q: %v", retryAfter, d)
		}
		parseReset(reset)
		h := http.Header{}
		h.Set("X-App-Usage", appUsage)
		h.Set("X-Business-Use-Case-Usage", bucUsage)
		h.Set("Retry-After", retryAfter)
		h.Set("X-Rate-Limit-Reset", reset)
		h.Set("X-Rate-Limit-Remaining", "0")
		ft := newFakeTime()
		c := testClient(ft, nil)
		u, _ := url.Parse("https://api.example/")
		if wait, _ := c.learn(u, 429, h, []byte(appUsage)); wait < 0 {
			t.Errorf("negative wait %v", wait)
		}
	})
}
