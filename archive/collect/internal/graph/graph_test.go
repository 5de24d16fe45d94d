package graph

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/osmarc/osmarc/archive/collect"
)

func TestTime(t *testing.T) {
	for in, want := range map[string]string{
		"2024-01-15T14:00:00+0000":  "2024-01-15T14:00:00Z",
		"2024-01-15T09:00:00-0500":  "2024-01-15T14:00:00Z",
		"2024-01-15T14:00:00Z":      "2024-01-15T14:00:00Z",
		"2024-01-15T15:00:00+01:00": "2024-01-15T14:00:00Z",
		"2024-01-15T14:00:00":       "2024-01-15T14:00:00Z",
		"1705327200":                "2024-01-15T14:00:00Z",
	} {
		if got, err := Time(in); err != nil || got != want {
			t.Errorf("Time(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "yesterday", "2024-02-30T00:00:00+0000"} {
		if _, err := Time(bad); err == nil {
			t.Errorf("Time(%q): no error", bad)
		}
	}
}

func TestURLs(t *testing.T) {
	for in, want := range map[string]string{
		"https://scontent-iad3-1.xx.fbcdn.net/v/t39/a.jpg?_nc_cat=1&oh=00_A&oe=65A": "https://scontent-iad3-1.xx.fbcdn.net/v/t39/a.jpg",
		"https://scontent.cdninstagram.com/v/t51/b.jpg?stp=x&oh=1":                  "https://scontent.cdninstagram.com/v/t51/b.jpg",
		"https://example.org/c.jpg?v=2":                                             "https://example.org/c.jpg?v=2",
		"https://notfbcdn.net/d.jpg?oh=1":                                           "https://notfbcdn.net/d.jpg?oh=1",
	} {
		if got := StableMediaURL(in); got != want {
			t.Errorf("StableMediaURL(%q) = %q", in, got)
		}
	}
	for in, want := range map[string]string{
		"https://l.facebook.com/l.php?u=https%3A%2F%2Fcity.example%2Fa&h=AT0": "https://city.example/a",
		"https://l.facebook.com/l.php?u=javascript%3Aalert(1)&h=AT0":          "https://l.facebook.com/l.php?u=javascript%3Aalert(1)&h=AT0",
		"https://city.example/b": "https://city.example/b",
	} {
		if got := UnwrapLink(in); got != want {
			t.Errorf("UnwrapLink(%q) = %q", in, got)
		}
	}
}

func TestHashtags(t *testing.T) {
	got := Hashtags("#parade on Main #3CDN, #défilé! not#this, #1 nor &#39; but #parade again (#Fr_ca)")
	if want := []string{"parade", "3CDN", "défilé", "Fr_ca"}; !slices.Equal(got, want) {
		t.Errorf("Hashtags = %q, want %q", got, want)
	}
}

func TestParseError(t *testing.T) {
	for _, tc := range []struct {
		body   string
		status int
		kind   error
	}{
		{`{"error":{"message":"Session has expired","type":"OAuthException","code":190,"error_subcode":463}}`, 400, collect.ErrAuth},
		{`{"error":{"message":"(#4) Application request limit reached","code":4}}`, 403, collect.ErrRateLimited},
		{`{"error":{"message":"User request limit","code":"17"}}`, 400, collect.ErrRateLimited},
		{`{"error":{"message":"Page limit","code":32}}`, 400, collect.ErrRateLimited},
		{`{"error":{"message":"Calls to this api have exceeded the rate limit.","code":613}}`, 400, collect.ErrRateLimited},
		{`{"error":{"message":"Business use case","code":80001}}`, 400, collect.ErrRateLimited},
		{`{"error":{"message":"Unsupported get request","code":100,"error_subcode":33}}`, 400, collect.ErrNotFound},
		{`{"error":{"message":"An unknown error","code":1}}`, 500, collect.ErrUnavailable},
		{`{"error":{"message":"Invalid parameter","code":100}}`, 400, nil},
	} {
		e := ParseError([]byte(tc.body), tc.status)
		if e == nil || (tc.kind != nil && !errors.Is(e, tc.kind)) || (tc.kind == nil && e.Unwrap() != nil) {
			t.Errorf("%s: %v", tc.body, e)
		}
	}
	if ParseError([]byte(`{"data":[]}`), 200) != nil || ParseError([]byte(`not json "error"`), 500) != nil {
		t.Error("not an error body")
	}
}

func TestNextQuery(t *testing.T) {
	cur := url.Values{"fields": {"id"}}
	p := &Page{}
	if _, ok := NextQuery(cur, p); ok {
		t.Error("no next link: the last page")
	}
	p.Paging.Next = "https://evil.example/v19.0/101/feed?fields=id&after=X&access_token=SECRET"
	q, ok := NextQuery(cur, p)
	if !ok || q.Get("after") != "X" || q.Has("access_token") {
		t.Errorf("next %v", q)
	}
	p.Paging.Next = "https://graph.facebook.com/v19.0/101/feed?fields=id"
	if _, ok := NextQuery(cur, p); ok {
		t.Error("a next link to the same page would loop")
	}
}

// fetcher answers every Get with one response.
type fetcher struct {
	resp   *collect.Response
	err    error
	header http.Header
	url    string
}

func (f *fetcher) Get(ctx context.Context, u string, h http.Header) (*collect.Response, error) {
	f.url, f.header = u, h
	return f.resp, f.err
}

func (f *fetcher) Download(context.Context, string, int64, []string) (*collect.Download, error) {
	return nil, errors.New("no")
}

func TestGet(t *testing.T) {
	const tok = "EAAsecret-token-1234"
	f := &fetcher{resp: &collect.Response{Status: 200, Body: []byte(`{"data":[],"paging":{"next":"https://graph.facebook.com/x?access_token=` + tok + `"}}`)}}
	c := &Client{HTTP: f, Base: "https://graph.example/v19.0", Token: tok}
	body, shown, err := c.Get(context.Background(), "/101/feed", url.Values{"limit": {"5"}})
	if err != nil || strings.Contains(string(body), tok) || !strings.Contains(string(body), "REDACTED") {
		t.Fatalf("body %s, %v", body, err)
	}
	if f.url != "https://graph.example/v19.0/101/feed?limit=5" || shown != f.url || f.header.Get("Authorization") != "Bearer "+tok {
		t.Errorf("url %s, shown %s, auth %q", f.url, shown, f.header.Get("Authorization"))
	}
	// An error body the client already classed as something else: the
	// Graph code decides.
	f.resp = &collect.Response{Status: 403, Body: []byte(`{"error":{"message":"(#4) limit for token ` + tok + `","code":4}}`)}
	f.err = errors.New("get https://graph.example/...: credentials refused (HTTP 403)")
	_, _, err = c.Get(context.Background(), "/101/feed", nil)
	if !errors.Is(err, collect.ErrRateLimited) || errors.Is(err, collect.ErrAuth) || strings.Contains(err.Error(), tok) {
		t.Errorf("err %v", err)
	}
	// A transport failure keeps its sentinel, without the token.
	f.resp, f.err = nil, errors.Join(collect.ErrUnavailable, errors.New("dial failed for access_token="+tok))
	_, _, err = c.Get(context.Background(), "/101/feed", nil)
	if !errors.Is(err, collect.ErrUnavailable) || strings.Contains(err.Error(), tok) {
		t.Errorf("err %v", err)
	}
	// A 200 that is nothing but an error.
	f.resp, f.err = &collect.Response{Status: 200, Body: []byte(`{"error":{"message":"expired","code":190}}`)}, nil
	if _, _, err = c.Get(context.Background(), "/x", nil); !errors.Is(err, collect.ErrAuth) {
		t.Errorf("err %v", err)
	}
}

func TestParsePage(t *testing.T) {
	for body, want := range map[string]string{
		`{"data":[{"id":"1"}]}`:  "",
		`{"data":{"id":"1"}}`:    "field data: want an array",
		`{"id":"1"}`:             "no data array",
		`{"data":[{"id":"1"},`:   "truncated",
		`<html>oops</html>`:      "malformed JSON",
		`{"data":[],"paging":1}`: "field paging: want an object",
	} {
		_, err := ParsePage([]byte(body))
		if (want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("%s: %v, want %q", body, err, want)
		}
	}
}
