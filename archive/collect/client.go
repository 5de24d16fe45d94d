package collect

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"os"
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

// ClientOptions configure a Client.
type ClientOptions struct {
	// AllowPrivate lets requests reach loopback and private addresses.
	AllowPrivate bool
	// Timeout bounds one request (default 30 s).
	Timeout time.Duration
	// MaxRetries bounds retries of one request (default 5).
	MaxRetries int
	// UserAgent is sent with every request.
	UserAgent string
	// Sleep waits between retries; tests replace it (default: a timer
	// that stops when the context ends).
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock for rate-limit reset headers (default time.Now).
	Now func() time.Time
}

// Client is the shared HTTP client of collectors.
type Client struct {
	http *http.Client
	opts ClientOptions
}

// NewClient returns a client.
func NewClient(o ClientOptions) *Client {
	if o.Timeout == 0 {
		o.Timeout = 30 * time.Second
	}
	if o.MaxRetries == 0 {
		o.MaxRetries = 5
	}
	if o.UserAgent == "" {
		o.UserAgent = "osmarc/" + archive.Version + " (records retention archiver)"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = func(ctx context.Context, d time.Duration) error {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-t.C:
				return nil
			}
		}
	}
	return &Client{http: &http.Client{Timeout: o.Timeout}, opts: o}
}

// Get implements Fetcher. This first version retries 5xx and 429 simply;
// the SSRF guard and rate-limit headers are still to come.
func (c *Client) Get(ctx context.Context, url string, header http.Header) (*Response, error) {
	var last *Response
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, fmt.Errorf("get %s: %w", url, err)
		}
		for k, v := range header {
			req.Header[k] = v
		}
		req.Header.Set("User-Agent", c.opts.UserAgent)
		resp, err := c.http.Do(req)
		if err == nil {
			body, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			if rerr == nil {
				last = &Response{URL: url, Status: resp.StatusCode, Header: resp.Header, Body: body}
				switch {
				case resp.StatusCode >= 200 && resp.StatusCode < 300:
					return last, nil
				case resp.StatusCode == 401 || resp.StatusCode == 403:
					return last, fmt.Errorf("get %s: %w (HTTP %d)", url, ErrAuth, resp.StatusCode)
				case resp.StatusCode == 404 || resp.StatusCode == 410:
					return last, fmt.Errorf("get %s: %w (HTTP %d)", url, ErrNotFound, resp.StatusCode)
				case resp.StatusCode == 429 || resp.StatusCode >= 500:
				default:
					return last, fmt.Errorf("get %s: HTTP %d", url, resp.StatusCode)
				}
			}
		}
		if attempt >= c.opts.MaxRetries {
			if last != nil && last.Status == 429 {
				return last, fmt.Errorf("get %s: %w", url, ErrRateLimited)
			}
			return last, fmt.Errorf("get %s: %w", url, ErrUnavailable)
		}
		if err := c.opts.Sleep(ctx, time.Duration(attempt+1)*100*time.Millisecond); err != nil {
			return last, err
		}
	}
}

// Download implements Fetcher.
func (c *Client) Download(ctx context.Context, url string, limit int64, accept []string) (*Download, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("download %s: %w", url, err)
	}
	req.Header.Set("User-Agent", c.opts.UserAgent)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("download %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("download %s: HTTP %d", url, resp.StatusCode)
	}
	f, err := os.CreateTemp("", "osmarc-media-*")
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(resp.Body, limit+1))
	d := &Download{URL: url, ContentType: resp.Header.Get("Content-Type"), Size: n, File: f}
	copy(d.Digest[:], h.Sum(nil))
	if err == nil && n > limit {
		err = fmt.Errorf("download %s: %w (over %d bytes)", url, ErrTooLarge, limit)
	}
	if err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}
