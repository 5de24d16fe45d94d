// Command osmarc archives the official social media accounts of an
// organisation as records. See the README for the commands.
package main

import (
	"fmt"
	"os"
	"runtime/pprof"
)

func main() {
	// OSMARC_CPUPROFILE=FILE writes a CPU profile of the command, for
	// the developers measuring it (make bench reports the figures).
	if p := os.Getenv("OSMARC_CPUPROFILE"); p != "" {
		f, err := os.Create(p)
		if err != nil {
			fmt.Fprintln(os.Stderr, "osmarc: OSMARC_CPUPROFILE:", err)
			os.Exit(2)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "osmarc: OSMARC_CPUPROFILE:", err)
			os.Exit(2)
		}
		code := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
		pprof.StopCPUProfile()
		f.Close()
		os.Exit(code)
	}
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
