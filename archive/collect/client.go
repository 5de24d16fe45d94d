package collect

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/osmarc/osmarc/archive"
)

// Fetcher is how collectors reach platforms. *Client implements it.
type Fetcher interface {
	// Get fetches url with the given headers (authorisation included),
	// retrying 5xx and timeouts with backoff and honouring rate limits. A
	// final status outside 2xx is an error wrapping ErrAuth (401, 403),
	// ErrNotFound (404, 410), ErrRateLimited (429) or ErrUnavailable
	// (5xx), and the Response is still returned with its body.
	Get(ctx context.Context, url string, header http.Header) (*Response, error)
	// Download fetches a media file into a temporary file, refusing more
	// than limit bytes and content types not in accept (prefixes such as
	// "image/"; empty accepts any).
	Download(ctx context.Context, url string, limit int64, accept []string) (*Download, error)
}

// Response is a fetched API response.
type Response struct {
	URL    string
	Status int
	Header http.Header
	Body   []byte
}

// Download is a media file on local disk, hashed.
type Download struct {
	URL         string
	ContentType string
	Size        int64
	Digest      archive.Digest
	File        *os.File
}

// Close removes the temporary file.
func (d *Download) Close() error {
	if d == nil || d.File == nil {
		return nil
	}
	d.File.Close()
	return os.Remove(d.File.Name())
}

// ClientOptions configure a Client. The zero value is a safe client for
// the public internet.
type ClientOptions struct {
	// AllowPrivate lets requests reach loopback and private addresses.
	AllowPrivate bool
	// Timeout bounds one API request, body included (default 30 s).
	Timeout time.Duration
	// DownloadTimeout bounds one media download (default 10 min).
	DownloadTimeout time.Duration
	// MaxRetries bounds retries of one request (default 5; negative: none).
	MaxRetries int
	// UserAgent is sent with every request.
	UserAgent string
	// Sleep waits between retries; tests replace it (default: a timer
	// that stops when the context ends).
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock for rate-limit reset headers (default time.Now).
	Now func() time.Time
	// BaseBackoff and MaxBackoff shape the exponential backoff between
	// retries: attempt n waits a random time in [0, min(MaxBackoff,
	// BaseBackoff·2ⁿ)) ("full jitter"). Defaults 500 ms and 30 s.
	BaseBackoff, MaxBackoff time.Duration
	// MaxWait caps one wait for a rate limit to reset (default 15 min).
	// A platform that asks for longer gets a *RateLimitError (wrapping
	// ErrRateLimited) naming when to retry, instead of a sleep for hours.
	MaxWait time.Duration
	// MaxBody caps an API response body (default 64 MiB); more is
	// ErrTooLarge.
	MaxBody int64
	// MaxRedirects caps the redirects one request follows (default 5).
	MaxRedirects int
	// SlowDownAt is the Graph API usage percentage (X-App-Usage,
	// X-Business-Use-Case-Usage) from which requests to that host are
	// spaced out, up to MaxBackoff apart at 100 % (default 75).
	SlowDownAt int
	// Rand returns a number in [0, 1) for the jitter (default math/rand).
	Rand func() float64
	// Resolve looks up a host's addresses for the SSRF guard (default the
	// system resolver); tests and split-horizon setups replace it.
	Resolve func(ctx context.Context, host string) ([]netip.Addr, error)
	// Logger receives retries and waits at debug level (default: none).
	// URLs in it are scrubbed of tokens.
	Logger *slog.Logger
}

// RateLimitError says a platform asked to wait longer than the client
// waits (ClientOptions.MaxWait). It wraps ErrRateLimited.
type RateLimitError struct {
	// URL is the request's URL, scrubbed of tokens.
	URL string
	// RetryAt is when the platform said requests may resume.
	RetryAt time.Time
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("get %s: %v: the platform asks to wait until %s", e.URL, ErrRateLimited, e.RetryAt.UTC().Format(time.RFC3339))
}

func (e *RateLimitError) Unwrap() error { return ErrRateLimited }

// Client is the shared HTTP client of collectors: timeouts, retries of
// 5xx, timeouts and connection errors with exponential backoff and full
// jitter, platform rate limits (Retry-After, X's and Mastodon's reset
// headers, the Graph API's usage headers), a cap on response size, checked
// media downloads, and an SSRF guard: only http and https, and, unless
// AllowPrivate, never an address on loopback, a private, link-local,
// CGNAT, unspecified, multicast or otherwise special network, checked
// after resolution at connect time and again on every redirect. Errors and
// logs never hold a token: URLs in them are scrubbed (see Scrub).
//
// A Client is safe for concurrent use.
type Client struct {
	http *http.Client
	opts ClientOptions
	log  *slog.Logger
	// permit decides which addresses may be dialled; tests replace it.
	permit func(netip.Addr) bool

	mu   sync.Mutex
	host map[string]*hostState
}

// hostState is what the client learned of a host's rate limits.
type hostState struct {
	notBefore time.Time     // no request before this
	pace      time.Duration // space requests this far apart
	last      time.Time     // when the last request started
}

var _ Fetcher = (*Client)(nil)

// NewClient returns a client.
func NewClient(o ClientOptions) *Client {
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.DownloadTimeout <= 0 {
		o.DownloadTimeout = 10 * time.Minute
	}
	if o.MaxRetries == 0 {
		o.MaxRetries = 5
	} else if o.MaxRetries < 0 {
		o.MaxRetries = 0
	}
	if o.UserAgent == "" {
		o.UserAgent = "osmarc/" + archive.Version + " (records retention archiver)"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = sleepCtx
	}
	if o.BaseBackoff <= 0 {
		o.BaseBackoff = 500 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 30 * time.Second
	}
	if o.MaxWait <= 0 {
		o.MaxWait = 15 * time.Minute
	}
	if o.MaxBody <= 0 {
		o.MaxBody = 64 << 20
	}
	if o.MaxRedirects <= 0 {
		o.MaxRedirects = 5
	}
	if o.SlowDownAt <= 0 || o.SlowDownAt >= 100 {
		o.SlowDownAt = 75
	}
	if o.Rand == nil {
		o.Rand = rand.Float64
	}
	if o.Resolve == nil {
		o.Resolve = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Client{opts: o, log: log.WithGroup("collect.client"), host: map[string]*hostState{}}
	c.permit = func(a netip.Addr) bool { return o.AllowPrivate || !ForbiddenAddr(a) }
	dialer := &net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		// No proxy from the environment: a proxy would dial for us, past
		// the guard.
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return c.dial(ctx, dialer, network, addr)
		},
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   8,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   15 * time.Second,
		ResponseHeaderTimeout: o.Timeout,
		ExpectContinueTimeout: time.Second,
	}
	c.http = &http.Client{
		Transport: tr,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > o.MaxRedirects {
				return fmt.Errorf("%w: more than %d redirects", errRedirect, o.MaxRedirects)
			}
			if err := checkScheme(req.URL); err != nil {
				return err
			}
			return nil
		},
	}
	return c
}

var errRedirect = errors.New("redirect refused")

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// dial resolves addr, refuses it unless every address it resolves to is
// permitted, and connects to those addresses only (so a second lookup
// cannot answer differently).
func (c *Client) dial(ctx context.Context, d *net.Dialer, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		addrs = []netip.Addr{ip}
	} else {
		if addrs, err = c.opts.Resolve(ctx, host); err != nil {
			return nil, err
		}
		if len(addrs) == 0 {
			return nil, fmt.Errorf("lookup %s: no address", host)
		}
	}
	for _, a := range addrs {
		if !c.permit(a.Unmap()) {
			return nil, fmt.Errorf("%w: %s resolves to %s, a loopback, private or special address (allow it with account update --allow-private)", ErrForbiddenAddress, host, a)
		}
	}
	var firstErr error
	for _, a := range addrs {
		conn, err := d.DialContext(ctx, network, net.JoinHostPort(a.Unmap().String(), port))
		if err == nil {
			return conn, nil
		}
		if firstErr == nil {
			firstErr = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, firstErr
}

// special lists the networks ForbiddenAddr refuses beyond what netip's
// predicates name.
var special = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8",          // "this network"
		"100.64.0.0/10",      // CGNAT (RFC 6598)
		"192.0.0.0/24",       // IETF protocol assignments
		"192.0.2.0/24",       // TEST-NET-1
		"198.18.0.0/15",      // benchmarking
		"198.51.100.0/24",    // TEST-NET-2
		"203.0.113.0/24",     // TEST-NET-3
		"240.0.0.0/4",        // reserved, and the broadcast address
		"100::/64",           // discard
		"2001:db8::/32",      // documentation
		"fec0::/10",          // site-local (deprecated)
		"64:ff9b:1::/48",     // local-use NAT64
		"::/96",              // IPv4-compatible (deprecated)
		"2001::/32",          // Teredo
		"2001:10::/28",       // ORCHID
		"5f00::/16",          // SRv6 SIDs
		"3fff::/20",          // documentation
		"fc00::/7",           // unique local (ULA)
		"ff00::/8",           // multicast
		"fe80::/10",          // link-local
		"::ffff:0:0:0/96",    // SIIT
		"2002::/16",          // 6to4: checked by the embedded IPv4 below
		"64:ff9b::/96",       // NAT64: checked by the embedded IPv4 below
		"169.254.0.0/16",     // link-local (cloud metadata)
		"127.0.0.0/8",        // loopback
		"10.0.0.0/8",         // private
		"172.16.0.0/12",      // private
		"192.168.0.0/16",     // private
		"224.0.0.0/4",        // multicast
		"255.255.255.255/32", // broadcast
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

var (
	pre6to4  = netip.MustParsePrefix("2002::/16")
	preNAT64 = netip.MustParsePrefix("64:ff9b::/96")
)

// ForbiddenAddr reports whether the SSRF guard refuses a: loopback,
// private (RFC 1918, IPv6 ULA), link-local, CGNAT, unspecified, multicast,
// broadcast, documentation and other special-purpose addresses, and the
// IPv4-mapped, NAT64 and 6to4 forms of forbidden IPv4 addresses. 6to4 and
// NAT64 addresses that embed a public IPv4 address are allowed.
func ForbiddenAddr(a netip.Addr) bool {
	if !a.IsValid() {
		return true
	}
	a = a.Unmap()
	if a.Is6() {
		b := a.As16()
		switch {
		case preNAT64.Contains(a):
			return ForbiddenAddr(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
		case pre6to4.Contains(a):
			return ForbiddenAddr(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}))
		}
	}
	if a.IsLoopback() || a.IsPrivate() || a.IsUnspecified() || a.IsMulticast() ||
		a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast() {
		return true
	}
	for _, p := range special {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func checkScheme(u *url.URL) error {
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	default:
		return fmt.Errorf("%w: scheme %q (only http and https)", ErrForbiddenAddress, u.Scheme)
	}
	if u.Host == "" {
		return fmt.Errorf("no host in the URL")
	}
	return nil
}

// Get implements Fetcher.
func (c *Client) Get(ctx context.Context, rawURL string, header http.Header) (*Response, error) {
	safe := Scrub(rawURL)
	fail := func(err error) error { return &fetchError{op: "get", url: safe, err: err} }
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fail(errors.New("not a URL"))
	}
	if err := checkScheme(u); err != nil {
		return nil, fail(err)
	}
	var last *Response
	for attempt := 0; ; attempt++ {
		if err := c.awaitHost(ctx, u, safe); err != nil {
			return last, err
		}
		resp, err := c.attempt(ctx, u, header, c.opts.Timeout, func(resp *http.Response) (*Response, error) {
			body, err := io.ReadAll(io.LimitReader(resp.Body, c.opts.MaxBody+1))
			if err != nil {
				return nil, err
			}
			if int64(len(body)) > c.opts.MaxBody {
				return nil, fmt.Errorf("%w: response over %d bytes", ErrTooLarge, c.opts.MaxBody)
			}
			return &Response{URL: rawURL, Status: resp.StatusCode, Header: resp.Header, Body: body}, nil
		})
		if err != nil {
			if !retryable(ctx, err) {
				return last, fail(err)
			}
			if attempt >= c.opts.MaxRetries {
				return last, fail(fmt.Errorf("%w after %d attempts: %v", ErrUnavailable, attempt+1, err))
			}
			if err := c.backoff(ctx, attempt, safe, err.Error()); err != nil {
				return last, fail(err)
			}
			continue
		}
		last = resp
		wait, limited := c.learn(u, resp.Status, resp.Header, resp.Body)
		switch {
		case resp.Status >= 200 && resp.Status < 300:
			return resp, nil
		case limited:
			if attempt >= c.opts.MaxRetries {
				return last, fail(fmt.Errorf("%w (HTTP %d, still after %d attempts)", ErrRateLimited, resp.Status, attempt+1))
			}
			if wait <= 0 {
				wait = c.jitter(attempt)
			}
			if wait > c.opts.MaxWait {
				return last, &RateLimitError{URL: safe, RetryAt: c.opts.Now().Add(wait)}
			}
			c.log.DebugContext(ctx, "rate limited: waiting", "url", safe, "status", resp.Status, "wait", wait)
			if err := c.opts.Sleep(ctx, wait); err != nil {
				return last, fail(err)
			}
		case graphAuthError(resp.Status, resp.Body):
			return last, fail(fmt.Errorf("%w (HTTP %d, Graph API error 190)", ErrAuth, resp.Status))
		case resp.Status == 401 || resp.Status == 403:
			return last, fail(fmt.Errorf("%w (HTTP %d)", ErrAuth, resp.Status))
		case resp.Status == 404 || resp.Status == 410:
			return last, fail(fmt.Errorf("%w (HTTP %d)", ErrNotFound, resp.Status))
		case resp.Status >= 500:
			if attempt >= c.opts.MaxRetries {
				return last, fail(fmt.Errorf("%w (HTTP %d after %d attempts)", ErrUnavailable, resp.Status, attempt+1))
			}
			if wait > 0 && wait <= c.opts.MaxWait {
				// A 503 with Retry-After says how long.
				c.log.DebugContext(ctx, "unavailable: waiting as asked", "url", safe, "status", resp.Status, "wait", wait)
				if err := c.opts.Sleep(ctx, wait); err != nil {
					return last, fail(err)
				}
				continue
			}
			if err := c.backoff(ctx, attempt, safe, "HTTP "+strconv.Itoa(resp.Status)); err != nil {
				return last, fail(err)
			}
		default:
			return last, fail(fmt.Errorf("HTTP %d", resp.Status))
		}
	}
}

// attempt makes one request, bounded by timeout, and hands the response
// to read while the timeout still runs.
func (c *Client) attempt(ctx context.Context, u *url.URL, header http.Header, timeout time.Duration, read func(*http.Response) (*Response, error)) (*Response, error) {
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("User-Agent", c.opts.UserAgent)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, unwrapURLError(err)
	}
	defer resp.Body.Close()
	r, err := read(resp)
	if err != nil {
		return nil, unwrapURLError(err)
	}
	return r, nil
}

// unwrapURLError drops the *url.Error net/http wraps errors in: it holds
// the whole URL, token included.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// retryable says whether a failed attempt (no response) is worth another:
// timeouts and connection errors are; the caller's context ending, the
// SSRF guard, a refused redirect or an oversized body are not.
func retryable(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	switch {
	case errors.Is(err, ErrForbiddenAddress), errors.Is(err, ErrTooLarge), errors.Is(err, ErrContentType),
		errors.Is(err, errRedirect), errors.Is(err, context.Canceled):
		return false
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		return false
	}
	var certErr *tls.CertificateVerificationError
	if errors.As(err, &certErr) {
		return false
	}
	return true
}

// jitter is the full-jitter backoff for attempt n.
func (c *Client) jitter(attempt int) time.Duration {
	ceil := c.opts.MaxBackoff
	if attempt < 30 {
		if d := c.opts.BaseBackoff << attempt; d > 0 && d < ceil {
			ceil = d
		}
	}
	return time.Duration(c.opts.Rand() * float64(ceil))
}

func (c *Client) backoff(ctx context.Context, attempt int, safeURL, why string) error {
	d := c.jitter(attempt)
	c.log.DebugContext(ctx, "retrying", "url", safeURL, "attempt", attempt+1, "why", Scrub(why), "wait", d)
	return c.opts.Sleep(ctx, d)
}

// awaitHost waits until the host may be asked again: a rate limit that
// said "none left until T", or the pace the Graph API usage asks for.
func (c *Client) awaitHost(ctx context.Context, u *url.URL, safeURL string) error {
	now := c.opts.Now()
	c.mu.Lock()
	st := c.host[u.Host]
	if st == nil {
		st = &hostState{}
		c.host[u.Host] = st
	}
	var wait time.Duration
	if st.notBefore.After(now) {
		wait = st.notBefore.Sub(now)
	}
	if st.pace > 0 && !st.last.IsZero() {
		if w := st.last.Add(st.pace).Sub(now); w > wait {
			wait = w
		}
	}
	if wait > c.opts.MaxWait {
		c.mu.Unlock()
		return &RateLimitError{URL: safeURL, RetryAt: now.Add(wait)}
	}
	st.last = now.Add(wait)
	c.mu.Unlock()
	if wait > 0 {
		c.log.DebugContext(ctx, "pacing requests", "url", safeURL, "wait", wait)
		if err := c.opts.Sleep(ctx, wait); err != nil {
			return &fetchError{op: "get", url: safeURL, err: err}
		}
	}
	return nil
}

// learn reads a response's rate-limit headers: it remembers when the host
// may be asked again and how far apart, and returns whether this response
// was itself a refusal to go on and how long to wait before retrying.
func (c *Client) learn(u *url.URL, status int, h http.Header, body []byte) (time.Duration, bool) {
	now := c.opts.Now()
	var wait time.Duration
	limited := status == http.StatusTooManyRequests
	if ra := h.Get("Retry-After"); ra != "" && (limited || status == 503) {
		if d, ok := parseRetryAfter(ra, now); ok {
			wait = d
		}
	}
	// X: x-rate-limit-remaining / x-rate-limit-reset (epoch seconds);
	// Mastodon: X-RateLimit-Remaining / X-RateLimit-Reset (ISO 8601).
	var notBefore time.Time
	for _, p := range [][2]string{{"X-Rate-Limit-Remaining", "X-Rate-Limit-Reset"}, {"X-RateLimit-Remaining", "X-RateLimit-Reset"}} {
		rem, reset := h.Get(p[0]), h.Get(p[1])
		if reset == "" {
			continue
		}
		t, ok := parseReset(reset)
		if !ok {
			continue
		}
		if n, err := strconv.Atoi(strings.TrimSpace(rem)); (err == nil && n <= 0) || limited {
			notBefore = t
			if limited && wait == 0 {
				wait = t.Sub(now)
			}
		}
	}
	// Graph API: usage percentages, and a time to regain access.
	usage, regain := graphUsage(h)
	if status == 400 || status == 403 || limited {
		if graphThrottled(body) {
			limited = true
		}
	}
	var pace time.Duration
	switch {
	case regain > 0:
		notBefore = later(notBefore, now.Add(regain))
		if limited && wait == 0 {
			wait = regain
		}
	case usage >= 100:
		// Throttled without a time given: the Graph API's window is a
		// rolling hour; back off hard.
		pace = c.opts.MaxBackoff
		if limited && wait == 0 {
			wait = c.opts.MaxWait
		}
	case usage >= c.opts.SlowDownAt:
		pace = time.Duration(float64(c.opts.MaxBackoff) * float64(usage-c.opts.SlowDownAt) / float64(100-c.opts.SlowDownAt))
	}
	c.mu.Lock()
	st := c.host[u.Host]
	if st == nil {
		st = &hostState{}
		c.host[u.Host] = st
	}
	if notBefore.After(now) {
		st.notBefore = notBefore
	}
	if _, _, seen := graphHeaders(h); seen {
		st.pace = pace
	}
	c.mu.Unlock()
	if wait < 0 {
		wait = 0
	}
	return wait, limited
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// parseRetryAfter reads Retry-After: delay seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		if n > 1<<31 {
			n = 1 << 31
		}
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// parseReset reads a reset time: epoch seconds (X) or ISO 8601 (Mastodon).
func parseReset(v string) (time.Time, bool) {
	v = strings.TrimSpace(v)
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
		return time.Unix(n, 0).UTC(), true
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000Z0700", "2006-01-02T15:04:05Z0700"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// graphUsage reads the Graph API usage headers: the highest percentage
// any of them reports, and the longest estimated time to regain access.
func graphUsage(h http.Header) (int, time.Duration) {
	usage, regain, _ := graphHeaders(h)
	return usage, regain
}

type graphCounts struct {
	CallCount    float64 `json:"call_count"`
	TotalTime    float64 `json:"total_time"`
	TotalCPUTime float64 `json:"total_cputime"`
	Regain       float64 `json:"estimated_time_to_regain_access"`
}

func (g graphCounts) max() int {
	return int(max(g.CallCount, g.TotalTime, g.TotalCPUTime))
}

func graphHeaders(h http.Header) (usage int, regain time.Duration, seen bool) {
	note := func(g graphCounts) {
		usage = max(usage, g.max())
		if r := time.Duration(g.Regain * float64(time.Minute)); r > regain {
			regain = r
		}
	}
	for _, name := range []string{"X-App-Usage", "X-Ad-Account-Usage"} {
		if v := h.Get(name); v != "" {
			var g graphCounts
			if json.Unmarshal([]byte(v), &g) == nil {
				seen = true
				note(g)
			}
		}
	}
	if v := h.Get("X-Business-Use-Case-Usage"); v != "" {
		var m map[string][]graphCounts
		if json.Unmarshal([]byte(v), &m) == nil {
			seen = true
			for _, list := range m {
				for _, g := range list {
					note(g)
				}
			}
		}
	}
	return usage, regain, seen
}

// graphError is the Graph API's error body.
type graphError struct {
	Error *struct {
		Code    int `json:"code"`
		Subcode int `json:"error_subcode"`
	} `json:"error"`
}

func graphErrorCode(body []byte) int {
	if len(body) == 0 || len(body) > 1<<16 || !bytes.Contains(body, []byte(`"error"`)) {
		return 0
	}
	var g graphError
	if json.Unmarshal(body, &g) != nil || g.Error == nil {
		return 0
	}
	return g.Error.Code
}

// graphThrottled: the Graph API's rate-limit error codes (application,
// user, page, custom and business use case limits).
func graphThrottled(body []byte) bool {
	switch code := graphErrorCode(body); {
	case code == 4, code == 17, code == 32, code == 613, code >= 80001 && code <= 80014:
		return true
	}
	return false
}

// graphAuthError: Graph API error 190, an expired or invalid token, sent
// with HTTP 400.
func graphAuthError(status int, body []byte) bool {
	return status == 400 && graphErrorCode(body) == 190
}

// Download implements Fetcher. The body is streamed to a temporary file
// and hashed; more than limit bytes is ErrTooLarge; the declared
// Content-Type must start with one of accept's prefixes, and so must what
// the first 512 bytes look like (http.DetectContentType) unless they look
// like nothing in particular: an HTML page served as image/png is
// ErrContentType.
func (c *Client) Download(ctx context.Context, rawURL string, limit int64, accept []string) (*Download, error) {
	safe := Scrub(rawURL)
	fail := func(err error) error { return &fetchError{op: "download", url: safe, err: err} }
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fail(errors.New("not a URL"))
	}
	if err := checkScheme(u); err != nil {
		return nil, fail(err)
	}
	if limit <= 0 {
		limit = c.opts.MaxBody
	}
	for attempt := 0; ; attempt++ {
		if err := c.awaitHost(ctx, u, safe); err != nil {
			return nil, err
		}
		var d *Download
		var status int
		var hdr http.Header
		_, err := c.attempt(ctx, u, nil, c.opts.DownloadTimeout, func(resp *http.Response) (*Response, error) {
			status, hdr = resp.StatusCode, resp.Header
			if status != http.StatusOK {
				io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
				return nil, nil
			}
			var err error
			d, err = c.save(resp, rawURL, limit, accept)
			return nil, err
		})
		if err != nil {
			if !retryable(ctx, err) {
				return nil, fail(err)
			}
			if attempt >= c.opts.MaxRetries {
				return nil, fail(fmt.Errorf("%w after %d attempts: %v", ErrUnavailable, attempt+1, err))
			}
			if err := c.backoff(ctx, attempt, safe, err.Error()); err != nil {
				return nil, fail(err)
			}
			continue
		}
		if d != nil {
			return d, nil
		}
		wait, limited := c.learn(u, status, hdr, nil)
		switch {
		case limited:
			if attempt >= c.opts.MaxRetries {
				return nil, fail(fmt.Errorf("%w (HTTP %d)", ErrRateLimited, status))
			}
			if wait <= 0 {
				wait = c.jitter(attempt)
			}
			if wait > c.opts.MaxWait {
				return nil, &RateLimitError{URL: safe, RetryAt: c.opts.Now().Add(wait)}
			}
			if err := c.opts.Sleep(ctx, wait); err != nil {
				return nil, fail(err)
			}
		case status == 404 || status == 410:
			return nil, fail(fmt.Errorf("%w (HTTP %d)", ErrNotFound, status))
		case status >= 500:
			if attempt >= c.opts.MaxRetries {
				return nil, fail(fmt.Errorf("%w (HTTP %d after %d attempts)", ErrUnavailable, status, attempt+1))
			}
			if err := c.backoff(ctx, attempt, safe, "HTTP "+strconv.Itoa(status)); err != nil {
				return nil, fail(err)
			}
		default:
			// 401/403 on a media URL is usually an expired signed link,
			// not the account's token: not ErrAuth.
			return nil, fail(fmt.Errorf("HTTP %d", status))
		}
	}
}

// save streams a 200 response into a temporary file, checking its size
// and type.
func (c *Client) save(resp *http.Response, rawURL string, limit int64, accept []string) (*Download, error) {
	declared := ""
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil {
			return nil, fmt.Errorf("%w: unreadable Content-Type %q", ErrContentType, ct)
		}
		declared = mt
	}
	if resp.ContentLength > limit {
		return nil, fmt.Errorf("%w: %d bytes, over the limit of %d", ErrTooLarge, resp.ContentLength, limit)
	}
	head := make([]byte, 512)
	n, err := io.ReadFull(resp.Body, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, err
	}
	head = head[:n]
	sniffed, _, _ := mime.ParseMediaType(http.DetectContentType(head))
	if declared == "" {
		declared = sniffed
	}
	if err := checkType(declared, sniffed, accept); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp("", "osmarc-media-*")
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	size, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(io.MultiReader(bytes.NewReader(head), resp.Body), limit+1))
	d := &Download{URL: rawURL, ContentType: declared, Size: size, File: f}
	copy(d.Digest[:], h.Sum(nil))
	if err == nil && size > limit {
		err = fmt.Errorf("%w: over the limit of %d bytes", ErrTooLarge, limit)
	}
	if err != nil {
		d.Close()
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// checkType accepts a declared type that starts with one of the accept
// prefixes (any when accept is empty) and whose bytes do not say
// otherwise: what they sniff as must be of the same family, unless they
// sniff as nothing in particular (application/octet-stream).
func checkType(declared, sniffed string, accept []string) error {
	if len(accept) > 0 && !hasPrefix(declared, accept) {
		return fmt.Errorf("%w: %s (want %s)", ErrContentType, declared, strings.Join(accept, ", "))
	}
	if sniffed == "" || sniffed == "application/octet-stream" || sniffed == declared {
		return nil
	}
	if !sameFamily(declared, sniffed) {
		return fmt.Errorf("%w: served as %s but the content is %s", ErrContentType, declared, sniffed)
	}
	return nil
}

func hasPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, strings.ToLower(p)) {
			return true
		}
	}
	return false
}

// sameFamily: the declared and sniffed types may differ in detail (audio
// in an MP4 container sniffs as video/mp4, Ogg as application/ogg, SVG as
// XML) but not in kind.
func sameFamily(declared, sniffed string) bool {
	top := func(s string) string { t, _, _ := strings.Cut(s, "/"); return t }
	dt, st := top(declared), top(sniffed)
	switch {
	case dt == st && dt != "text":
		return true
	case (dt == "audio" || dt == "video") && (st == "audio" || st == "video" || sniffed == "application/ogg"):
		return true
	case declared == "application/ogg" && (st == "audio" || st == "video"):
		return true
	case declared == "image/svg+xml" && (sniffed == "text/xml" || sniffed == "text/plain"):
		return true
	case dt == "text" && st == "text":
		return true
	case strings.HasSuffix(declared, "json") && sniffed == "text/plain":
		return true
	}
	return false
}

// fetchError is a failed fetch whose message names a scrubbed URL.
type fetchError struct {
	op, url string
	err     error
}

func (e *fetchError) Error() string {
	return Scrub(e.op + " " + e.url + ": " + e.err.Error())
}

func (e *fetchError) Unwrap() error { return e.err }
