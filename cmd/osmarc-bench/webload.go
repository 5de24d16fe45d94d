package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/osmarc/osmarc/archive"
)

// The web benchmark (-web): the search API of `osmarc serve` under load.
// The server is its own process (osmarc serve on 127.0.0.1); this process
// is the clients: webClients goroutines, each with its own keep-alive
// connection, send GET /api/v1/search with an API token for webDuration,
// cycling through the search benchmark's open-records queries (page of 20
// with facet counts, as the search page asks). Every search is a
// search.run journal event written by the server, as in production.
// Reported: requests/s, p50 and p99 latency, errors.

// webQueries are the search benchmark's queries as URL parameters.
func webQueries() []url.Values {
	return []url.Values{
		{"q": {rareWord}},
		{"q": {"+parade +brigade"}},
		{"q": {`"road closure"`}},
		{"q": {"parade"}, "account": {"3rd-brigade"}, "from": {"2024-01"}, "to": {"2024-03"}},
		{"q": {"parade"}, "sort": {"newest"}},
	}
}

// benchWeb serves the archive in data (indexed; made from a corpus of n
// items when it does not exist) and loads its search API.
func benchWeb(ctx context.Context, work, bin, data string, n, clients int, dur time.Duration, seed uint64) (map[string]any, []row, error) {
	res := map[string]any{"web_items": n, "web_clients": clients, "web_seconds": dur.Seconds()}
	env := append(os.Environ(), "OSMARC_ACTOR=bench@localhost")
	osm := func(stdin string, args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, bin, append(args, "--quiet", "--data", data)...)
		cmd.Env = env
		cmd.Stdin = strings.NewReader(stdin)
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("osmarc %s: %v: %s", strings.Join(args, " "), err, errb.String())
		}
		return out.String(), nil
	}
	if _, err := archive.ReadConfig(data); err != nil {
		corpus := filepath.Join(work, fmt.Sprintf("web-%d.jsonl", n))
		logf("web: generating %d items", n)
		if err := searchCorpus(corpus, n, seed); err != nil {
			return nil, nil, err
		}
		if _, err := osm("", "init"); err != nil {
			return nil, nil, err
		}
		logf("web: osmarc ingest and reindex %d items", n)
		if _, err := osm("", "ingest", corpus); err != nil {
			return nil, nil, err
		}
		if _, err := osm("", "reindex"); err != nil {
			return nil, nil, err
		}
		os.Remove(corpus)
	} else {
		logf("web: serving the search benchmark's archive of %d items", n)
	}
	if _, err := osm("the bench's long password\n", "user", "add", "bench-web", "--role", "records-officer"); err != nil && !strings.Contains(err.Error(), "already exists") {
		return nil, nil, err
	}
	tok, err := osm("", "token", "create", "--user", "bench-web", "--note", "osmarc-bench -web")
	if err != nil {
		return nil, nil, err
	}
	tok = strings.TrimSpace(tok)

	// The server: its own process, on a free loopback port.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	srv := exec.Command(bin, "serve", "--listen", addr, "--quiet", "--data", data)
	srv.Env = env
	stdout, _ := srv.StdoutPipe()
	srvLog, _ := os.Create(filepath.Join(work, "serve.log"))
	defer srvLog.Close()
	srv.Stderr = srvLog
	if err := srv.Start(); err != nil {
		return nil, nil, err
	}
	defer func() {
		srv.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { srv.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			srv.Process.Kill()
			<-done
		}
	}()
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "serving") {
				ready <- nil
				io.Copy(io.Discard, stdout)
				return
			}
		}
		ready <- fmt.Errorf("osmarc serve stopped before serving (see %s)", srvLog.Name())
	}()
	select {
	case err := <-ready:
		if err != nil {
			return nil, nil, err
		}
	case <-time.After(5 * time.Minute):
		return nil, nil, fmt.Errorf("osmarc serve did not start within 5 minutes")
	}
	base := "http://" + addr + "/api/v1/search?"
	qs := webQueries()
	get := func(c *http.Client, q url.Values) error {
		q = cloneValues(q)
		q.Set("limit", "20")
		req, _ := http.NewRequestWithContext(ctx, "GET", base+q.Encode(), nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err == nil && resp.StatusCode != 200 {
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		return err
	}
	// Warm up: each query once.
	warm := &http.Client{Timeout: time.Minute}
	for _, q := range qs {
		if err := get(warm, q); err != nil {
			return nil, nil, fmt.Errorf("web: warm-up: %w", err)
		}
	}
	logf("web: %d clients for %s", clients, dur)
	var mu sync.Mutex
	var all []float64
	errs := 0
	var firstErr error
	var wg sync.WaitGroup
	deadline := time.Now().Add(dur)
	cpu0, cpuErr := procCPU(srv.Process.Pid)
	began := time.Now()
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			var ds []float64
			bad := 0
			var be error
			for j := i; time.Now().Before(deadline); j++ {
				start := time.Now()
				if err := get(c, qs[j%len(qs)]); err != nil {
					bad++
					if be == nil {
						be = err
					}
					continue
				}
				ds = append(ds, float64(time.Since(start).Microseconds())/1000)
			}
			mu.Lock()
			all = append(all, ds...)
			errs += bad
			if firstErr == nil {
				firstErr = be
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	took := time.Since(began)
	cpu1, cpuErr1 := procCPU(srv.Process.Pid)
	if len(all) == 0 {
		return nil, nil, fmt.Errorf("web: no request succeeded: %v", firstErr)
	}
	sort.Float64s(all)
	p50, p99 := all[len(all)/2], all[min(len(all)-1, len(all)*99/100)]
	rps := round(float64(len(all)) / took.Seconds())
	res["web_requests"], res["web_errors"], res["web_requests_per_s"], res["web_p50_ms"], res["web_p99_ms"] = len(all), errs, rps, p50, p99
	note := ""
	if cpuErr == nil && cpuErr1 == nil {
		// The server's CPU time under load: steadier than wall time on a
		// shared machine.
		cpu := (cpu1 - cpu0).Seconds()
		res["web_server_cpu_s"], res["web_server_cpu_ms_per_request"] = round(cpu), round(1000*cpu/float64(len(all)))
		note += fmt.Sprintf("; server CPU %.1f s, %.1f ms per request", cpu, 1000*cpu/float64(len(all)))
	}
	if errs > 0 {
		note = fmt.Sprintf("; %d errors (first: %v)", errs, firstErr)
	}
	rows := []row{{
		fmt.Sprintf("search API, %d clients × %s, %dk items", clients, dur, n/1000),
		fmt.Sprintf("%.0f req/s, p50 %.1f ms, p99 %.1f ms", rps, p50, p99),
		"each search journaled; target p99 ≤ 100 ms" + note,
		verdictOf(p99 <= 100 && errs == 0),
	}}
	return res, rows, nil
}

// procCPU is a process's CPU time so far (user and system), from Linux's
// /proc/PID/stat.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The fields after the command name (which may hold spaces and
	// parentheses): state is the first, utime the 12th and stime the
	// 13th, in clock ticks.
	i := strings.LastIndex(string(b), ") ")
	if i < 0 {
		return 0, fmt.Errorf("%d: unexpected /proc stat", pid)
	}
	f := strings.Fields(string(b[i+2:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("%d: unexpected /proc stat", pid)
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, err
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / 100, nil // USER_HZ is 100 on Linux
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
