package main

import (
	"archive/zip"
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/collect"
)

type importOptions struct {
	format  string
	account string
	json    bool
}

func newImportCommand(g *globalOptions) *cobra.Command {
	var o importOptions
	cmd := &cobra.Command{
		Use:   "import --format F --account A PATH... [--json]",
		Short: "Import account exports or saved API responses",
		Long: `import reads an account's export (as the .zip the platform gave, or the
folder it unpacks to) or files of saved API responses, streaming, and records
them as one capture by "import:FORMAT". --account names the account as
account list shows it (key or handle); an account not yet registered is
registered, on the format's platform.

A file that does not look like --format says what it looks like instead. A
malformed record is reported with its file and line; everything good is kept,
the capture is incomplete, and the exit status is 1. Importing the same export
twice adds nothing.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runImport(cmd.Context(), g, o, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.format, "format", "", "the export or response format (required)")
	f.StringVar(&o.account, "account", "", "the account the export belongs to (required)")
	f.BoolVar(&o.json, "json", false, "print the result as JSON")
	return cmd
}

func runImport(ctx context.Context, g *globalOptions, o importOptions, paths []string) error {
	if o.format == "" || o.account == "" {
		return fmt.Errorf("import: --format and --account are required (formats: %s)", orNone(g.registry.Formats()))
	}
	imp, ok := g.registry.Importer(o.format)
	if !ok {
		return fmt.Errorf("import: unknown format %q (known: %s)", o.format, orNone(g.registry.Formats()))
	}
	srcs, closeAll, err := openSources(paths)
	if err != nil {
		return err
	}
	defer closeAll()
	for _, src := range srcs {
		if looksLikeItems(src) {
			return fmt.Errorf("import: %s does not look like %s; it looks like osmarc's own items, one JSON object a line (use osmarc ingest %s)", src.Name, imp.Format(), src.Name)
		}
		if imp.Sniff(src) {
			continue
		}
		others := slices.DeleteFunc(g.registry.Sniff(src), func(f string) bool { return f == imp.Format() })
		if len(others) == 0 {
			return fmt.Errorf("import: %s does not look like %s, nor like any format osmarc imports (%s)", src.Name, imp.Format(), orNone(g.registry.Formats()))
		}
		return fmt.Errorf("import: %s does not look like %s; it looks like %s (try --format %s)", src.Name, imp.Format(), strings.Join(others, " or "), others[0])
	}

	a, err := g.open(ctx, "import", false)
	if err != nil {
		return err
	}
	defer a.Close()
	acct, registered, err := importAccount(ctx, a, o.account, imp)
	if err != nil {
		return err
	}
	if registered && !o.json {
		fmt.Fprintf(g.stdout, "Registered new account %s (platform %s, from format %s); see osmarc account list.\n", acct.Key, acct.Platform, imp.Format())
	}
	progress, finish := itemProgress(g, "import "+acct.Key)
	res, err := collect.RunImport(ctx, a, acct, imp, srcs, collect.RunOptions{
		Now: g.now, Progress: progress,
		OnError: func(e *archive.InputError) { fmt.Fprintln(g.stderr, "osmarc: "+oneLine(collect.Scrub(e.Error()))) },
	})
	finish()
	if o.json {
		out := struct {
			collect.RunResult
			Registered bool `json:"registered,omitempty"`
		}{res, registered}
		enc := json.NewEncoder(g.stdout)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else if res.Capture == "" && err == nil {
		fmt.Fprintln(g.stdout, "Nothing to import: the input holds no record.")
	} else if res.Capture != "" {
		what := "incomplete"
		if res.Complete {
			what = "a complete listing"
		}
		fmt.Fprintf(g.stdout, "Capture %s (%s): %d items, %d new versions, %d removed, %d bad record(s); %s.\n",
			res.Capture, res.Collector, res.Items, res.NewVersions, res.Removed, res.Errors, what)
	}
	if err != nil {
		if res.Capture != "" {
			return &exitError{code: 1, msg: oneLine(err.Error()) + fmt.Sprintf(" (the %d good item(s) were kept)", res.Items)}
		}
		return &exitError{code: 1, msg: oneLine(err.Error())}
	}
	return nil
}

// importAccount finds the account an import is for, or registers it on
// the importer's platform.
func importAccount(ctx context.Context, a *archive.Archive, ref string, imp collect.Importer) (archive.Account, bool, error) {
	acct, err := a.Account(ref)
	if err == nil {
		if !strings.EqualFold(acct.Platform, imp.Platform()) {
			return acct, false, fmt.Errorf("import: account %s is on %s, but %s holds %s items", acct.Key, acct.Platform, imp.Format(), imp.Platform())
		}
		return acct, false, nil
	}
	if !errors.Is(err, archive.ErrUnknownAccount) {
		return acct, false, fmt.Errorf("import: %w", err)
	}
	handle := ref
	if p, h, ok := strings.Cut(ref, "/"); ok {
		if !strings.EqualFold(p, imp.Platform()) {
			return acct, false, fmt.Errorf("import: account %s is not registered, and %s holds %s items, not %s", ref, imp.Format(), imp.Platform(), p)
		}
		handle = h
	}
	acct, err = a.AddAccount(ctx, archive.Account{Platform: imp.Platform(), Handle: handle, RegisteredBy: "import:" + imp.Format()})
	if err != nil {
		return acct, false, fmt.Errorf("import: register %s: %w", ref, err)
	}
	return acct, true, nil
}

// looksLikeItems says whether src is a file of osmarc's own normalised
// items (what osmarc ingest reads): its first line a JSON object with a
// platform, an account, an id and a kind or creation time.
func looksLikeItems(src collect.Source) bool {
	if src.Path == "." || src.Path == "" {
		return false
	}
	f, err := src.FS.Open(src.Path)
	if err != nil {
		return false
	}
	defer f.Close()
	line, err := bufio.NewReaderSize(f, 64<<10).ReadSlice('\n')
	if err != nil && err != io.EOF {
		return false
	}
	var it map[string]json.RawMessage
	if json.Unmarshal(line, &it) != nil {
		return false
	}
	has := func(k string) bool { _, ok := it[k]; return ok }
	return has("platform") && has("account") && has("id") && (has("kind") || has("created_at"))
}

// openSources opens each path as an import source: a folder as os.DirFS,
// a zip as its file system, a file as itself within its folder.
func openSources(paths []string) ([]collect.Source, func(), error) {
	var closers []io.Closer
	closeAll := func() {
		for _, c := range closers {
			c.Close()
		}
	}
	var srcs []collect.Source
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			closeAll()
			return nil, nil, fmt.Errorf("import: %w", err)
		}
		switch {
		case fi.IsDir():
			srcs = append(srcs, collect.Source{Name: p, FS: os.DirFS(p), Path: "."})
		case isZip(p):
			zr, err := zip.OpenReader(p)
			if err != nil {
				closeAll()
				return nil, nil, fmt.Errorf("import: %s: not a readable zip: %w", p, err)
			}
			closers = append(closers, zr)
			srcs = append(srcs, collect.Source{Name: p, FS: &zr.Reader, Path: "."})
		default:
			abs, err := filepath.Abs(p)
			if err != nil {
				closeAll()
				return nil, nil, fmt.Errorf("import: %w", err)
			}
			srcs = append(srcs, collect.Source{Name: p, FS: os.DirFS(filepath.Dir(abs)), Path: filepath.Base(abs)})
		}
	}
	return srcs, closeAll, nil
}

// isZip: a .zip name, or a file that starts like one.
func isZip(path string) bool {
	if strings.EqualFold(filepath.Ext(path), ".zip") {
		return true
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var b [4]byte
	n, _ := io.ReadFull(f, b[:])
	return n == 4 && string(b[:]) == "PK\x03\x04"
}
