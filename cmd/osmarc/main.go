// Command osmarc archives the official social media accounts of an
// organisation as records. See the README for the commands.
package main

import (
	"fmt"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"time"
)

// captureMemoryLimit is the Go heap's soft limit for ingest, import and
// collect. A capture's live heap is a few tens of MB whatever its size
// (batches; spools on disk); without a limit the collector lets the heap
// grow to twice what it last found live, and a large import's bleve
// merges push that up with the export's size. The soft limit makes it
// collect sooner instead, so the heap stays flat (make bench measures it
// at two sizes). GOMEMLIMIT overrides it.
const captureMemoryLimit = 128 << 20

// captureGCPercent is the collector's target for the same commands, below
// that limit: a capture allocates much and keeps little (items pass
// through to the store and the index), and collecting half as often as
// the default saved 6–10% of an import's CPU for under 10 MB more memory.
// GOGC overrides it.
const captureGCPercent = 200

func main() {
	if capturingCommand(os.Args[1:]) {
		if os.Getenv("GOMEMLIMIT") == "" {
			debug.SetMemoryLimit(captureMemoryLimit)
		}
		if os.Getenv("GOGC") == "" {
			debug.SetGCPercent(captureGCPercent)
		}
	}
	// OSMARC_MEMPROFILE=FILE writes a heap profile every few seconds
	// while the command runs (FILE.1, FILE.2, …), for the developers
	// looking for what holds memory at its peak.
	if p := os.Getenv("OSMARC_MEMPROFILE"); p != "" {
		go func() {
			for i := 1; ; i++ {
				time.Sleep(3 * time.Second)
				if f, err := os.Create(fmt.Sprintf("%s.%d", p, i)); err == nil {
					pprof.Lookup("heap").WriteTo(f, 0)
					f.Close()
				}
			}
		}()
	}
	os.Exit(profiled())
}

// profiled runs the command, with a CPU profile when OSMARC_CPUPROFILE
// names a file.
func profiled() int {
	// OSMARC_CPUPROFILE=FILE writes a CPU profile of the command, for
	// the developers measuring it (make bench reports the figures).
	if p := os.Getenv("OSMARC_CPUPROFILE"); p != "" {
		f, err := os.Create(p)
		if err != nil {
			fmt.Fprintln(os.Stderr, "osmarc: OSMARC_CPUPROFILE:", err)
			return 2
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "osmarc: OSMARC_CPUPROFILE:", err)
			return 2
		}
		code := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
		pprof.StopCPUProfile()
		f.Close()
		return code
	}
	return run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
}

// capturingCommand reports whether args run ingest, import or collect: the
// command is the first word that is no flag, or the second when a global
// flag's value comes first ("--data DIR import").
func capturingCommand(args []string) bool {
	words := 0
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			continue
		}
		switch a {
		case "ingest", "import", "collect":
			return true
		}
		if words++; words == 2 {
			return false
		}
	}
	return false
}
