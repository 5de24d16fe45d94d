package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/osmarc/osmarc/archive"
)

type ingestOptions struct {
	json bool
}

func newIngestCommand(g *globalOptions) *cobra.Command {
	var o ingestOptions
	cmd := &cobra.Command{
		Use:   "ingest FILE... | -",
		Short: "Capture items in osmarc's JSON Lines item format",
		Long: `ingest reads items in osmarc's JSON Lines item format (one JSON object per
line; see the README) from files, or from standard input with "-", and
records them as one capture. A bad line is reported as FILE:LINE and why;
every good line is still captured, and the exit status is 1.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runIngest(cmd.Context(), g, o, args)
		},
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print the result as JSON")
	return cmd
}

func runIngest(ctx context.Context, g *globalOptions, o ingestOptions, files []string) error {
	var sources []archive.Source
	var total int64
	for _, name := range files {
		if name == "-" {
			sources = append(sources, archive.Source{Name: "stdin", R: g.stdin})
			total = -1
			continue
		}
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil && fi.IsDir() {
			return fmt.Errorf("ingest: %s is a directory", name)
		} else if err == nil && total >= 0 {
			total += fi.Size()
		}
		sources = append(sources, archive.Source{Name: name, R: f})
	}
	a, err := g.open(ctx, "ingest", false)
	if err != nil {
		return err
	}
	defer a.Close()
	bar := g.progress(total, "ingest", "lines")
	if bar != nil {
		for i, s := range sources {
			sources[i].R = io.TeeReader(s.R, bar)
		}
	}
	res, err := a.Ingest(ctx, sources, archive.IngestOptions{
		OnError: func(e *archive.InputError) {
			if bar != nil {
				bar.Clear()
			}
			fmt.Fprintln(g.stderr, "osmarc: "+oneLine(e.Error()))
		},
	})
	if bar != nil {
		bar.Finish()
	}
	if err != nil {
		return err
	}
	if o.json {
		json.NewEncoder(g.stdout).Encode(res)
	} else if res.Capture == "" {
		fmt.Fprintln(g.stdout, "Nothing to ingest: the input is empty.")
	} else {
		fmt.Fprintf(g.stdout, "Capture %s: %d lines, %d items, %d new versions, %d bad lines; %d blobs written (%s).\n",
			res.Capture, res.Lines, res.Items, res.NewVersions, res.Errors, res.BlobsWritten, humanBytes(res.BytesWritten))
		if len(res.NewAccounts) > 0 {
			fmt.Fprintf(g.stdout, "Registered %d new account(s): %s (see osmarc account list).\n", len(res.NewAccounts), strings.Join(res.NewAccounts, ", "))
		}
	}
	if res.Errors > 0 {
		return &exitError{code: 1, msg: fmt.Sprintf("%d bad line(s) were not ingested; the %d good ones were", res.Errors, res.Items)}
	}
	return nil
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
