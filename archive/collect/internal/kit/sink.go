package kit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/collect"
)

// Add records an item; an item the archive refuses (ErrBadInput) is
// reported with Bad, naming source, and the run goes on. Other errors
// (the store failed) are returned.
func Add(ctx context.Context, sink collect.Sink, it archive.Item, o archive.ItemOptions) error {
	err := sink.AddItem(ctx, it, o)
	if err == nil {
		return nil
	}
	if errors.Is(err, archive.ErrBadInput) {
		src := o.Source
		if src == "" {
			src = it.Key()
		}
		sink.Bad(&archive.InputError{Source: src, Line: o.Line, Err: fmt.Errorf("item %s refused: %v", it.ID, err)})
		return nil
	}
	return fmt.Errorf("record item %s: %w", it.Key(), err)
}

// Page is a fetched API response kept byte for byte.
type Page struct {
	URL  string
	N    int // page number, 1-based, for messages
	Body []byte
	Raw  archive.Digest
	Resp *collect.Response
}

// Opts are item options naming where in the page an item is.
func (p *Page) Opts(pointer string, metrics []byte) archive.ItemOptions {
	d := p.Raw
	return archive.ItemOptions{Raw: &d, RawPath: pointer, Source: p.URL, Metrics: metrics}
}

// Bad reports that the page did not read as documented.
func (p *Page) Bad(sink collect.Sink, what string, err error) {
	msg := DescribeJSON(err)
	if what != "" {
		msg = what + ": " + msg
	}
	sink.Bad(&archive.InputError{Source: p.URL, Err: fmt.Errorf("page %d: %s: %w", p.N, msg, collect.ErrMalformed)})
}

// Fetch gets url and keeps the response body as raw input. On an HTTP
// error it returns the fetcher's error (wrapping collect.ErrAuth and the
// rest) and, when there was a response, a Page with it (Resp and Body
// set, the body not kept) so the caller can read the platform's error.
func Fetch(ctx context.Context, job *collect.Job, url string, header http.Header, n int) (*Page, error) {
	resp, err := job.HTTP.Get(ctx, url, header)
	if err != nil {
		if resp != nil {
			return &Page{URL: url, N: n, Body: resp.Body, Resp: resp}, err
		}
		return nil, err
	}
	d, err := job.Sink.PutRaw(ctx, resp.Body, url, "", mediaType(resp))
	if err != nil {
		return nil, fmt.Errorf("keep raw response %s: %w", url, err)
	}
	return &Page{URL: url, N: n, Body: resp.Body, Raw: d, Resp: resp}, nil
}

func mediaType(r *collect.Response) string {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		return ct
	}
	return "application/json"
}

// Now is the job's clock.
func Now(job *collect.Job) time.Time {
	if job.Now != nil {
		return job.Now().UTC()
	}
	return time.Now().UTC()
}

// Bearer is the Authorization header for a token, or none.
func Bearer(token string) http.Header {
	h := http.Header{"Accept": {"application/json"}}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	return h
}
