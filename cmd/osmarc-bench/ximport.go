package main

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/osmarc/osmarc/archive/collect/x"
)

// benchXImport imports a synthetic X account archive of n tweets (and a
// smaller one, to show memory is flat) with `osmarc import` as its own
// process, into the disk store.
func benchXImport(bin, work string, n, small int, seed uint64, env []string) (map[string]any, []row, error) {
	res := map[string]any{"x_import_tweets": n}
	run := func(count int) (runResult, int64, error) {
		dir := filepath.Join(work, fmt.Sprintf("x-archive-%d", count))
		size, err := x.WriteSyntheticArchive(dir, count, seed)
		if err != nil {
			return runResult{}, 0, err
		}
		data := filepath.Join(work, fmt.Sprintf("x-data-%d", count))
		initCmd := exec.Command(bin, "init", "--data", data)
		initCmd.Env = env
		if out, err := initCmd.CombinedOutput(); err != nil {
			return runResult{}, 0, fmt.Errorf("init: %v: %s", err, out)
		}
		r, err := timeProcess(env, bin, "import", "--quiet", "--data", data, "--format", "x-archive", "--account", "SyntheticDept", dir)
		return r, size, err
	}
	logf("x-archive import: %d tweets", n)
	big, size, err := run(n)
	if err != nil {
		return nil, nil, err
	}
	logf("x-archive import: %d tweets (memory at a smaller size)", small)
	sm, _, err := run(small)
	if err != nil {
		return nil, nil, err
	}
	perS := float64(n) / big.wall.Seconds()
	res["x_import_items_per_s"] = round(perS)
	res["x_import_mb_per_s"] = round(float64(size) / 1e6 / big.wall.Seconds())
	res["x_import_peak_rss_mb"] = round(big.rssMB)
	res["x_import_peak_anon_mb"] = round(big.anonMB)
	res["x_import_peak_anon_mb_small"] = round(sm.anonMB)
	verdict := "MISSES target"
	if perS >= 5000 && big.rssMB <= 300 && big.anonMB <= 1.25*sm.anonMB+10 {
		verdict = "meets target"
	}
	return res, []row{{fmt.Sprintf("import X archive, %dk tweets → disk", n/1000),
		fmt.Sprintf("%.0f items/s; RSS %.0f MB, heap %.0f MB", perS, big.rssMB, big.anonMB),
		fmt.Sprintf("heap %.0f MB at %dk; target ≥ 5,000/s, ≤ 300 MB, flat", sm.anonMB, small/1000), verdict}}, nil
}

// timeProcess runs bin with args as its own process and measures its wall
// time, peak RSS and peak anonymous memory.
func timeProcess(env []string, bin string, args ...string) (runResult, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var errb bytes.Buffer
	cmd.Stderr = &errb
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return runResult{}, err
	}
	done := make(chan struct{})
	anon := sampleAnon(cmd.Process.Pid, done)
	err := cmd.Wait()
	wall := time.Since(start)
	close(done)
	if err != nil {
		return runResult{}, fmt.Errorf("%s: %v: %s", args[0], err, errb.String())
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return runResult{wall: wall, rssMB: float64(ru.Maxrss) / 1024, anonMB: <-anon}, nil
}
