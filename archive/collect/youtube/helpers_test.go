package youtube

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/collect"
)

const (
	fxHandle   = "cityofexample"
	fxChannel  = "UCcityofexample000000001"
	fxKey      = "AIzaSyTEST-not-a-real-key-0123456789ab"
	fxBearer   = "ya29.a0AfTEST-not-a-real-token"
	v1, v2, v3 = "aaaaaaaaaa1", "bbbbbbbbbb2", "cccccccccc3"
	c1         = "UgzC1aaaaaaaaaaaaaaaaa4AaABAg"
	c2         = "UgzC2bbbbbbbbbbbbbbbbb4AaABAg"
	c3         = "UgzC3ccccccccccccccccc4AaABAg"
	c4         = "UgzC4ddddddddddddddddd4AaABAg"
	r11        = "UgzC1aaaaaaaaaaaaaaaaa4AaABAg.9r01xxxxxxxxx"
	r12        = "UgzC1aaaaaaaaaaaaaaaaa4AaABAg.9r02xxxxxxxxx"
	r26        = "UgzC2bbbbbbbbbbbbbbbbb4AaABAg.9r06xxxxxxxxx"
	r41        = "UgzC4ddddddddddddddddd4AaABAg.9r01xxxxxxxxx"
)

var fxNow = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func fixture(parts ...string) string {
	return filepath.Join(append([]string{"..", "..", "..", "testdata", "collect", "youtube"}, parts...)...)
}

func readFixture(tb testing.TB, parts ...string) []byte {
	tb.Helper()
	b, err := os.ReadFile(fixture(parts...))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// ytServer serves the YouTube Data API fixtures under /youtube/v3.
type ytServer struct {
	*httptest.Server
	t        testing.TB
	mu       sync.Mutex
	reqs     []string
	threadV1 string // first page of V1's threads
	threadV3 string
	fail     map[string][]string // path → fixture names (or "503") to answer first
	bearer   string              // accepted bearer token ("" accepts only the key)
	noThumbs bool                // thumbnails answer 404
}

func newYTServer(t testing.TB) *ytServer {
	s := &ytServer{t: t, threadV1: "threads-v1-1.json", threadV3: "threads-v3.json", fail: map[string][]string{}, bearer: fxBearer}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *ytServer) serve(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	path := strings.TrimPrefix(r.URL.Path, "/youtube/v3")
	s.mu.Lock()
	s.reqs = append(s.reqs, path+"?"+r.URL.RawQuery)
	var fail string
	if f := s.fail[path]; len(f) > 0 {
		fail, s.fail[path] = f[0], f[1:]
	}
	s.mu.Unlock()
	if strings.HasPrefix(r.URL.Path, "/thumb/") {
		if s.noThumbs {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "image/jpeg")
		w.Write(readFixture(s.t, "api", "thumbnail.jpg"))
		return
	}
	if q.Get("key") != fxKey && (s.bearer == "" || r.Header.Get("Authorization") != "Bearer "+s.bearer) {
		s.file(w, 401, "error-401.json")
		return
	}
	switch fail {
	case "":
	case "503":
		http.Error(w, "backend error", 503)
		return
	case "429":
		w.Header().Set("Retry-After", "1")
		http.Error(w, `{"error":{"code":429,"message":"rate"}}`, 429)
		return
	default:
		s.file(w, 403, fail)
		return
	}
	switch path {
	case "/channels":
		if q.Get("id") != fxChannel && q.Get("forHandle") != "@"+fxHandle {
			s.raw(w, 200, []byte(`{"kind":"youtube#channelListResponse","etag":"x","pageInfo":{"totalResults":0,"resultsPerPage":5}}`))
			return
		}
		s.file(w, 200, "channels.json")
	case "/playlistItems":
		if q.Get("pageToken") == "EAAaBlBUOkNESQ" {
			s.file(w, 200, "playlistItems-2.json")
			return
		}
		s.file(w, 200, "playlistItems-1.json")
	case "/videos":
		// Only the videos asked for, as the API answers.
		var l struct {
			Kind  string            `json:"kind"`
			Items []json.RawMessage `json:"items"`
		}
		json.Unmarshal(readFixture(s.t, "api", "videos.json"), &l)
		want := strings.Split(q.Get("id"), ",")
		var keep []json.RawMessage
		for _, it := range l.Items {
			var v struct{ ID string }
			json.Unmarshal(it, &v)
			if slices.Contains(want, v.ID) {
				keep = append(keep, it)
			}
		}
		b, _ := json.Marshal(map[string]any{"kind": l.Kind, "etag": "e", "items": keep, "pageInfo": map[string]int{"totalResults": len(keep), "resultsPerPage": len(keep)}})
		s.raw(w, 200, b)
	case "/commentThreads":
		switch v, tok := q.Get("videoId"), q.Get("pageToken"); {
		case v == v1 && tok == "":
			s.file(w, 200, s.threadV1)
		case v == v1 && tok == "QURTSl9pMk":
			s.file(w, 200, "threads-v1-2.json")
		case v == v2:
			s.file(w, 403, "error-comments-disabled.json")
		case v == v3:
			s.file(w, 200, s.threadV3)
		default:
			http.NotFound(w, r)
		}
	case "/comments":
		switch p, tok := q.Get("parentId"), q.Get("pageToken"); {
		case p == c2 && tok == "":
			s.file(w, 200, "comments-c2-1.json")
		case p == c2 && tok == "R0FJU1ZFVkVZQ":
			s.file(w, 200, "comments-c2-2.json")
		default:
			s.raw(w, 200, []byte(`{"kind":"youtube#commentListResponse","items":[]}`))
		}
	default:
		http.NotFound(w, r)
	}
}

func (s *ytServer) file(w http.ResponseWriter, status int, name string) {
	s.raw(w, status, readFixture(s.t, "api", name))
}

func (s *ytServer) raw(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	w.Write(b)
}

func (s *ytServer) requests() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.reqs, "\n")
}

type rewriteFetcher struct {
	collect.Fetcher
	base string
}

func (f rewriteFetcher) Download(ctx context.Context, u string, limit int64, accept []string) (*collect.Download, error) {
	d, err := f.Fetcher.Download(ctx, strings.Replace(u, "https://i.ytimg.com/", f.base+"/thumb/", 1), limit, accept)
	if d != nil {
		d.URL = u
	}
	return d, err
}

func noSleep(ctx context.Context, d time.Duration) error { return ctx.Err() }

func (s *ytServer) job(sink collect.Sink, state json.RawMessage, full bool) *collect.Job {
	client := collect.NewClient(collect.ClientOptions{AllowPrivate: true, Sleep: noSleep})
	return &collect.Job{
		Account: archive.Account{Platform: Platform, Handle: fxHandle, ID: fxChannel, Key: archive.AccountKey(Platform, fxHandle), BaseURL: s.URL + "/youtube/v3"},
		Secret:  fxKey, State: state, Full: full, Media: true,
		HTTP: rewriteFetcher{client, s.URL}, Sink: sink, Now: func() time.Time { return fxNow },
	}
}

func resolvePointer(tb testing.TB, doc []byte, ptr string) map[string]any {
	tb.Helper()
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		tb.Fatalf("raw blob is not JSON: %v", err)
	}
	for _, part := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		if part == "" {
			continue
		}
		switch c := v.(type) {
		case map[string]any:
			v = c[part]
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i >= len(c) {
				tb.Fatalf("pointer %s: bad index %s", ptr, part)
			}
			v = c[i]
		default:
			tb.Fatalf("pointer %s: %s is not in a container", ptr, part)
		}
	}
	m, ok := v.(map[string]any)
	if !ok {
		tb.Fatalf("pointer %s: not an object", ptr)
	}
	return m
}

func checkRaw(tb testing.TB, s *collect.MemorySink) {
	tb.Helper()
	for i, it := range s.Items {
		o := s.Opts[i]
		raw, ok := s.Raws[*o.Raw]
		if !ok {
			tb.Fatalf("%s names a raw blob the sink never got", it.ID)
		}
		obj := resolvePointer(tb, raw, o.RawPath)
		id, _ := obj["id"].(string)
		if cd, ok := obj["contentDetails"].(map[string]any); ok && cd["videoId"] != nil {
			id, _ = cd["videoId"].(string)
		}
		if id != it.ID {
			tb.Fatalf("%s: raw at %s is %s", it.ID, o.RawPath, id)
		}
	}
}

func byID(s *collect.MemorySink) map[string][]archive.Item {
	out := map[string][]archive.Item{}
	for _, it := range s.Items {
		out[it.ID] = append(out[it.ID], it)
	}
	return out
}

func badText(s *collect.MemorySink) string {
	var b strings.Builder
	for _, e := range s.Bads {
		b.WriteString(e.Error() + "\n")
	}
	return b.String()
}
