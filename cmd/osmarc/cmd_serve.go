package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/request"
	"github.com/osmarc/osmarc/cmd/osmarc/web"
	"github.com/osmarc/osmarc/export"
	"github.com/osmarc/osmarc/index"
)

type serveOptions struct {
	listen          string
	tlsCert, tlsKey string
	maxBody         int64
	sessionIdle     time.Duration
	sessionMax      time.Duration
	// onListen is told the address served (tests listen on port 0).
	onListen func(addr string)
}

func newServeCommand(g *globalOptions) *cobra.Command {
	o := serveOptions{}
	cmd := &cobra.Command{
		Use:   "serve [--listen 127.0.0.1:8080] [--tls-cert F --tls-key F]",
		Short: "Serve the web application and the JSON API",
		Long: `serve runs the web application for records officers, legal staff and
administrators: search, items and threads, requests, holds, retention,
accounts and the audit trail, as HTML pages and as a JSON API under
/api/v1/ (its OpenAPI document is /api/v1/openapi.json).

People sign in with the users osmarc user add creates; scripts send a token
from osmarc token create (Authorization: Bearer …). What each may do depends
on their role (see the README). serve holds the archive's writer lock while
it runs, as the daemon does: every change made through it is a journal event
naming the signed-in user.

Listen on 127.0.0.1 (the default) behind a TLS-terminating proxy, or give
--tls-cert and --tls-key to serve HTTPS yourself; then cookies are Secure.
Serving plain HTTP on an address other than loopback is allowed but warned
about: passwords and session cookies would cross the network in clear.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runServe(cmd.Context(), g, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", "127.0.0.1:8080", "address to serve on")
	f.StringVar(&o.tlsCert, "tls-cert", "", "TLS certificate file (PEM); with --tls-key, serve HTTPS")
	f.StringVar(&o.tlsKey, "tls-key", "", "TLS private key file (PEM)")
	f.Int64Var(&o.maxBody, "max-body", 1<<20, "largest request body accepted, in bytes")
	f.DurationVar(&o.sessionIdle, "session-idle", 30*time.Minute, "sign a browser out after this long unused")
	f.DurationVar(&o.sessionMax, "session-max", 12*time.Hour, "sign a browser out this long after sign-in, however busy")
	return cmd
}

// webConfig is the web application's configuration from serve's flags.
func (o serveOptions) webConfig(g *globalOptions, a *archive.Archive, lock sync.Locker) web.Config {
	return web.Config{
		Archive: a, Now: g.now, WriteLock: lock,
		Logger: slog.New(slog.NewTextHandler(g.stderr, nil)),
		TLS:    o.tlsCert != "", MaxBody: o.maxBody,
		SessionIdle: o.sessionIdle, SessionMax: o.sessionMax,
	}
}

func (o serveOptions) check() error {
	if (o.tlsCert == "") != (o.tlsKey == "") {
		return fmt.Errorf("serve: give both --tls-cert and --tls-key, or neither")
	}
	return nil
}

// newWebServer builds the web application over a: the search index
// (the one a capturing command — the daemon — already installed, else
// opened here) and records management wired to it by wireRecords, as
// recordsFor wires it for the retention commands (rules and query holds
// evaluated on the index, classification fed to it, destroyed items
// leaving it). An archive with items and no index is served without
// search until osmarc reindex builds one. The func closes what was opened
// here.
func newWebServer(g *globalOptions, a *archive.Archive, o serveOptions, lock sync.Locker) (*web.Server, func(), error) {
	var ix *index.Index
	switch v := a.Indexer().(type) {
	case *index.Index:
		ix = v
	case *classifyingIndexer:
		ix = v.ix
	}
	closeIndex, opened := func() {}, false
	if ix == nil {
		ok, err := indexable(a)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			if ix, err = index.Open(filepath.Join(a.Dir(), index.DirName)); err != nil {
				return nil, nil, fmt.Errorf("open the search index: %w", err)
			}
			opened = true
		} else {
			fmt.Fprintf(g.stderr, "osmarc: %s has no search index: search answers 503 until osmarc reindex builds one\n", a.Dir())
		}
	}
	r := newRecords(g, a)
	if ix != nil {
		ix.SetHoldScope(web.HoldScope(r))
	}
	cfg := o.webConfig(g, a, lock)
	cfg.Records = r
	if ix != nil {
		unwire := wireRecords(a, r, ix)
		if opened {
			closeIndex = func() { unwire(); ix.Close() }
		}
		cfg.Index = ix
	}
	cfg.ProduceBag = serveProduce(g, a)
	cfg.Export = serveExport(g, a, ix)
	srv, err := web.New(cfg)
	if err != nil {
		closeIndex()
		return nil, nil, err
	}
	return srv, closeIndex, nil
}

// httpServer is the http.Server osmarc serves with: timeouts against slow
// clients, and under TLS the key pair loaded (and checked) at start.
func (o serveOptions) httpServer(h http.Handler) (*http.Server, error) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 2 * time.Minute,
		WriteTimeout: 10 * time.Minute, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
	if o.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(o.tlsCert, o.tlsKey)
		if err != nil {
			return nil, fmt.Errorf("serve: --tls-cert %s / --tls-key %s: %w", o.tlsCert, o.tlsKey, err)
		}
		srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	}
	return srv, nil
}

func (o serveOptions) serveOn(srv *http.Server, ln net.Listener) func() error {
	if srv.TLSConfig != nil {
		return func() error { return srv.ServeTLS(ln, "", "") }
	}
	return func() error { return srv.Serve(ln) }
}

func warnPlainHTTP(g *globalOptions, o serveOptions, addr net.Addr) {
	if o.tlsCert != "" {
		return
	}
	if ta, ok := addr.(*net.TCPAddr); ok && !ta.IP.IsLoopback() {
		fmt.Fprintf(g.stderr, "osmarc: warning: serving plain HTTP on %s: passwords and session cookies cross the network in clear; use --tls-cert and --tls-key or a TLS proxy\n", addr)
	}
}

func runServe(ctx context.Context, g *globalOptions, o serveOptions) error {
	if err := o.check(); err != nil {
		return err
	}
	a, err := g.open(ctx, "serve", false)
	if err != nil {
		return err
	}
	defer a.Close()
	app, closeIndex, err := newWebServer(g, a, o, &sync.Mutex{})
	if err != nil {
		return err
	}
	defer closeIndex()
	srv, err := o.httpServer(app.Handler())
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("serve: listen on %s: %w", o.listen, err)
	}
	scheme := "http"
	if srv.TLSConfig != nil {
		scheme = "https"
	}
	warnPlainHTTP(g, o, ln.Addr())
	if n := len(app.Users().List()); n == 0 {
		fmt.Fprintln(g.stderr, "osmarc: no users yet: stop the server and add one with osmarc user add NAME --role admin")
	}
	fmt.Fprintf(g.stdout, "osmarc serve: serving %s://%s\n", scheme, ln.Addr())
	if o.onListen != nil {
		o.onListen(ln.Addr().String())
	}
	if err := web.Serve(ctx, srv, o.serveOn(srv, ln)); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	fmt.Fprintln(g.stdout, "osmarc serve: stopped")
	return nil
}

// serveProduce is request produce for the web application: the bag
// produceRequest writes, produced by the signed-in user.
func serveProduce(g *globalOptions, a *archive.Archive) web.ProduceFunc {
	return func(ctx context.Context, id, out string, threads, noDetect bool) (*request.Summary, string, string, error) {
		ug := *g
		ug.actor, ug.quiet = archive.ActorFrom(ctx), true
		sum, man, err := produceRequest(ctx, &ug, a, id, out, threads, noDetect)
		if err != nil {
			return nil, "", "", err
		}
		return sum, man.PayloadOxum, man.SHA256, nil
	}
}

// serveExport is osmarc export for the web application: exportItems, as
// runExport calls it, so the formats, selection, records fields,
// redaction and journal events (export.created or export.failed) are the
// same, with the signed-in user as the exporter.
func serveExport(g *globalOptions, a *archive.Archive, ix *index.Index) web.ExportFunc {
	return func(ctx context.Context, p web.ExportParams, out string) (export.Manifest, error) {
		format, err := exportFormats(a).Lookup(p.Format)
		if err != nil {
			return export.Manifest{}, fmt.Errorf("format: %w", err)
		}
		if p.Excel && format.Name != "csv" {
			return export.Manifest{}, fmt.Errorf("excel is for format csv, not %s", format.Name)
		}
		if p.Redact && p.Versions == export.VersionsAll {
			return export.Manifest{}, errors.New("redact exports latest versions only: leave out versions all")
		}
		man, _, err := exportItems(ctx, g, a, ix, exportJob{format: format, out: out, exporter: archive.ActorFrom(ctx),
			organization: strings.TrimSpace(os.Getenv("OSMARC_ORGANIZATION")), search: p.Search, filters: p.Filters, request: p.Request,
			threads: p.Threads, versions: p.Versions, media: p.Media, redact: p.Redact, excel: p.Excel})
		return man, err
	}
}
