package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/osmarc/osmarc/archive"
)

// TestServeConcurrentRuleChangesAndCaptures: the web application as
// osmarc serve and the daemon build it (newWebServer: one Records wired to
// the index by wireRecords) answers searches, item views and explanations
// while rules change through its API and captures index new items through
// the archive's indexer under the daemon's write lock. Run it under -race
// (go test -race ./cmd/osmarc -run TestServeConcurrent): afterwards each
// change was applied once, and what was captured meanwhile is classified
// by the rules in force.
func TestServeConcurrentRuleChangesAndCaptures(t *testing.T) {
	dir := newArchive(t)
	must(t, "ingest", "--data", dir, "../../testdata/items.jsonl")
	must(t, "reindex", "--data", dir)
	osmarc(t, "a long enough password\n", "user", "add", "--data", dir, "olivia", "--role", "records-officer")
	code, secret, errs := osmarc(t, "", "token", "create", "--data", dir, "--user", "olivia", "--note", "race")
	secret = strings.TrimSpace(secret)
	if code != 0 {
		t.Fatalf("token create: %d %q", code, errs)
	}
	var out, errb syncBuffer
	g := &globalOptions{dataDir: dir, stdin: strings.NewReader(""), stdout: &out, stderr: &errb, now: time.Now, registry: defaultRegistry()}
	ctx := context.Background()
	a, err := g.open(ctx, "serve", false)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	var lock sync.Mutex // the daemon's write lock, shared with the server
	app, closeIndex, err := newWebServer(g, a, serveOptions{maxBody: 1 << 20}, &lock)
	if err != nil {
		t.Fatal(err)
	}
	defer closeIndex()
	ts := httptest.NewServer(app.Handler())
	defer ts.Close()
	c := &http.Client{Timeout: 30 * time.Second}
	call := func(method, path, body string) (int, map[string]any) {
		req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+secret)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := c.Do(req)
		if err != nil {
			return 0, map[string]any{"error": err.Error()}
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var m map[string]any
		json.Unmarshal(b, &m)
		return resp.StatusCode, m
	}
	key := "facebook/3rd-brigade/101_2001_3001"
	var wg sync.WaitGroup
	stop := make(chan struct{})
	loop := func(name string, fn func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := fn(); err != nil {
					t.Errorf("%s: %v", name, err)
					return
				}
			}
		}()
	}
	for _, path := range []string{"/api/v1/search?q=parade", "/api/v1/search?class=transitory", "/api/v1/items/" + url.PathEscape(key), "/api/v1/explain/" + url.PathEscape(key)} {
		loop(path, func() error {
			if code, m := call("GET", path, ""); code != 200 {
				return fmt.Errorf("%d %v", code, m)
			}
			return nil
		})
	}
	captured := 0
	loop("capture", func() error {
		lock.Lock()
		defer lock.Unlock()
		line := fmt.Sprintf(`{"platform":"facebook","account":"3rd-brigade","id":"101_2001_9%03d","kind":"comment","created_at":"2024-01-20T10:00:00Z","text":"Comment %d on the parade","author":{"id":"9%03d","name":"Someone"},"parent":"101_2001"}`+"\n", captured, captured, captured)
		if _, err := a.Ingest(ctx, []archive.Source{{Name: "more.jsonl", R: strings.NewReader(line)}}, archive.IngestOptions{}); err != nil {
			return err
		}
		captured++
		time.Sleep(20 * time.Millisecond)
		return nil
	})
	const changes = 6
	id := ""
	for i := range changes {
		if i%2 == 0 {
			code, m := call("POST", "/api/v1/rules", `{"match":"platform:facebook kind:comment","class":"transitory","reason":"comments"}`)
			if code != 201 {
				t.Errorf("rule add: %d %v", code, m)
				break
			}
			id, _ = m["rule"].(map[string]any)["id"].(string)
		} else if code, m := call("POST", "/api/v1/rules/"+id+"/remove", `{"reason":"again"}`); code != 200 {
			t.Errorf("rule remove: %d %v", code, m)
			break
		}
	}
	// A rule stays: captures go on under it for a while.
	if code, m := call("POST", "/api/v1/rules", `{"match":"platform:facebook kind:comment","class":"transitory","reason":"final"}`); code != 201 {
		t.Errorf("last rule: %d %v", code, m)
	}
	time.Sleep(200 * time.Millisecond)
	close(stop)
	wg.Wait()
	if t.Failed() {
		return
	}
	// Each change applied once, in order.
	if code, m := call("GET", "/api/v1/rules", ""); code != 200 || m["version"] != float64(changes+1) || len(m["rules"].([]any)) != 1 {
		t.Fatalf("rules after the changes: %d %v", code, m)
	}
	// Every Facebook comment, those captured during the changes too, is
	// transitory: in the index (search by class) and in records management.
	code, m := call("GET", "/api/v1/search?class=transitory&limit=1", "")
	if code != 200 || m["total"] != float64(1+captured) || captured == 0 {
		t.Fatalf("search --class transitory after %d captures: %d %v", captured, code, m)
	}
	if code, m := call("GET", "/api/v1/explain/"+url.PathEscape(fmt.Sprintf("facebook/3rd-brigade/101_2001_9%03d", captured-1)), ""); code != 200 ||
		m["classification"].(map[string]any)["class"] != "transitory" {
		t.Fatalf("the last captured comment: %d %v", code, m)
	}
}
