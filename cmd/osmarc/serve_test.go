package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestUserAndTokenCommands: users with roles, passwords from a file, an
// environment variable or standard input (never a flag), list, disable,
// passwd, role; tokens created (printed once), listed without secrets,
// revoked; bad input refused with one line and nothing recorded.
func TestUserAndTokenCommands(t *testing.T) {
	dir := newArchive(t)
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte("a long enough password\n"), 0o600)
	must(t, "user", "add", "--data", dir, "alice", "--role", "admin", "--password-file", pw)
	t.Setenv("BOB_PW", "bob's long password")
	must(t, "user", "add", "--data", dir, "bob", "--role", "records-officer", "--password-env", "BOB_PW")
	if code, _, errs := osmarc(t, "carol's long password\n", "user", "add", "--data", dir, "carol", "--role", "legal"); code != 0 {
		t.Fatalf("password on stdin: %s", errs)
	}
	events := func() int {
		var n int
		for _, l := range strings.Split(strings.TrimSpace(must(t, "audit", "list", "--json", "--data", dir)), "\n") {
			if l != "" {
				n++
			}
		}
		return n
	}
	before := events()
	for _, c := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{"short\n", []string{"user", "add", "dave", "--role", "viewer"}, "at least 12 characters"},
		{"a long enough password\n", []string{"user", "add", "dave", "--role", "boss"}, `role "boss"`},
		{"a long enough password\n", []string{"user", "add", "Dave Smith", "--role", "viewer"}, "user name"},
		{"a long enough password\n", []string{"user", "add", "alice", "--role", "viewer"}, "already exists"},
		{"", []string{"user", "add", "dave", "--role", "viewer", "--password-env", "NO_SUCH_VAR"}, "not set"},
		{"", []string{"user", "disable", "nobody"}, "no such user"},
		{"", []string{"token", "create", "--user", "nobody"}, "no such user"},
		{"", []string{"token", "revoke", "nope"}, "no such token"},
	} {
		code, _, errs := osmarc(t, c.stdin, append(c.args, "--data", dir)...)
		if code == 0 || !strings.Contains(errs, c.want) || strings.Count(strings.TrimSpace(errs), "\n") > 0 {
			t.Errorf("%v: exit %d, stderr %q, want one line with %q", c.args, code, errs, c.want)
		}
	}
	if n := events(); n != before {
		t.Errorf("refused commands recorded %d event(s)", n-before)
	}
	var users []map[string]any
	json.Unmarshal([]byte(must(t, "user", "list", "--json", "--data", dir)), &users)
	if len(users) != 3 || users[0]["name"] != "alice" || users[1]["role"] != "records-officer" || users[2]["role"] != "legal" {
		t.Errorf("users %v", users)
	}
	for _, u := range users {
		for k := range u {
			if strings.Contains(k, "hash") || strings.Contains(k, "password_hash") {
				t.Errorf("user list shows %s", k)
			}
		}
	}
	must(t, "user", "disable", "--data", dir, "bob", "--reason", "left the unit")
	must(t, "user", "role", "--data", dir, "carol", "--role", "viewer", "--reason", "moved")
	if code, _, errs := osmarc(t, "carol's new long password\n", "user", "passwd", "--data", dir, "carol"); code != 0 {
		t.Fatal(errs)
	}
	out := must(t, "user", "list", "--data", dir)
	if !strings.Contains(out, "bob    records-officer  disabled") || !strings.Contains(out, "carol  viewer") {
		t.Errorf("user list:\n%s", out)
	}
	code, secret, errs := osmarc(t, "", "token", "create", "--data", dir, "--user", "alice", "--note", "nightly export")
	secret = strings.TrimSpace(secret)
	if code != 0 || !strings.HasPrefix(secret, "osmarc_") || len(secret) < 50 || !strings.Contains(errs, "shown only now") {
		t.Fatalf("token create: %d %q %q", code, secret, errs)
	}
	list := must(t, "token", "list", "--data", dir)
	if strings.Contains(list, secret) || !strings.Contains(list, "nightly export") || !strings.Contains(list, "active") {
		t.Errorf("token list:\n%s", list)
	}
	// The journal holds hashes, never the secrets.
	journal := must(t, "audit", "list", "--json", "--data", dir)
	for _, s := range []string{secret, "a long enough password", "bob's long password", "carol's new long password"} {
		if strings.Contains(journal, s) {
			t.Errorf("the journal holds a secret: %q", s)
		}
	}
	id := strings.Split(secret, "_")[1]
	must(t, "token", "revoke", "--data", dir, id, "--reason", "rotated")
	if l := must(t, "token", "list", "--data", dir); !strings.Contains(l, "revoked") {
		t.Errorf("after revoke:\n%s", l)
	}
	// Users survive a rebuild of the catalog.
	must(t, "rebuild", "--data", dir)
	if l := must(t, "user", "list", "--data", dir); !strings.Contains(l, "alice") || !strings.Contains(l, "disabled") {
		t.Errorf("after rebuild:\n%s", l)
	}
}

// TestServe starts osmarc serve on a free port: a user signs in, searches
// (as a journal event naming them), and the server stops on cancel.
func TestServe(t *testing.T) {
	dir := newArchive(t)
	must(t, "ingest", "--data", dir, "../../testdata/items.jsonl")
	must(t, "reindex", "--data", dir)
	osmarc(t, "a long enough password\n", "user", "add", "--data", dir, "lee", "--role", "legal")
	base, stop := startServe(t, dir, serveOptions{listen: "127.0.0.1:0", maxBody: 1 << 20})
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Post(base+"/api/v1/session", "application/json", strings.NewReader(`{"user":"lee","password":"a long enough password"}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Security-Policy") == "" {
		t.Fatalf("sign in: %d %s", resp.StatusCode, b)
	}
	var cookie *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "osmarc_session" {
			cookie = ck
		}
	}
	if cookie == nil || cookie.Secure || !cookie.HttpOnly {
		t.Fatalf("cookie %+v", cookie)
	}
	req, _ := http.NewRequest("GET", base+"/api/v1/search?q=parade", nil)
	req.AddCookie(cookie)
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	var res struct {
		Total int `json:"total"`
	}
	json.Unmarshal(b, &res)
	if resp.StatusCode != 200 || res.Total == 0 {
		t.Fatalf("search: %d %s", resp.StatusCode, b)
	}
	// An export and a request's production through the API are those of
	// osmarc export and request produce (bags verified by export verify).
	csrf := func() string {
		req, _ := http.NewRequest("GET", base+"/api/v1/me", nil)
		req.AddCookie(cookie)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return m["csrf_token"].(string)
	}()
	post := func(path, body string) (int, map[string]any) {
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", csrf)
		req.AddCookie(cookie)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	code, m := post("/api/v1/exports?q=parade", `{"format":"bagit"}`)
	if code != 201 {
		t.Fatalf("export: %d %v", code, m)
	}
	bag := filepath.Join(dir, "exports", m["id"].(string))
	if out := must(t, "export", "verify", bag); !strings.Contains(out, "is a valid BagIt 1.0 bag") {
		t.Errorf("export verify: %s", out)
	}
	stop()
	journal := must(t, "audit", "list", "--json", "--data", dir)
	if !strings.Contains(journal, `"actor":"lee","type":"export.created"`) {
		t.Errorf("journal lacks the export by lee")
	}
	if !strings.Contains(journal, `"type":"auth.signed-in"`) || !strings.Contains(journal, `"actor":"lee","type":"search.run"`) {
		t.Errorf("journal lacks the sign-in or the search:\n%s", journal)
	}
}

// TestServeTLS serves HTTPS with --tls-cert/--tls-key: cookies are Secure
// and __Host- prefixed, and HSTS is sent.
func TestServeTLS(t *testing.T) {
	dir := newArchive(t)
	osmarc(t, "a long enough password\n", "user", "add", "--data", dir, "lee", "--role", "viewer")
	cert, key := selfSigned(t)
	if code, _, errs := osmarc(t, "", "serve", "--data", dir, "--tls-cert", cert); code == 0 || !strings.Contains(errs, "both --tls-cert and --tls-key") {
		t.Errorf("cert without key: %d %s", code, errs)
	}
	base, stop := startServe(t, dir, serveOptions{listen: "127.0.0.1:0", tlsCert: cert, tlsKey: key})
	defer stop()
	if !strings.HasPrefix(base, "https://") {
		t.Fatalf("base %s", base)
	}
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := c.Post(base+"/api/v1/session", "application/json", strings.NewReader(`{"user":"lee","password":"a long enough password"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var cookie *http.Cookie
	for _, ck := range resp.Cookies() {
		cookie = ck
	}
	if resp.StatusCode != 200 || cookie == nil || cookie.Name != "__Host-osmarc_session" || !cookie.Secure || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode {
		t.Fatalf("%d cookie %+v", resp.StatusCode, cookie)
	}
	if resp.Header.Get("Strict-Transport-Security") == "" {
		t.Error("no HSTS under TLS")
	}
}

// TestDaemonServesWebApp: the daemon's listener serves the web
// application beside /healthz.
func TestDaemonServesWebApp(t *testing.T) {
	dir := newArchive(t)
	var out, errb syncBuffer
	g := &globalOptions{dataDir: dir, stdin: strings.NewReader(""), stdout: &out, stderr: &errb, now: time.Now, registry: defaultRegistry()}
	addr := make(chan string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- runDaemon(ctx, g, daemonOptions{listen: "127.0.0.1:0", concurrency: 1, onListen: func(a string) { addr <- a }})
	}()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case err := <-done:
		t.Fatalf("daemon: %v\n%s", err, errb.String())
	case <-time.After(20 * time.Second):
		t.Fatal("the daemon did not start")
	}
	for path, want := range map[string]int{"/healthz": 200, "/api/v1/openapi.json": 200, "/api/v1/search?q=x": 401} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s: %d, want %d", path, resp.StatusCode, want)
		}
		if path != "/healthz" && resp.Header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: no security headers", path)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// startServe runs osmarc serve in-process until the test stops it.
func startServe(t *testing.T, dir string, o serveOptions) (string, func()) {
	t.Helper()
	var out, errb syncBuffer
	g := &globalOptions{dataDir: dir, stdin: strings.NewReader(""), stdout: &out, stderr: &errb, now: time.Now, registry: defaultRegistry()}
	addr := make(chan string, 1)
	o.onListen = func(a string) { addr <- a }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runServe(ctx, g, o) }()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
		if o.tlsCert != "" {
			base = "https://" + a
		}
	case err := <-done:
		cancel()
		t.Fatalf("serve: %v\n%s", err, errb.String())
	case <-time.After(20 * time.Second):
		cancel()
		t.Fatal("serve did not start")
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v\n%s", err, errb.String())
		}
		if !strings.Contains(out.String(), "osmarc serve: stopped") {
			t.Errorf("serve output: %s", out.String())
		}
	}
	t.Cleanup(stop)
	return base, stop
}

// selfSigned writes a certificate and key for 127.0.0.1.
func selfSigned(t *testing.T) (string, string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "osmarc test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(k)
	d := t.TempDir()
	cert, key := filepath.Join(d, "cert.pem"), filepath.Join(d, "key.pem")
	os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return cert, key
}

// TestServeWithholdsExemptFromViewers: once a records officer classifies
// an item as exempt through the API, a viewer's search and item view
// withhold its content; the officer's unredacted view is journaled.
func TestServeWithholdsExemptFromViewers(t *testing.T) {
	dir := newArchive(t)
	must(t, "ingest", "--data", dir, "../../testdata/items.jsonl")
	must(t, "reindex", "--data", dir)
	osmarc(t, "a long enough password\n", "user", "add", "--data", dir, "vic", "--role", "viewer")
	osmarc(t, "a long enough password\n", "user", "add", "--data", dir, "rosa", "--role", "records-officer")
	_, vtok, _ := osmarc(t, "", "token", "create", "--data", dir, "--user", "vic")
	_, rtok, _ := osmarc(t, "", "token", "create", "--data", dir, "--user", "rosa")
	base, stop := startServe(t, dir, serveOptions{listen: "127.0.0.1:0", maxBody: 1 << 20})
	call := func(tok, method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(tok))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	key := "facebook/3rd-brigade/101_2001"
	const text = "Road closures on Main Street"
	if code, body := call(vtok, "GET", "/api/v1/search?q=closures", ""); code != 200 || !strings.Contains(body, "closures") {
		t.Fatalf("before: %d %s", code, body)
	}
	if code, body := call(rtok, "POST", "/api/v1/classifications/"+key, `{"class":"record","exemptions":["security"],"reason":"names a route"}`); code != 200 {
		t.Fatalf("classify: %d %s", code, body)
	}
	code, body := call(vtok, "GET", "/api/v1/search?q=closures", "")
	if code != 200 || strings.Contains(body, "Main Street") || !strings.Contains(body, "[withheld: exempt]") {
		t.Errorf("viewer search after: %d %s", code, body)
	}
	code, body = call(vtok, "GET", "/api/v1/items/"+key, "")
	if code != 200 || strings.Contains(body, text) || !strings.Contains(body, `"withheld":true`) {
		t.Errorf("viewer item: %d %s", code, body)
	}
	code, body = call(rtok, "GET", "/api/v1/items/"+key, "")
	if code != 200 || !strings.Contains(body, text) || !strings.Contains(body, `"exemptions":["security-information"]`) {
		t.Errorf("officer item: %d %s", code, body)
	}
	stop()
	journal := must(t, "audit", "list", "--json", "--data", dir)
	if !strings.Contains(journal, `"actor":"rosa","type":"item.viewed-exempt"`) {
		t.Errorf("the officer's view of exempt content is not in the journal")
	}
}
