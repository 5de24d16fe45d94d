package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/collect"
	"github.com/osmarc/osmarc/archive/stores"
)

// globalOptions are the flags every command shares, and the process's
// streams, so tests run commands in-process.
type globalOptions struct {
	dataDir string
	actor   string
	quiet   bool

	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	now    func() time.Time
	// registry lists the collectors and importers (tests pass fakes).
	registry *collect.Registry
	// closers close, after the command, what it opened for its whole run
	// (the search index a capturing command keeps up to date).
	closers []func() error
}

// exitError carries an exit code with a message already printed (or none).
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	g := &globalOptions{stdin: stdin, stdout: stdout, stderr: stderr, now: time.Now, registry: defaultRegistry()}
	root := newRootCommand(g)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintln(stderr, "osmarc: "+ee.msg)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "osmarc: "+oneLine(err.Error()))
	return 1
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func newRootCommand(g *globalOptions) *cobra.Command {
	root := &cobra.Command{
		Use:   "osmarc",
		Short: "Keep an organisation's official social media accounts as records",
		Long: `osmarc captures what official social media accounts post and receive into
content-addressed storage on the organisation's own disk or bucket, keeps it
unaltered for as long as its retention schedule says, finds it again for
open-records requests, and proves its integrity.`,
		SilenceUsage:      true,
		SilenceErrors:     true,
		Version:           archive.Version,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error { return g.resolve() },
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return fmt.Errorf("%s: %v (see osmarc %s --help)", cmd.CommandPath(), err, cmd.Name())
	})
	pf := root.PersistentFlags()
	pf.StringVar(&g.dataDir, "data", "", "data directory (default $OSMARC_DATA, else ./osmarc-data)")
	pf.StringVar(&g.actor, "actor", "", "who is acting, recorded in the journal (default $OSMARC_ACTOR, else user@host)")
	pf.BoolVarP(&g.quiet, "quiet", "q", false, "no progress output")
	root.AddCommand(
		newInitCommand(g),
		newIngestCommand(g),
		newListCommand(g),
		newShowCommand(g),
		newStatsCommand(g),
		newVerifyCommand(g),
		newRebuildCommand(g),
		newSearchCommand(g),
		newReindexCommand(g),
		newAccountCommand(g),
		newScheduleCommand(g),
		newHoldCommand(g),
		newDispositionCommand(g),
		newAuditCommand(g),
		newLockCommand(g),
		newRuleCommand(g),
		newClassifyCommand(g),
		newRequestCommand(g),
		newCollectCommand(g),
		newImportCommand(g),
		newJobsCommand(g),
		newCoverageCommand(g),
		newDaemonCommand(g),
		newExportCommand(g),
		newServeCommand(g),
		newUserCommand(g),
		newTokenCommand(g),
		newStoreCommand(g),
	)
	closeAfterRun(root, g)
	return root
}

// closeAfterRun makes every command close, when it returns, what it
// opened for its whole run (g.closers: the search index of a capturing
// command), whether it succeeded or not.
func closeAfterRun(c *cobra.Command, g *globalOptions) {
	if run := c.RunE; run != nil {
		c.RunE = func(cmd *cobra.Command, args []string) error {
			err := run(cmd, args)
			if cerr := g.closeAll(); cerr != nil && err == nil {
				err = fmt.Errorf("close the search index: %w", cerr)
			}
			return err
		}
	}
	for _, sub := range c.Commands() {
		closeAfterRun(sub, g)
	}
}

func (g *globalOptions) resolve() error {
	if g.dataDir == "" {
		g.dataDir = os.Getenv("OSMARC_DATA")
	}
	if g.dataDir == "" {
		g.dataDir = "osmarc-data"
	}
	abs, err := filepath.Abs(g.dataDir)
	if err != nil {
		return err
	}
	g.dataDir = abs
	return nil
}

func (g *globalOptions) options(command string, readOnly bool) archive.Options {
	return archive.Options{
		Dir:       g.dataDir,
		ReadOnly:  readOnly,
		Actor:     g.actor,
		Command:   command,
		Now:       g.now,
		OpenStore: stores.Open,
	}
}

// open opens the archive for a command; readers do not take the writer's
// lock but still fail at once while a writer holds it.
//
// A command that captures (ingest, collect, import, daemon) gets the search
// index installed, so its captures keep it up to date.
func (g *globalOptions) open(ctx context.Context, command string, readOnly bool) (*archive.Archive, error) {
	a, err := archive.Open(ctx, g.options(command, readOnly))
	if err != nil || readOnly || !capturing[command] {
		return a, err
	}
	if err := g.installIndexer(a); err != nil {
		a.Close()
		return nil, err
	}
	// A capture whose items the index may not hold (the process died, or
	// the index failed, after the capture was recorded) is indexed again
	// before anything else, so no search misses it.
	n, err := a.RepairIndex(ctx)
	if err != nil {
		g.closeAll()
		a.Close()
		return nil, fmt.Errorf("the search index lacks the items of earlier captures, and indexing them failed: %w (osmarc reindex rebuilds it)", err)
	}
	if n > 0 && !g.quiet {
		fmt.Fprintf(g.stderr, "Indexed again the items of %d capture(s) the search index did not hold.\n", n)
	}
	return a, nil
}

// interactive reports whether progress should be drawn.
func (g *globalOptions) interactive() bool {
	if g.quiet {
		return false
	}
	f, ok := g.stderr.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progress returns a bar on a terminal, or nil: what is being done, and
// the unit counted (lines, items).
func (g *globalOptions) progress(total int64, what, unit string) *progressbar.ProgressBar {
	if !g.interactive() {
		return nil
	}
	return progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(g.stderr),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString(unit),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
}
