package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/osmarc/osmarc/archive/s3store/s3test"
)

// binary is osmarc built once for the tests that need real processes.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "osmarc-bin-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "osmarc")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build osmarc: %v\n%s", err, out)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
	took           time.Duration
}

func runBinary(t *testing.T, stdin []byte, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String(), took: time.Since(start)}
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("osmarc %v: %v", args, err)
		}
		r.code = ee.ExitCode()
	}
	return r
}

func TestSecondProcessFailsFast(t *testing.T) {
	dir := newArchive(t)
	// The first process holds the archive while it waits on its input.
	holder := exec.Command(binary, "ingest", "--data", dir, "-")
	stdin, _ := holder.StdinPipe()
	var holderOut bytes.Buffer
	holder.Stdout, holder.Stderr = &holderOut, &holderOut
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	defer holder.Process.Kill()
	// Wait until it holds the lock (it writes its pid into the lock file).
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(filepath.Join(dir, "lock"))
		if strings.Contains(string(b), fmt.Sprintf(`"pid":%d`, holder.Process.Pid)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("first process never took the lock: %s", holderOut.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, args := range [][]string{
		{"ingest", "--data", dir, "../../testdata/items.jsonl"},
		{"list", "--data", dir},
		{"rebuild", "--data", dir},
	} {
		r := runBinary(t, nil, args...)
		if r.code == 0 {
			t.Fatalf("%v succeeded while another process held the archive", args)
		}
		if r.took > time.Second {
			t.Errorf("%v took %v to fail, want under a second", args, r.took)
		}
		want := fmt.Sprintf("data directory in use: %s is held by process %d (ingest)", dir, holder.Process.Pid)
		if !strings.Contains(r.stderr, want) {
			t.Errorf("%v: stderr %q, want %q", args, r.stderr, want)
		}
	}
	stdin.Write([]byte(`{"platform":"x","account":"a","id":"1","kind":"post","created_at":"2024-01-01T00:00:00Z","text":"held"}` + "\n"))
	stdin.Close()
	if err := holder.Wait(); err != nil {
		t.Fatalf("first process: %v\n%s", err, holderOut.String())
	}
	if r := runBinary(t, nil, "list", "--json", "--data", dir); r.code != 0 || strings.Count(r.stdout, "\n") != 1 {
		t.Fatalf("after the first process ended: %+v", r)
	}
}

// crashes is how many times each store's ingest is killed.
const crashes = 20

func TestCrashSafetyDisk(t *testing.T) {
	crashTest(t, func(i int) []string { return nil })
}

func TestCrashSafetyS3(t *testing.T) {
	srv := s3test.Start(t)
	if err := srv.NewBucket(context.Background(), "crash"); err != nil {
		t.Fatal(err)
	}
	crashTest(t, func(i int) []string {
		return []string{"--store", srv.URL("crash", fmt.Sprintf("run-%02d", i))}
	})
}

// crashTest kills `osmarc ingest` with SIGKILL at moments spread over a
// whole run, then checks each time that the archive opens, verify reports
// no damage, and rerunning the same ingest ends with exactly the input's
// items.
func crashTest(t *testing.T, storeArgs func(i int) []string) {
	const items = 4000
	input := corpusFile(t, items)
	base := t.TempDir()
	// Each archive gets its own directory and store prefix, retries too.
	archives := 0
	initArchive := func() string {
		i := archives
		archives++
		dir := filepath.Join(base, fmt.Sprintf("data-%02d", i))
		args := append([]string{"init", "--data", dir}, storeArgs(i)...)
		if r := runBinary(t, nil, args...); r.code != 0 {
			t.Fatalf("init: %s", r.stderr)
		}
		return dir
	}
	// Calibrate: how long a whole run takes on this store (the faster of
	// two, so that the kills land inside a run rather than after it).
	full := time.Duration(1 << 62)
	for range 2 {
		dir := initArchive()
		r := runBinary(t, nil, "ingest", "--quiet", "--data", dir, input)
		if r.code != 0 {
			t.Fatalf("ingest: %s", r.stderr)
		}
		full = min(full, r.took)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	killedEarly := 0
	for i := range crashes {
		var dir string
		var delay time.Duration
		// A run that ends before its kill tested nothing: the machine got
		// faster than the calibration said (a busy machine's runs vary
		// several-fold), so learn from it and try again, sooner.
		for attempt := 0; ; attempt++ {
			dir = initArchive()
			// Spread the kills over the whole run, start-up included, and
			// keep them inside it.
			delay = time.Duration(0.9 * float64(full) * (float64(i) + rng.Float64()) / crashes)
			cmd := exec.Command(binary, "ingest", "--quiet", "--data", dir, input)
			var errb bytes.Buffer
			cmd.Stderr = &errb
			start := time.Now()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(delay)
			cmd.Process.Signal(syscall.SIGKILL)
			err := cmd.Wait()
			if err != nil {
				killedEarly++
				break
			}
			if attempt == 2 {
				break
			}
			full = min(full, time.Since(start))
		}

		v := runBinary(t, nil, "verify", "--json", "--data", dir)
		var rep struct {
			OK       bool `json:"ok"`
			Problems []any
		}
		if err := json.Unmarshal([]byte(v.stdout), &rep); err != nil || v.code != 0 || !rep.OK {
			t.Fatalf("kill %d after %v: verify exit %d: %s %s", i, delay, v.code, v.stdout, v.stderr)
		}
		// A search shows no item the archive did not record: what the
		// killed capture staged in the index stays hidden.
		var st struct{ Items, Versions int }
		json.Unmarshal([]byte(runBinary(t, nil, "stats", "--json", "--data", dir).stdout), &st)
		if n, ok := searchTotal(t, dir); ok && n > st.Items {
			t.Fatalf("kill %d after %v: a search finds %d items, the catalog holds %d", i, delay, n, st.Items)
		}
		again := runBinary(t, nil, "ingest", "--quiet", "--data", dir, input)
		if again.code != 0 {
			t.Fatalf("kill %d: rerun: %s", i, again.stderr)
		}
		l := runBinary(t, nil, "list", "--json", "--data", dir)
		if n := strings.Count(l.stdout, "\n"); n != items {
			t.Fatalf("kill %d after %v: %d items after the rerun, want %d", i, delay, n, items)
		}
		json.Unmarshal([]byte(runBinary(t, nil, "stats", "--json", "--data", dir).stdout), &st)
		if st.Items != items || st.Versions != items {
			t.Fatalf("kill %d: stats %+v", i, st)
		}
		if n, ok := searchTotal(t, dir); !ok || n != items {
			t.Fatalf("kill %d: after the rerun a search finds %d items, want %d", i, n, items)
		}
		if v := runBinary(t, nil, "verify", "--deep", "--data", dir); v.code != 0 {
			t.Fatalf("kill %d: deep verify after the rerun: %s", i, v.stdout)
		}
	}
	t.Logf("a whole run took %v; %d of %d runs were killed before they finished", full, killedEarly, crashes)
	if killedEarly < crashes/2 {
		t.Fatalf("only %d of %d runs were killed mid-way: the kills did not test anything", killedEarly, crashes)
	}
}

// searchTotal is how many items a search of everything finds, if the
// archive has a search index.
func searchTotal(t *testing.T, dir string) (int, bool) {
	t.Helper()
	r := runBinary(t, nil, "search", "--json", "--data", dir)
	if r.code != 0 {
		if !strings.Contains(r.stderr, "no search index") {
			t.Fatalf("search: exit %d: %s", r.code, r.stderr)
		}
		return 0, false
	}
	var res struct{ Total int }
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("search: %v: %s", err, r.stdout)
	}
	return res.Total, true
}

func TestS3StoreURLErrors(t *testing.T) {
	srv := s3test.Start(t)
	if err := srv.NewBucket(context.Background(), "records"); err != nil {
		t.Fatal(err)
	}
	data := func() string { return filepath.Join(t.TempDir(), "d") }
	// A good URL works end to end, and rebuild agrees with it.
	dir := data()
	if r := runBinary(t, nil, "init", "--data", dir, "--store", srv.URL("records", "osmarc")); r.code != 0 || !strings.Contains(r.stdout, "Created archive") {
		t.Fatalf("init on S3: %+v", r)
	}
	if r := runBinary(t, nil, "ingest", "--data", dir, "../../testdata/items.jsonl"); r.code != 0 {
		t.Fatalf("ingest on S3: %s", r.stderr)
	}
	if r := runBinary(t, nil, "verify", "--deep", "--data", dir); r.code != 0 {
		t.Fatalf("verify on S3: %s", r.stdout)
	}
	// A second data directory attaches to the same bucket prefix.
	second := data()
	if r := runBinary(t, nil, "init", "--data", second, "--store", srv.URL("records", "osmarc")); r.code != 0 || !strings.Contains(r.stdout, "Attached") {
		t.Fatalf("attach on S3: %+v", r)
	}
	if r := runBinary(t, nil, "list", "--json", "--data", second); strings.Count(r.stdout, "\n") != 8 {
		t.Fatalf("second data directory lists %q", r.stdout)
	}

	for _, tc := range []struct {
		name string
		url  string
		env  []string
		want string
	}{
		{"unreachable", "s3://records/x?endpoint=http://127.0.0.1:1&region=us-east-1", nil, "unreachable"},
		{"wrong secret", srv.URL("records", "x"), []string{"AWS_SECRET_ACCESS_KEY=wrong"}, "refused"},
		{"missing bucket", srv.URL("no-such-bucket", "x"), nil, `bucket "no-such-bucket" does not exist`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(binary, "init", "--data", data(), "--store", tc.url)
			cmd.Env = append(os.Environ(), tc.env...)
			var errb bytes.Buffer
			cmd.Stderr = &errb
			err := cmd.Run()
			msg := strings.TrimSpace(errb.String())
			if err == nil || strings.Contains(msg, "\n") || !strings.Contains(msg, tc.want) {
				t.Fatalf("err %v, stderr %q: want one line with %q", err, msg, tc.want)
			}
			if strings.Contains(msg, srv.Secret) {
				t.Fatalf("the secret leaked: %q", msg)
			}
		})
	}
}
