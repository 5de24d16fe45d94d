// Package graph is what the Facebook and Instagram collectors share of
// Meta's Graph API: authorised GETs that turn the API's error bodies into
// the collect package's sentinels, cursor paging, the API's times, stable
// forms of its CDN and redirect URLs, and media downloads.
//
// The access token travels in the Authorization header, never in a URL,
// and every URL or message this package puts in an error or a bad-record
// report has token parameters and the token itself removed. A response
// body that echoes the token (some paging links do) has it replaced by
// "REDACTED" before anything else sees the body: a secret must never
// reach the store.
package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strings"

	"github.com/osmarc/osmarc/archive/collect"
)

// DefaultBaseURL is where the Graph API is, version included: the version
// is part of the base URL, so an account's --base-url can pin another.
const DefaultBaseURL = "https://graph.facebook.com/v19.0"

// MaxPages bounds one listing, so a paging loop the API gets wrong cannot
// run forever.
const MaxPages = 100000

// Client makes authorised Graph API requests.
type Client struct {
	HTTP  collect.Fetcher
	Base  string // base URL, version included, no trailing slash
	Token string
}

// NewClient returns a client for job: its Fetcher, its account's base URL
// (or DefaultBaseURL) and its secret.
func NewClient(job *collect.Job) *Client {
	return &Client{HTTP: job.HTTP, Base: strings.TrimRight(job.BaseURL(DefaultBaseURL), "/"), Token: job.Secret}
}

// Error is an error the Graph API returned:
// {"error":{"message","type","code","error_subcode","fbtrace_id"}}.
type Error struct {
	Status  int
	Code    int
	Subcode int
	Type    string
	Message string
	FBTrace string
	kind    error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("graph api")
	if e.kind != nil {
		b.WriteString(": ")
		b.WriteString(e.kind.Error())
	}
	fmt.Fprintf(&b, ": %s (code %d", e.Message, e.Code)
	if e.Subcode != 0 {
		fmt.Fprintf(&b, ", subcode %d", e.Subcode)
	}
	if e.Status != 0 {
		fmt.Fprintf(&b, ", HTTP %d", e.Status)
	}
	b.WriteString(")")
	return b.String()
}

// Unwrap is the collect sentinel the error code stands for, or nil.
func (e *Error) Unwrap() error { return e.kind }

// Kind is the collect sentinel for a Graph API error code, or nil when
// none fits. The codes are those of the Graph API's error-handling guide.
func Kind(code, subcode, status int) error {
	switch {
	case code == 190 || code == 102 || code == 10 || (code >= 200 && code <= 299):
		// 190 expired or invalid token, 102 session, 10 and 2xx
		// permission denied: the credentials do not do.
		return collect.ErrAuth
	case code == 4 || code == 17 || code == 32 || code == 613 || code == 341 || (code >= 80001 && code <= 80014):
		// Application, user, page and business-use-case rate limits.
		return collect.ErrRateLimited
	case code == 1 || code == 2:
		return collect.ErrUnavailable
	case code == 803 || (code == 100 && subcode == 33):
		return collect.ErrNotFound
	case status == 401:
		return collect.ErrAuth
	case status == 429:
		return collect.ErrRateLimited
	case status == 404 || status == 410:
		return collect.ErrNotFound
	case status >= 500:
		return collect.ErrUnavailable
	}
	return nil
}

// ParseError reads a Graph API error body; nil when body is not one.
func ParseError(body []byte, status int) *Error {
	var env struct {
		Error *struct {
			Message   string          `json:"message"`
			Type      string          `json:"type"`
			Code      json.RawMessage `json:"code"`
			Subcode   json.RawMessage `json:"error_subcode"`
			FBTraceID string          `json:"fbtrace_id"`
		} `json:"error"`
	}
	if !bytes.Contains(body, []byte(`"error"`)) || json.Unmarshal(body, &env) != nil || env.Error == nil {
		return nil
	}
	e := &Error{Status: status, Code: number(env.Error.Code), Subcode: number(env.Error.Subcode), Type: env.Error.Type, Message: env.Error.Message, FBTrace: env.Error.FBTraceID}
	if e.Message == "" {
		e.Message = "no message"
	}
	e.kind = Kind(e.Code, e.Subcode, status)
	return e
}

// number reads a JSON number or numeric string; 0 otherwise.
func number(raw json.RawMessage) int {
	var n json.Number
	if json.Unmarshal(raw, &n) != nil {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return 0
		}
		n = json.Number(s)
	}
	i, err := n.Int64()
	if err != nil {
		return 0
	}
	return int(i)
}

// URL is the request URL for path and query (no token in it).
func (c *Client) URL(path string, q url.Values) string {
	u := c.Base + "/" + strings.TrimLeft(path, "/")
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// Get fetches path with query q. It returns the body (with any echo of
// the token replaced) and the URL fetched, or an error: a Graph API error
// body becomes an *Error wrapping the sentinel its code stands for (code
// 190, an expired token, is collect.ErrAuth whatever the HTTP status);
// other failures are the Fetcher's, which wrap its sentinels.
func (c *Client) Get(ctx context.Context, path string, q url.Values) ([]byte, string, error) {
	u := c.URL(path, q)
	shown := c.Shown(path, q)
	h := http.Header{}
	if c.Token != "" {
		h.Set("Authorization", "Bearer "+c.Token)
	}
	h.Set("Accept", "application/json")
	resp, err := c.HTTP.Get(ctx, u, h)
	var body []byte
	status := 0
	if resp != nil {
		body, status = c.redact(resp.Body), resp.Status
	}
	if ge := ParseError(body, status); ge != nil && (err != nil || status < 200 || status >= 300 || isOnlyError(body)) {
		ge.Message = c.Scrub(ge.Message)
		if ge.kind == nil && err != nil {
			// An error code the API does not document a recovery for:
			// keep whatever the HTTP status says (5xx, 429, …).
			ge.kind = sentinelOf(err)
		}
		return body, shown, fmt.Errorf("GET %s: %w", shown, ge)
	}
	if err != nil {
		return body, shown, scrubbedError{err, c} // it names the URL
	}
	return body, shown, nil
}

// Shown is how messages and the record name a request: its URL, scrubbed,
// without the fields parameter (the collector's version says which fields
// it asks for), which would make every message hundreds of bytes long.
func (c *Client) Shown(path string, q url.Values) string {
	if q.Has("fields") {
		q = maps.Clone(q)
		q.Del("fields")
	}
	return c.Scrub(c.URL(path, q))
}

// isOnlyError says whether a 2xx body is an error object and nothing else.
func isOnlyError(body []byte) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return false
	}
	_, ok := m["error"]
	return ok && len(m) == 1
}

var sentinels = []error{collect.ErrAuth, collect.ErrRateLimited, collect.ErrUnavailable, collect.ErrNotFound, collect.ErrMalformed, collect.ErrForbiddenAddress, collect.ErrTooLarge, collect.ErrContentType}

func sentinelOf(err error) error {
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return s
		}
	}
	return nil
}

// scrubbedError is a Fetcher error with secrets removed from its text; it
// still unwraps to the original, so errors.Is finds the sentinels.
type scrubbedError struct {
	err error
	c   *Client
}

func (e scrubbedError) Error() string { return e.c.Scrub(e.err.Error()) }
func (e scrubbedError) Unwrap() error { return e.err }

// redact replaces the token wherever a body echoes it.
func (c *Client) redact(body []byte) []byte {
	if len(c.Token) < 4 {
		return body
	}
	for _, t := range []string{c.Token, url.QueryEscape(c.Token)} {
		if bytes.Contains(body, []byte(t)) {
			body = bytes.ReplaceAll(body, []byte(t), []byte("REDACTED"))
		}
	}
	return body
}

var reTokenParam = regexp.MustCompile(`(?i)\b(access_token|appsecret_proof|client_secret|input_token|fb_exchange_token|code)=[^&#\s"']*`)

// Scrub removes the token and token parameters from s (a URL or message).
func (c *Client) Scrub(s string) string {
	if len(c.Token) >= 4 {
		s = strings.ReplaceAll(s, c.Token, "REDACTED")
		s = strings.ReplaceAll(s, url.QueryEscape(c.Token), "REDACTED")
	}
	return collect.ScrubSecret(reTokenParam.ReplaceAllString(s, "${1}=REDACTED"), c.Token)
}

// Page is one page of a Graph API list.
type Page struct {
	Data   []json.RawMessage `json:"data"`
	Paging Paging            `json:"paging"`
}

// Paging is a list page's paging object.
type Paging struct {
	Cursors struct {
		Before string `json:"before"`
		After  string `json:"after"`
	} `json:"cursors"`
	Previous string `json:"previous"`
	Next     string `json:"next"`
}

// ParsePage reads a list page; it must have a data array.
func ParsePage(body []byte) (*Page, error) {
	var p struct {
		Data   *[]json.RawMessage `json:"data"`
		Paging *Paging            `json:"paging"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, describe(err)
	}
	if p.Data == nil {
		return nil, errors.New("no data array in the response")
	}
	pg := &Page{Data: *p.Data}
	if p.Paging != nil {
		pg.Paging = *p.Paging
	}
	return pg, nil
}

func describe(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case err.Error() == "unexpected end of JSON input":
		return errors.New("truncated JSON: the response ends inside a value")
	case errors.As(err, &se):
		return fmt.Errorf("malformed JSON at byte %d: %v", se.Offset, err)
	case errors.As(err, &te):
		if te.Field != "" {
			return fmt.Errorf("field %s: want %s, got %s", te.Field, typeName(te.Type), te.Value)
		}
		return fmt.Errorf("want %s, got %s", typeName(te.Type), te.Value)
	}
	return err
}

// typeName says what JSON a Go type wants.
func typeName(t reflect.Type) string {
	if t == nil {
		return "a value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "a number"
	}
	return t.String()
}

// Describe words a JSON decoding error for a bad-record report.
func Describe(err error) error { return describe(err) }

// NextQuery is the query of the page after p, read from its paging.next
// link (minus any token in it): the next request goes to the same path on
// the client's own base URL, never to a host a response names. ok is
// false on the last page, and when the link would fetch cur again.
func NextQuery(cur url.Values, p *Page) (url.Values, bool) {
	if p.Paging.Next == "" {
		return nil, false
	}
	nu, err := url.Parse(p.Paging.Next)
	if err != nil {
		return nil, false
	}
	q := nu.Query()
	q.Del("access_token")
	q.Del("appsecret_proof")
	if q.Encode() == cur.Encode() {
		return nil, false
	}
	return q, true
}

// Fetched is one page of a listing.
type Fetched struct {
	URL   string // as fetched, scrubbed
	Body  []byte
	Page  *Page // nil when Err is set
	Err   error // why the body is not a list page
	Index int   // 0 for the first page
}

// List fetches path page by page, calling fn with each. It stops at the
// last page, at an error fn returns, at a fetch error (returned), and
// after a malformed page (fn sees it with Err set; List then returns an
// error wrapping collect.ErrMalformed, since the listing cannot go on).
func (c *Client) List(ctx context.Context, path string, q url.Values, fn func(*Fetched) error) error {
	for i := 0; i < MaxPages; i++ {
		body, shown, err := c.Get(ctx, path, q)
		if err != nil {
			return err
		}
		f := &Fetched{URL: shown, Body: body, Index: i}
		f.Page, f.Err = ParsePage(body)
		if err := fn(f); err != nil {
			return err
		}
		if f.Err != nil {
			return fmt.Errorf("page %s: %w: %v", shown, collect.ErrMalformed, f.Err)
		}
		next, ok := NextQuery(q, f.Page)
		if !ok {
			return nil
		}
		q = next
	}
	return fmt.Errorf("%s: more than %d pages: %w", c.Scrub(c.URL(path, nil)), MaxPages, collect.ErrMalformed)
}
