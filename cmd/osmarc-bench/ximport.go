package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/osmarc/osmarc/archive/collect/x"
	"golang.org/x/sys/unix"
)

// benchXImport imports a synthetic X account archive of n tweets (and a
// smaller one, to show memory is flat) with `osmarc import` as its own
// process, into the disk store, the live search index included. Peak RSS
// is the process's own (see timeProcess); it is reported split into the
// heap (anonymous memory) and the pages of mapped files (the bbolt
// catalog and the index's segments), which grow with the archive, not
// with the import.
//
// The verdict judges the whole peak RSS, file-backed pages included, as
// the target says "peak memory". Those pages are clean page cache
// mapped by bbolt and bleve: the kernel can drop them under pressure
// without swapping, and they grow with the archive (about 0.9 KB of
// catalog and 0.8 KB of index per item), so an archive large enough
// will exceed 300 MB of them whatever the import does; the heap is what
// the import itself holds, and it must stay flat.
//
// filesPerS is the same run's plain-files limit, shown beside the
// import's speed. Both follow the file system's recent past (files
// deleted in the minutes before slow them several times, not always
// alike), so the share compares runs on a quiet file system only.
func benchXImport(bin, work string, n, small int, seed uint64, env []string, filesPerS float64) (map[string]any, []row, error) {
	res := map[string]any{"x_import_tweets": n}
	run := func(count int, vocab x.Vocabulary) (runResult, int64, error) {
		dir := filepath.Join(work, fmt.Sprintf("x-archive-%d-%d", count, vocab))
		size, err := x.WriteSyntheticArchiveWith(dir, count, seed, vocab)
		if err != nil {
			return runResult{}, 0, err
		}
		data := filepath.Join(work, fmt.Sprintf("x-data-%d-%d", count, vocab))
		initCmd := exec.Command(bin, "init", "--data", data)
		initCmd.Env = env
		if out, err := initCmd.CombinedOutput(); err != nil {
			return runResult{}, 0, fmt.Errorf("init: %v: %s", err, out)
		}
		r, err := timeProcess(env, bin, "import", "--quiet", "--data", data, "--format", "x-archive", "--account", "SyntheticDept", dir)
		return r, size, err
	}
	logf("x-archive import: %d tweets", n)
	big, size, err := run(n, x.SmallVocabulary)
	if err != nil {
		return nil, nil, err
	}
	logf("x-archive import: %d tweets (memory at a smaller size)", small)
	sm, _, err := run(small, x.SmallVocabulary)
	if err != nil {
		return nil, nil, err
	}
	// The same archive worded as real text is (x.ZipfVocabulary): the
	// small vocabulary's words and pairs of words all recur, so it
	// indexes about twice as fast as real text would.
	logf("x-archive import: %d tweets, Zipf vocabulary", n)
	zipf, _, err := run(n, x.ZipfVocabulary)
	if err != nil {
		return nil, nil, err
	}
	perS := float64(n) / big.wall.Seconds()
	res["x_import_items_per_s"] = round(perS)
	res["x_import_mb_per_s"] = round(float64(size) / 1e6 / big.wall.Seconds())
	res["x_import_peak_rss_mb"] = round(big.rssMB)
	res["x_import_peak_anon_mb"] = round(big.anonMB)
	res["x_import_peak_file_mb"] = round(big.fileMB)
	res["x_import_peak_rss_mb_small"] = round(sm.rssMB)
	res["x_import_peak_anon_mb_small"] = round(sm.anonMB)
	res["x_import_peak_file_mb_small"] = round(sm.fileMB)
	res["x_import_items_per_s_small"] = round(float64(small) / sm.wall.Seconds())
	// The CPU the import used (user and system): what a change to the
	// code changes, where the wall time also follows the machine's load.
	res["x_import_cpu_s"] = round(big.cpu.Seconds())
	res["x_import_sys_s"] = round(big.sys.Seconds())
	share := ""
	if filesPerS > 0 {
		res["x_import_pct_of_files_limit"] = round(100 * perS / filesPerS)
		share = fmt.Sprintf("%.0f%% of the plain-files limit; ", 100*perS/filesPerS)
	}
	zperS := float64(n) / zipf.wall.Seconds()
	res["x_import_zipf_items_per_s"] = round(zperS)
	res["x_import_zipf_cpu_s"] = round(zipf.cpu.Seconds())
	res["x_import_zipf_sys_s"] = round(zipf.sys.Seconds())
	res["x_import_zipf_peak_rss_mb"] = round(zipf.rssMB)
	res["x_import_zipf_peak_anon_mb"] = round(zipf.anonMB)
	res["x_import_zipf_peak_file_mb"] = round(zipf.fileMB)
	verdict := func(ok bool) string {
		if ok {
			return "meets target"
		}
		return "MISSES target"
	}
	return res, []row{{fmt.Sprintf("import X archive, %dk tweets → disk", n/1000),
		fmt.Sprintf("%.0f items/s (%s%.0f s of CPU, %.0f of it system); peak RSS %.0f MB (heap %.0f, mapped files %.0f)", perS, share, big.cpu.Seconds(), big.sys.Seconds(), big.rssMB, big.anonMB, big.fileMB),
		fmt.Sprintf("at %dk: %.0f items/s, RSS %.0f MB (heap %.0f, files %.0f); target ≥ 5,000/s, ≤ 300 MB, heap flat",
			small/1000, float64(small)/sm.wall.Seconds(), sm.rssMB, sm.anonMB, sm.fileMB),
		verdict(perS >= 5000 && big.rssMB <= 300 && big.anonMB <= 1.25*sm.anonMB+10)},
		{"the same, worded as real text (Zipf, 50,000 words)",
			fmt.Sprintf("%.0f items/s (%.0f s of CPU, %.0f of it system); peak RSS %.0f MB (heap %.0f, mapped files %.0f)", zperS, zipf.cpu.Seconds(), zipf.sys.Seconds(), zipf.rssMB, zipf.anonMB, zipf.fileMB),
			"most word pairs occur once, as in real text; target ≥ 5,000/s, ≤ 300 MB",
			verdict(zperS >= 5000 && zipf.rssMB <= 300)}}, nil
}

// measureArg, as osmarc-bench's first argument, makes it the measuring
// parent of one command (measureChild).
const measureArg = "-measure-child"

// timeProcess runs bin with args as its own process and measures its wall
// time and peak memory: the exact peak RSS from the rusage of that process
// alone, and the peak anonymous (heap, stacks) and file-backed (the
// catalog's mmap) resident memory, sampled.
//
// The command is started by a fresh osmarc-bench process (measureChild),
// not by this one: Go starts commands with clone(CLONE_VM|CLONE_VFORK), so
// at exec the kernel folds the parent's own peak RSS into the child's
// ru_maxrss, and this process may have held gigabytes (the disposition
// benchmark runs in it) before it started the import.
//
// It first writes out every file system's dirty data (sync(2)): the
// corpus or export just generated, and what earlier benchmarks wrote,
// would otherwise be written back during the measured command, and its
// own syncfs at commit would wait for all of it.
func timeProcess(env []string, bin string, args ...string) (runResult, error) {
	unix.Sync()
	self, err := os.Executable()
	if err != nil {
		return runResult{}, err
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return runResult{}, err
	}
	defer pr.Close()
	cmd := exec.Command(self, append([]string{measureArg, bin}, args...)...)
	cmd.Env = env
	var errb bytes.Buffer
	cmd.Stderr = &errb
	cmd.ExtraFiles = []*os.File{pw}
	err = cmd.Start()
	pw.Close()
	if err != nil {
		return runResult{}, err
	}
	rep := bufio.NewScanner(pr)
	var pid int
	if rep.Scan() {
		pid, _ = strconv.Atoi(rep.Text())
	}
	done := make(chan struct{})
	peaks := sampleMem(pid, done)
	var maxrssKB, wallNS, cpuNS, sysNS int64
	if rep.Scan() {
		fmt.Sscanf(rep.Text(), "%d %d %d %d", &maxrssKB, &wallNS, &cpuNS, &sysNS)
	}
	close(done)
	p := <-peaks
	if err := cmd.Wait(); err != nil {
		return runResult{}, fmt.Errorf("%s: %v: %s", args[0], err, errb.String())
	}
	if pid == 0 || wallNS == 0 {
		return runResult{}, fmt.Errorf("%s: the measuring process reported nothing: %s", args[0], errb.String())
	}
	return runResult{wall: time.Duration(wallNS), cpu: time.Duration(cpuNS), sys: time.Duration(sysNS), rssMB: float64(maxrssKB) / 1024, anonMB: p.anon, fileMB: p.file}, nil
}

// measureChild runs args (a command and its arguments) and reports on
// file descriptor 3 its pid, then its peak RSS in KiB, its wall time and
// its CPU time (user and system) and its system time in nanoseconds.
// This process is small and new, so the child's rusage is its own. It returns the child's exit status.
func measureChild(args []string) int {
	rep := os.NewFile(3, "report")
	if len(args) == 0 || rep == nil {
		fmt.Fprintln(os.Stderr, "osmarc-bench: "+measureArg+" wants a command and a report pipe")
		return 2
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "osmarc-bench:", err)
		return 127
	}
	fmt.Fprintf(rep, "%d\n", cmd.Process.Pid)
	err := cmd.Wait()
	wall := time.Since(start)
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	fmt.Fprintf(rep, "%d %d %d %d\n", ru.Maxrss, wall.Nanoseconds(), ru.Utime.Nano()+ru.Stime.Nano(), ru.Stime.Nano())
	rep.Close()
	if err != nil {
		if code := cmd.ProcessState.ExitCode(); code > 0 {
			return code
		}
		return 1
	}
	return 0
}

type memPeaks struct{ anon, file float64 }

// sampleMem polls a process's RssAnon and RssFile (MiB) every 20 ms until
// done is closed, and sends their peaks.
func sampleMem(pid int, done <-chan struct{}) <-chan memPeaks {
	out := make(chan memPeaks, 1)
	go func() {
		var p memPeaks
		path := fmt.Sprintf("/proc/%d/status", pid)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			if b, err := os.ReadFile(path); err == nil && pid > 0 {
				for l := range strings.Lines(string(b)) {
					var kb float64
					if n, _ := fmt.Sscanf(l, "RssAnon: %f kB", &kb); n == 1 {
						p.anon = max(p.anon, kb/1024)
					} else if n, _ := fmt.Sscanf(l, "RssFile: %f kB", &kb); n == 1 {
						p.file = max(p.file, kb/1024)
					}
				}
			}
			select {
			case <-done:
				out <- p
				return
			case <-t.C:
			}
		}
	}()
	return out
}
