package web

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/bcrypt"
)

// selfSigned makes a certificate for 127.0.0.1 and localhost, valid for
// an hour, as an organisation's own machine might serve before it has a
// real one.
func selfSigned(t *testing.T) (tls.Certificate, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "osmarc test"},
		NotBefore:    time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, cert
}

// TestE2ETLS serves the site over HTTPS with a self-signed certificate
// (Config.TLS, as osmarc serve --tls-cert/--tls-key sets it), signs in in
// Chromium and checks the session cookie Chromium keeps: __Host- prefix,
// Secure, HttpOnly, SameSite=Strict, host-only, path /; the pages work
// with it, script cannot read it, and HSTS is sent.
func TestE2ETLS(t *testing.T) {
	st := newSite(t) // the archive, index and users (over plain HTTP)
	srv, err := New(Config{Archive: st.a, Index: st.ix, Now: st.clock.Now, BcryptCost: bcrypt.MinCost, TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	cert, leaf := selfSigned(t)
	hs := httptest.NewUnstartedServer(srv.Handler())
	hs.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	hs.StartTLS()
	t.Cleanup(hs.Close)
	if !strings.HasPrefix(hs.URL, "https://") {
		t.Fatalf("server at %s", hs.URL)
	}
	tlsSite := *st
	tlsSite.URL, tlsSite.srv = hs.URL, srv

	ctx := tab(t)
	tlsSite.signIn(t, ctx, "olivia") // fails unless the search page follows
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{hs.URL + "/"}})
	if err != nil {
		t.Fatal(err)
	}
	var session *network.Cookie
	for _, c := range res.Cookies {
		if c.Name == "__Host-osmarc_session" {
			session = c
		}
	}
	if session == nil {
		t.Fatalf("no __Host-osmarc_session cookie in Chromium: %+v", res.Cookies)
	}
	if !session.Secure || !session.HTTPOnly || session.SameSite != network.CookieSameSiteStrict || session.Path != "/" ||
		strings.HasPrefix(session.Domain, ".") {
		t.Errorf("session cookie: secure %v, httpOnly %v, sameSite %q, path %q, domain %q", session.Secure, session.HTTPOnly,
			session.SameSite, session.Path, session.Domain)
	}
	// The cookie works: the item page opens; script cannot read it.
	text := visit(t, ctx, &tlsSite, itemURL(st.keys.post))
	mustContain(t, "item over TLS", text, "Parade on Saturday")
	if c := eval[string](t, ctx, `document.cookie`); strings.Contains(c, "osmarc_session") {
		t.Errorf("script reads the session cookie: %q", c)
	}
	screenshot(t, ctx, "tls-item")

	// A client that trusts the certificate sees HSTS and the cookie's
	// attributes on the wire.
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(hs.URL + "/signin")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if h := resp.Header.Get("Strict-Transport-Security"); !strings.Contains(h, "max-age=") {
		t.Errorf("HSTS: %q", h)
	}
	for _, c := range resp.Header.Values("Set-Cookie") {
		if !strings.HasPrefix(c, "__Host-") || !strings.Contains(c, "Secure") || !strings.Contains(c, "HttpOnly") || !strings.Contains(c, "SameSite=Strict") {
			t.Errorf("cookie over TLS: %s", c)
		}
	}
}
