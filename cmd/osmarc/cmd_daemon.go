package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/robfig/cron/v3"
	"github.com/spf13/cobra"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/collect"
	"github.com/osmarc/osmarc/archive/collect/coverage"
)

// cronParser reads account collect schedules (coverage.ScheduleParser).
var cronParser = coverage.ScheduleParser

func parseSchedule(spec string) (cron.Schedule, error) { return coverage.ParseSchedule(spec) }

// schedulePeriod is the longest interval between the schedule's next few
// activations after at.
func schedulePeriod(s cron.Schedule, at time.Time) time.Duration {
	return coverage.SchedulePeriod(s, at)
}

// dueAtStart says whether a schedule missed a run while nothing ran it:
// its last run (zero: never) is older than the last time it was due
// before now.
func dueAtStart(s cron.Schedule, lastRun, now time.Time) bool {
	if lastRun.IsZero() {
		return true
	}
	next := s.Next(lastRun)
	return !next.IsZero() && !next.After(now)
}

type daemonOptions struct {
	listen      string
	concurrency int
	jitter      time.Duration
	full        bool
	fullEvery   time.Duration
	noMedia     bool
	// web configures the web application served on listen beside
	// /healthz and /metrics.
	web serveOptions
	// onListen is told the address served (tests listen on port 0).
	onListen func(addr string)
}

func newDaemonCommand(g *globalOptions) *cobra.Command {
	o := daemonOptions{}
	cmd := &cobra.Command{
		Use:   "daemon [--listen 127.0.0.1:9090] [--concurrency N]",
		Short: "Run each active account's collector on its schedule",
		Long: `daemon runs the collector of each active account that has a collect schedule
(account add --collect CRON) whenever it is due, at most --concurrency at a
time, each delayed by a random jitter so runs do not all start at once. At
start, an account whose schedule came due while nothing ran it (the daemon
was down) is collected at once. The daemon holds the archive's writer lock
for as long as it runs: stop it to change the registry or run other writing
commands.

A run is a complete listing (which is what lets osmarc mark items removed
at the source) when the account's last one is older than --full-every, or
always with --full; otherwise collectors go on from where they got to.

On SIGTERM or Ctrl-C it starts no new run; runs in hand stop after the page
in hand, their captures are committed (as incomplete), and it exits.

It serves /healthz and Prometheus /metrics (runs, captures, items, new
versions, errors by class, last success per account) on --listen, and the
web application and JSON API of osmarc serve (sign-in, roles, /api/v1/)
beside them; --tls-cert and --tls-key serve all of it over HTTPS.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDaemon(cmd.Context(), g, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", "127.0.0.1:9090", "address for /healthz and /metrics (empty: serve nothing)")
	f.IntVar(&o.concurrency, "concurrency", 4, "runs at most this many collectors at once")
	f.DurationVar(&o.jitter, "jitter", 30*time.Second, "delay each run by a random time up to this (at most a quarter of its schedule's interval)")
	f.BoolVar(&o.full, "full", false, "list everything on every run (otherwise collectors go on from where they got to)")
	f.DurationVar(&o.fullEvery, "full-every", 24*time.Hour, "list an account completely when its last complete listing is older than this (0: never)")
	f.BoolVar(&o.noMedia, "no-media", false, "do not download media")
	f.StringVar(&o.web.tlsCert, "tls-cert", "", "TLS certificate file (PEM); with --tls-key, serve HTTPS")
	f.StringVar(&o.web.tlsKey, "tls-key", "", "TLS private key file (PEM)")
	o.web.maxBody, o.web.sessionIdle, o.web.sessionMax = 1<<20, 30*time.Minute, 12*time.Hour
	return cmd
}

// daemonMetrics are what /metrics shows.
type daemonMetrics struct {
	reg         *prometheus.Registry
	runs        *prometheus.CounterVec
	captures    *prometheus.CounterVec
	items       *prometheus.CounterVec
	newVersions *prometheus.CounterVec
	removed     *prometheus.CounterVec
	errors      *prometheus.CounterVec
	lastSuccess *prometheus.GaugeVec
	lastRun     *prometheus.GaugeVec
	running     prometheus.Gauge
	scheduled   prometheus.Gauge
}

func newDaemonMetrics() *daemonMetrics {
	m := &daemonMetrics{
		reg: prometheus.NewRegistry(),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "osmarc_collect_runs_total",
			Help: "Collector runs, by account, collector and result (complete, incremental, failed)."}, []string{"account", "collector", "result"}),
		captures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "osmarc_captures_total",
			Help: "Captures recorded by collector runs, by account and collector."}, []string{"account", "collector"}),
		items: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "osmarc_collect_items_total",
			Help: "Items seen by collector runs."}, []string{"account"}),
		newVersions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "osmarc_collect_new_versions_total",
			Help: "New item versions (new items and edits) recorded by collector runs."}, []string{"account"}),
		removed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "osmarc_collect_removed_total",
			Help: "Items found removed at the source by complete listings."}, []string{"account"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "osmarc_collect_errors_total",
			Help: "Failed collector runs, by account and class (auth, rate-limit, unavailable, malformed, other)."}, []string{"account", "class"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "osmarc_collect_last_success_timestamp_seconds",
			Help: "When the account's last good run ended (Unix time)."}, []string{"account"}),
		lastRun: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "osmarc_collect_last_run_timestamp_seconds",
			Help: "When the account's last run ended, good or not (Unix time)."}, []string{"account"}),
		running: prometheus.NewGauge(prometheus.GaugeOpts{Name: "osmarc_collect_running", Help: "Collector runs in progress."}),
		scheduled: prometheus.NewGauge(prometheus.GaugeOpts{Name: "osmarc_scheduled_accounts",
			Help: "Accounts the daemon collects on a schedule."}),
	}
	m.reg.MustRegister(m.runs, m.captures, m.items, m.newVersions, m.removed, m.errors, m.lastSuccess, m.lastRun, m.running, m.scheduled,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *daemonMetrics) record(res collect.RunResult, err error, ended time.Time) {
	result := "incremental"
	switch {
	case err != nil:
		result = "failed"
		m.errors.WithLabelValues(res.Account, res.Class).Inc()
	case res.Complete:
		result = "complete"
	}
	m.runs.WithLabelValues(res.Account, res.Collector, result).Inc()
	if res.Capture != "" {
		m.captures.WithLabelValues(res.Account, res.Collector).Inc()
	}
	m.items.WithLabelValues(res.Account).Add(float64(res.Items))
	m.newVersions.WithLabelValues(res.Account).Add(float64(res.NewVersions))
	m.removed.WithLabelValues(res.Account).Add(float64(res.Removed))
	m.lastRun.WithLabelValues(res.Account).Set(float64(ended.Unix()))
	if err == nil {
		m.lastSuccess.WithLabelValues(res.Account).Set(float64(ended.Unix()))
	}
}

// scheduled is one account the daemon collects.
type scheduled struct {
	acct  archive.Account
	c     collect.Collector
	sched cron.Schedule
	// period bounds the jitter.
	period time.Duration
}

// daemon runs scheduled collections into one archive.
type daemon struct {
	g       *globalOptions
	o       daemonOptions
	a       *archive.Archive
	log     *slog.Logger
	m       *daemonMetrics
	sem     chan struct{}
	writeMu sync.Mutex // the archive has one writer: commits take turns
	wg      sync.WaitGroup

	mu      sync.Mutex
	running map[string]bool
}

func runDaemon(ctx context.Context, g *globalOptions, o daemonOptions) error {
	if o.concurrency < 1 {
		return fmt.Errorf("daemon: --concurrency must be at least 1")
	}
	// The daemon is the archive's one writer for as long as it runs.
	a, err := g.open(ctx, "daemon", false)
	if err != nil {
		return err
	}
	defer a.Close()
	d := &daemon{
		g: g, o: o, a: a, m: newDaemonMetrics(), sem: make(chan struct{}, o.concurrency), running: map[string]bool{},
		log: slog.New(slog.NewTextHandler(g.stderr, nil)).WithGroup("daemon"),
	}
	jobs, err := d.schedules()
	if err != nil {
		return err
	}
	d.m.scheduled.Set(float64(len(jobs)))

	var srv *http.Server
	srvDone := make(chan error, 1)
	if o.listen != "" {
		if err := o.web.check(); err != nil {
			return err
		}
		// The web application shares the collectors' write lock: the
		// archive has one writer, and its commits take turns.
		app, closeIndex, err := newWebServer(g, a, o.web, &d.writeMu)
		if err != nil {
			return err
		}
		defer closeIndex()
		if srv, err = o.web.httpServer(d.handler(len(jobs), app.Handler())); err != nil {
			return err
		}
		ln, err := net.Listen("tcp", o.listen)
		if err != nil {
			return fmt.Errorf("daemon: listen on %s: %w", o.listen, err)
		}
		warnPlainHTTP(g, o.web, ln.Addr())
		serve := o.web.serveOn(srv, ln)
		go func() { srvDone <- serve() }()
		if o.onListen != nil {
			o.onListen(ln.Addr().String())
		}
		scheme := "http"
		if srv.TLSConfig != nil {
			scheme = "https"
		}
		fmt.Fprintf(g.stdout, "osmarc daemon: %d account(s) scheduled; serving the web application, /healthz and /metrics on %s://%s\n", len(jobs), scheme, ln.Addr())
	} else {
		fmt.Fprintf(g.stdout, "osmarc daemon: %d account(s) scheduled\n", len(jobs))
	}

	c := cron.New(cron.WithParser(cronParser), cron.WithLocation(time.UTC))
	now := g.now().UTC()
	for _, j := range jobs {
		c.Schedule(j.sched, cron.FuncJob(func() { d.trigger(ctx, j) }))
		last, err := d.lastRun(j)
		if err != nil {
			d.log.Warn("cannot read the run history", "account", j.acct.Key, "err", err)
			continue
		}
		if dueAtStart(j.sched, last, now) {
			d.log.Info("catching up: a run came due while none ran", "account", j.acct.Key, "last_run", last)
			d.trigger(ctx, j)
		}
	}
	c.Start()
	select {
	case <-ctx.Done():
	case err := <-srvDone:
		c.Stop()
		d.wg.Wait()
		return fmt.Errorf("daemon: serve: %w", err)
	}
	// No new run; the runs in hand see ctx end, stop after their page and
	// commit what they have.
	<-c.Stop().Done()
	d.wg.Wait()
	if srv != nil {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}
	fmt.Fprintln(g.stdout, "osmarc daemon: stopped")
	return nil
}

// schedules lists the active accounts with a schedule and a collector.
func (d *daemon) schedules() ([]scheduled, error) {
	accts, err := d.a.Accounts()
	if err != nil {
		return nil, err
	}
	now := d.g.now()
	var out []scheduled
	for _, acct := range accts {
		if acct.Status != archive.AccountActive || acct.Collect == "" {
			continue
		}
		c, ok := d.g.registry.Collector(acct.Platform)
		if !ok {
			fmt.Fprintf(d.g.stderr, "osmarc: %s: not scheduled: no collector for platform %q\n", acct.Key, acct.Platform)
			continue
		}
		s, err := parseSchedule(acct.Collect)
		if err != nil {
			fmt.Fprintf(d.g.stderr, "osmarc: %s: not scheduled: %v\n", acct.Key, err)
			continue
		}
		out = append(out, scheduled{acct: acct, c: c, sched: s, period: schedulePeriod(s, now)})
	}
	return out, nil
}

// lastRun is when the account's collector last ran, good or not.
func (d *daemon) lastRun(j scheduled) (time.Time, error) {
	runs, err := history(d.a, j.acct.Key)
	if err != nil {
		return time.Time{}, err
	}
	for i := len(runs) - 1; i >= 0; i-- {
		if runs[i].Collector == j.c.Platform() {
			if runs[i].EndedAt != nil {
				return *runs[i].EndedAt, nil
			}
			return runs[i].StartedAt, nil
		}
	}
	return time.Time{}, nil
}

// fullDue says whether the account's last complete listing by its
// collector is older than --full-every (or there is none).
func (d *daemon) fullDue(j scheduled) bool {
	if d.o.fullEvery <= 0 {
		return false
	}
	runs, err := history(d.a, j.acct.Key)
	if err != nil {
		return false
	}
	for i := len(runs) - 1; i >= 0; i-- {
		r := runs[i]
		if r.Collector == j.c.Platform() && r.Complete && !r.Failed && r.EndedAt != nil {
			return d.g.now().Sub(*r.EndedAt) >= d.o.fullEvery
		}
	}
	return true
}

// trigger starts a run of j unless one is already under way.
func (d *daemon) trigger(ctx context.Context, j scheduled) {
	if ctx.Err() != nil {
		return
	}
	d.mu.Lock()
	if d.running[j.acct.Key] {
		d.mu.Unlock()
		d.log.Info("skipped: the previous run is still going", "account", j.acct.Key)
		return
	}
	d.running[j.acct.Key] = true
	d.mu.Unlock()
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		defer func() {
			d.mu.Lock()
			delete(d.running, j.acct.Key)
			d.mu.Unlock()
		}()
		if j := d.jitter(j.period); j > 0 {
			t := time.NewTimer(j)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		select {
		case d.sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		defer func() { <-d.sem }()
		d.runOne(ctx, j)
	}()
}

func (d *daemon) jitter(period time.Duration) time.Duration {
	limit := d.o.jitter
	if period > 0 && period/4 < limit {
		limit = period / 4
	}
	if limit <= 0 {
		return 0
	}
	return rand.N(limit)
}

func (d *daemon) runOne(ctx context.Context, j scheduled) {
	d.m.running.Inc()
	defer d.m.running.Dec()
	full := d.o.full || d.fullDue(j)
	d.log.Info("collecting", "account", j.acct.Key, "full", full)
	res, err := collect.Run(ctx, d.a, j.acct, j.c, collect.RunOptions{
		Full: full, NoMedia: d.o.noMedia, Now: d.g.now, Lock: &d.writeMu,
	})
	if errors.Is(err, collect.ErrDeactivated) {
		return
	}
	d.m.record(res, err, d.g.now())
	if err != nil {
		d.log.Warn("collection failed", "account", j.acct.Key, "class", res.Class, "capture", res.Capture, "items", res.Items, "err", res.Error)
		return
	}
	d.log.Info("collected", "account", j.acct.Key, "capture", res.Capture, "items", res.Items,
		"new_versions", res.NewVersions, "removed", res.Removed, "complete", res.Complete, "took", res.Duration.Round(time.Millisecond))
}

func (d *daemon) handler(accounts int, app http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", app)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		d.mu.Lock()
		running := len(d.running)
		d.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"status": "ok", "scheduled": accounts, "running": running})
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(d.m.reg, promhttp.HandlerOpts{Registry: d.m.reg}))
	return mux
}
