package x

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/collect"
)

// The fixtures' account and tweets (ids are X snowflakes of the times in
// testdata/collect/x).
const (
	fxHandle = "CityOfExample"
	fxUserID = "1100000000000000042"
	fxToken  = "test-bearer-AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0%2BuSeid"
	idP1     = "2027398314193846282"
	idE1     = "2026960428856246275"
	idE2     = "2026962945438646276"
	idQ      = "2026582941496246283"
	idRT     = "2026265852113846288"
	idOR     = "2021132024017846281"
	idOLD    = "2011770337489846280"
	idR1     = "2027413413688246284"
	idR2     = "2027428513182646285"
	idR3     = "2027420963435446286"
	idR4     = "2027851299025846287"
	idNEW    = "2027836199531446279"
	idX99    = "2021116924523446289"
	idD1     = "1995432684549046273"
	idD2     = "1989634478699446274"
	nextP2   = "7140dibdnow9c7btw4b0g2zd84kmgqbfmr66xcqp2s4b2"
)

var fxNow = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func fixture(parts ...string) string {
	return filepath.Join(append([]string{"..", "..", "..", "testdata", "collect", "x"}, parts...)...)
}

func readFixture(tb testing.TB, parts ...string) []byte {
	tb.Helper()
	b, err := os.ReadFile(fixture(parts...))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// xServer serves the X API v2 fixtures. Its fields change what it serves.
type xServer struct {
	*httptest.Server
	t testing.TB

	mu sync.Mutex
	// pages: timeline page file by pagination_token ("" for the first);
	// sinceTimeline is served when since_id is given.
	pages         map[string]string
	sinceTimeline string
	search        string // search result file
	sinceSearch   string
	searchAll403  bool
	recheck       string
	// fail: statuses to answer first, per path, one a request.
	fail    map[string][]int
	media   map[string]int // status per media path (default 200)
	reqs    []*http.Request
	allowed string // the expected bearer token
}

func newXServer(t testing.TB) *xServer {
	s := &xServer{
		t:             t,
		pages:         map[string]string{"": "timeline-1.json", nextP2: "timeline-2.json"},
		sinceTimeline: "timeline-empty.json",
		search:        "search-1.json",
		sinceSearch:   "search-empty.json",
		recheck:       "recheck.json",
		fail:          map[string][]int{},
		media:         map[string]int{},
		allowed:       fxToken,
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *xServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.reqs = append(s.reqs, r)
	var status int
	if f := s.fail[r.URL.Path]; len(f) > 0 {
		status, s.fail[r.URL.Path] = f[0], f[1:]
	}
	s.mu.Unlock()
	q := r.URL.Query()
	if strings.HasPrefix(r.URL.Path, "/media/") {
		if st := s.media[r.URL.Path]; st != 0 && st != 200 {
			http.Error(w, "gone", st)
			return
		}
		w.Header().Set("Content-Type", "image/jpeg")
		w.Write(readFixture(s.t, "api", strings.TrimPrefix(r.URL.Path, "/media/")))
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+s.allowed {
		s.file(w, 401, "error-401.json")
		return
	}
	switch status {
	case 0:
	case 429:
		w.Header().Set("x-rate-limit-limit", "900")
		w.Header().Set("x-rate-limit-remaining", "0")
		w.Header().Set("x-rate-limit-reset", strconv.FormatInt(time.Now().Add(30*time.Second).Unix(), 10))
		s.file(w, 429, "error-429.json")
		return
	default:
		http.Error(w, `{"title":"Service Unavailable"}`, status)
		return
	}
	switch {
	case r.URL.Path == "/2/users/"+fxUserID+"/tweets":
		if q.Get("since_id") != "" {
			s.file(w, 200, s.sinceTimeline)
			return
		}
		name, ok := s.pages[q.Get("pagination_token")]
		if !ok {
			http.Error(w, `{"title":"Invalid Request"}`, 400)
			return
		}
		s.file(w, 200, name)
	case r.URL.Path == "/2/users/by/username/"+fxHandle:
		s.file(w, 200, "user.json")
	case r.URL.Path == "/2/tweets":
		if q.Get("ids") == idE1 {
			s.file(w, 200, "tweets-e1.json")
			return
		}
		s.file(w, 200, s.recheck)
	case r.URL.Path == "/2/tweets/search/all" && s.searchAll403:
		s.file(w, 403, "error-403-search-all.json")
	case r.URL.Path == "/2/tweets/search/all" || r.URL.Path == "/2/tweets/search/recent":
		if q.Get("since_id") != "" {
			s.file(w, 200, s.sinceSearch)
			return
		}
		s.file(w, 200, s.search)
	default:
		http.NotFound(w, r)
	}
}

func (s *xServer) file(w http.ResponseWriter, status int, name string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(readFixture(s.t, "api", name))
}

// requests lists the paths and queries asked for.
func (s *xServer) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, r := range s.reqs {
		out = append(out, r.URL.Path+"?"+r.URL.RawQuery)
	}
	return out
}

// rewriteFetcher sends media downloads for pbs.twimg.com to the test
// server, as the live collector would fetch them from X.
type rewriteFetcher struct {
	collect.Fetcher
	base string
}

func (f rewriteFetcher) Download(ctx context.Context, u string, limit int64, accept []string) (*collect.Download, error) {
	local := strings.Replace(u, "https://pbs.twimg.com/media/", f.base+"/media/", 1)
	d, err := f.Fetcher.Download(ctx, local, limit, accept)
	if d != nil {
		d.URL = u
	}
	return d, err
}

func noSleep(ctx context.Context, d time.Duration) error { return ctx.Err() }

func fxAccount(base string) archive.Account {
	return archive.Account{Platform: Platform, Handle: fxHandle, ID: fxUserID, Key: archive.AccountKey(Platform, fxHandle), BaseURL: base}
}

func (s *xServer) job(sink collect.Sink, state json.RawMessage, full bool) *collect.Job {
	client := collect.NewClient(collect.ClientOptions{AllowPrivate: true, Sleep: noSleep})
	return &collect.Job{
		Account: fxAccount(s.URL), Secret: fxToken, State: state, Full: full, Media: true,
		HTTP: rewriteFetcher{client, s.URL}, Sink: sink, Now: func() time.Time { return fxNow },
	}
}

// resolvePointer returns the value at a JSON pointer in doc.
func resolvePointer(tb testing.TB, doc []byte, ptr string) map[string]any {
	tb.Helper()
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		tb.Fatalf("raw blob is not JSON: %v", err)
	}
	if ptr != "" {
		for _, part := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
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
	}
	m, ok := v.(map[string]any)
	if !ok {
		tb.Fatalf("pointer %s: not an object: %v", ptr, v)
	}
	return m
}

// checkRaw checks that every item names raw JSON that holds it.
func checkRaw(tb testing.TB, s *collect.MemorySink) {
	tb.Helper()
	for i, it := range s.Items {
		o := s.Opts[i]
		if o.Raw == nil {
			if o.RemovedAt != nil {
				continue
			}
			tb.Fatalf("item %s has no raw blob", it.ID)
		}
		raw, ok := s.Raws[*o.Raw]
		if !ok {
			tb.Fatalf("item %s names raw %s the sink never got", it.ID, o.Raw)
		}
		obj := resolvePointer(tb, raw, o.RawPath)
		id, _ := obj["id_str"].(string)
		if id == "" {
			id, _ = obj["id"].(string)
		}
		if id == "" && o.RemovedAt != nil {
			continue // a partial error
		}
		if id != it.ID && !strings.Contains(fmt.Sprint(obj["edit_history_tweet_ids"]), it.ID) && !strings.Contains(fmt.Sprint(obj["edit_info"]), it.ID) {
			tb.Fatalf("item %s: raw at %s is tweet %s", it.ID, o.RawPath, id)
		}
	}
}

// byID groups a memory sink's items by id, in the order recorded.
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
		b.WriteString(e.Error())
		b.WriteByte('\n')
	}
	return b.String()
}
