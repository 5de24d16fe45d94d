package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/archivetest"
	"github.com/osmarc/osmarc/archive/memstore"
	"github.com/osmarc/osmarc/export"
	"github.com/osmarc/osmarc/export/tabular"
	"github.com/osmarc/osmarc/index"
)

// apiPII is a comment with personal information, beside the shared
// fixture testdata/items.jsonl.
const apiPII = `{"platform":"facebook","account":"3rd-brigade","id":"101_2001_3003","kind":"comment","created_at":"2024-01-16T09:00:00Z","text":"Parade question: call me at (613) 555-0123 or write jane.public@example.org.","author":{"id":"9001","name":"Jane Public"},"parent":"101_2001","thread":"101_2001","lang":"en"}
`

// apiPIIKey is apiPII's item key.
var apiPIIKey = archive.ItemKey("facebook", "3rd-brigade", "101_2001_3003")

// apiEnv is a server over an indexed archive, with a user and a token of
// every role. Passwords are "password-<role>-1".
type apiEnv struct {
	t      testing.TB
	a      *archive.Archive
	store  *memstore.Store
	clock  *archivetest.Clock
	ix     *index.Index
	s      *Server
	ts     *httptest.Server
	tokens map[Role]string
}

func apiPassword(r Role) string { return "password-" + string(r) + "-1" }

func apiUser(r Role) string { return strings.ReplaceAll(string(r), "-", ".") }

func newAPIEnv(t testing.TB) *apiEnv {
	t.Helper()
	ctx := context.Background()
	a, store, clock := archivetest.New(t)
	items, err := os.ReadFile("../../../testdata/items.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Ingest(ctx, []archive.Source{{Name: "items.jsonl", R: io.MultiReader(bytes.NewReader(items), strings.NewReader(apiPII))}}, archive.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	ix, err := index.Open(filepath.Join(a.Dir(), index.DirName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.SetIndexer(nil); ix.Close() })
	ix.SetVersionReader(a)
	a.SetIndexer(ix)
	if err := ix.Reindex(ctx, a, nil); err != nil {
		t.Fatal(err)
	}
	users, err := LoadUsers(a, bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	e := &apiEnv{t: t, a: a, store: store, clock: clock, ix: ix, tokens: map[Role]string{}}
	actx := archive.WithActor(ctx, "setup")
	for _, r := range Roles {
		if _, err := users.Add(actx, a, apiUser(r), r, apiPassword(r)); err != nil {
			t.Fatal(err)
		}
		_, secret, err := users.CreateToken(actx, a, apiUser(r), "tests")
		if err != nil {
			t.Fatal(err)
		}
		e.tokens[r] = secret
	}
	// A second records officer and legal user, for second-person checks.
	if _, err := users.Add(actx, a, "records.officer2", RoleRecordsOfficer, apiPassword(RoleRecordsOfficer)); err != nil {
		t.Fatal(err)
	}
	e.s, err = New(Config{Archive: a, Index: ix, Users: users, Now: clock.Now, BcryptCost: bcrypt.MinCost, MaxBody: 64 << 10,
		Export: jsonlExport(a, ix)})
	if err != nil {
		t.Fatal(err)
	}
	e.ts = httptest.NewServer(e.s.Handler())
	t.Cleanup(e.ts.Close)
	return e
}

// events is how many journal events the archive holds.
func (e *apiEnv) events() uint64 {
	h, err := e.a.Catalog().Head()
	if err != nil {
		e.t.Fatal(err)
	}
	return h.Seq
}

// lastEvents returns the journal events after seq.
func (e *apiEnv) eventsAfter(seq uint64) []map[string]any {
	var out []map[string]any
	for ev, err := range e.a.Events(seq + 1) {
		if err != nil {
			e.t.Fatal(err)
		}
		var d map[string]any
		json.Unmarshal(ev.Data, &d)
		out = append(out, map[string]any{"type": ev.Type, "actor": ev.Actor, "data": d})
	}
	return out
}

// response is an answer read whole.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("status %d, body not JSON: %v: %s", r.status, err, r.body)
	}
	return m
}

// do sends a request; body, when a string, is sent as JSON.
func (e *apiEnv) do(c *http.Client, method, path string, body any, hdr map[string]string) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.ts.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if c == nil {
		c = e.ts.Client()
	}
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, b}
}

// as sends a request with role's token.
func (e *apiEnv) as(r Role, method, path string, body any) response {
	e.t.Helper()
	return e.do(nil, method, path, body, map[string]string{"Authorization": "Bearer " + e.tokens[r]})
}

// browser is a cookie-keeping client that does not follow redirects.
func (e *apiEnv) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: 30 * time.Second}
}

// signIn signs a browser in through the API and returns the CSRF token.
func (e *apiEnv) signIn(c *http.Client, user, password string) string {
	e.t.Helper()
	r := e.do(c, "POST", "/api/v1/session", map[string]string{"user": user, "password": password}, nil)
	if r.status != http.StatusOK {
		e.t.Fatalf("sign in as %s: %d %s", user, r.status, r.body)
	}
	return r.json(e.t)["csrf_token"].(string)
}

// jsonlExport is an ExportFunc for the tests of this package: a search
// selection as JSON Lines, through the export library (the command layer
// gives the server osmarc export's own, tested in cmd/osmarc).
func jsonlExport(a *archive.Archive, ix *index.Index) ExportFunc {
	return func(ctx context.Context, p ExportParams, out string) (export.Manifest, error) {
		if p.Format != "jsonl" {
			return export.Manifest{}, fmt.Errorf("format %q: %w", p.Format, export.ErrUnknownFormat)
		}
		req := p.Search
		req.Sort = index.SortOldest
		src, err := export.NewSource(a, export.SourceOptions{Keys: func(ctx context.Context, yield func(string) error) error {
			_, err := ix.SearchAll(ctx, req, func(h index.Hit) error { return yield(h.Key) })
			return err
		}})
		if err != nil {
			return export.Manifest{}, err
		}
		man, err := export.Run(ctx, src, tabular.JSONL().New(), export.Meta{Format: "jsonl", Out: out, Exporter: archive.ActorFrom(ctx),
			Versions: export.VersionsLatest, Selection: export.Selection{Query: req.Query, Versions: export.VersionsLatest}}, nil)
		if err != nil {
			return man, err
		}
		_, err = a.RecordEvent(ctx, "export.created", map[string]any{"format": "jsonl", "out": out, "items": man.Items})
		return man, err
	}
}
