package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/catalog"
	"github.com/osmarc/osmarc/archive/request"
	"github.com/osmarc/osmarc/archive/retention"
	"github.com/osmarc/osmarc/export"
	"github.com/osmarc/osmarc/export/bagit"
	"github.com/osmarc/osmarc/export/loadfile"
	"github.com/osmarc/osmarc/export/pdf"
	"github.com/osmarc/osmarc/export/tabular"
	"github.com/osmarc/osmarc/export/warc"
	"github.com/osmarc/osmarc/index"
)

// exportFormats are the formats osmarc export offers, in --help's order;
// a is the archive exported (nil to list them). A new format is one line
// here.
func exportFormats(a *archive.Archive) *export.Registry {
	var wo warc.Options
	if a != nil {
		wo.Infos = warc.ManifestInfos(a)
	}
	return export.NewRegistry(
		bagit.Format(),
		warc.NewFormat(wo),
		tabular.CSV(),
		tabular.JSONL(),
		loadfile.NewFormat(loadfile.Options{}),
		pdf.NewFormat(),
	)
}

// exportReaders is how many items an export reads at once, ahead of the
// writer (store and catalog reads wait on the disk).
const exportReaders = 4

// Journal event types of exports.
const (
	EventExportCreated = "export.created"
	EventExportFailed  = "export.failed"
)

type exportOptions struct {
	format, out, request, versions, organization string
	threads, media, redact, force, excel, json   bool
}

func newExportCommand(g *globalOptions) *cobra.Command {
	var o exportOptions
	var sel *Selection
	formats := exportFormats(nil)
	var lines []string
	for _, f := range formats.Formats() {
		lines = append(lines, fmt.Sprintf("  %-9s %s", f.Name, f.Description))
	}
	cmd := &cobra.Command{
		Use:   "export --format FORMAT --out PATH [selection flags]",
		Short: "Export selected items for legal staff and archives (BagIt, WARC, CSV, JSON Lines, load file, PDF)",
		Long: `export writes the selected items in one format:

` + strings.Join(lines, "\n") + `

The selection takes the flags of osmarc search (--query, --account,
--platform, --kind, --from, --to, --class, --hold, …; none selects every
item), or --request R for the items of an open-records request (with
--redact, its redactions and withholdings are applied). --threads adds
every other item of each selected item's thread; --versions all exports
every version, not only the latest; --media copies media files into
formats that hold files.

The export is built beside PATH and moved into place only when complete:
an error, a full disk or an interrupt leaves nothing at PATH. PATH must not
exist unless --force is given. Every export is recorded in the journal
(who, when, the selection, what was written and its SHA-256). An empty
selection writes nothing and says so.

  osmarc export --format bagit --out /media/usb/parade-2024 --hold parade-matter --threads --media
  osmarc export --format csv --out posts.csv --account facebook/3rd-brigade --from 2024 --excel
  osmarc export --format bagit --out REQ-2026-0001 --request REQ-2026-0001 --redact --threads
  osmarc export verify /media/usb/parade-2024`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExport(cmd.Context(), g, o, sel)
		},
	}
	sel = newSelection(cmd, "export", SelectionConfig{QueryFlag: true, DefaultSort: "oldest"})
	f := cmd.Flags()
	f.StringVar(&o.format, "format", "", "the format: "+strings.Join(formats.Names(), ", ")+" (required)")
	f.StringVar(&o.out, "out", "", "where the export goes: a new directory (bagit) or file (required)")
	f.StringVar(&o.request, "request", "", "export the items of this open-records request")
	f.BoolVar(&o.threads, "threads", false, "add every other item of each selected item's thread")
	f.StringVar(&o.versions, "versions", export.VersionsLatest, "latest or all")
	f.BoolVar(&o.media, "media", false, "copy media files into the export")
	f.BoolVar(&o.redact, "redact", false, "apply the redactions and withholdings of --request")
	f.BoolVar(&o.force, "force", false, "replace PATH if it exists (only once the new export is complete)")
	f.BoolVar(&o.excel, "excel", false, "csv: write a UTF-8 byte-order mark and CRLF line ends, as Excel expects")
	f.StringVar(&o.organization, "organization", "", "Source-Organization of a bag (default $OSMARC_ORGANIZATION)")
	f.BoolVar(&o.json, "json", false, "print what was written as JSON")
	cmd.AddCommand(newExportVerifyCommand(g))
	return cmd
}

func runExport(ctx context.Context, g *globalOptions, o exportOptions, sel *Selection) error {
	format, err := exportFormats(nil).Lookup(o.format)
	switch {
	case o.format == "":
		return fmt.Errorf("export: --format is required (%s)", strings.Join(exportFormats(nil).Names(), ", "))
	case err != nil:
		return fmt.Errorf("export: --format: %w", err)
	case o.out == "":
		return errors.New("export: --out PATH is required")
	case o.versions != export.VersionsLatest && o.versions != export.VersionsAll:
		return fmt.Errorf("export: --versions %q: want latest or all", o.versions)
	case o.redact && o.request == "":
		return errors.New("export: --redact applies a request's redactions: give --request R")
	case o.redact && o.versions == export.VersionsAll:
		return errors.New("export: --redact exports latest versions only (redactions are marked on the latest version); leave out --versions all")
	case o.excel && format.Name != "csv":
		return fmt.Errorf("export: --excel is for --format csv, not %s", format.Name)
	case o.request != "" && !sel.Empty(""):
		return errors.New("export: --request selects the request's items; give no search flags with it")
	}
	req, err := sel.Request("")
	if err != nil {
		return err
	}
	out, err := filepath.Abs(o.out)
	if err != nil {
		return err
	}
	if err := export.CheckOut(out, o.force); err != nil {
		return err
	}
	a, err := g.open(ctx, "export", false)
	if err != nil {
		return err
	}
	defer a.Close()
	if format, err = exportFormats(a).Lookup(o.format); err != nil {
		return err
	}
	var ix *index.Index
	switch ix, err = index.OpenReadOnly(filepath.Join(a.Dir(), index.DirName)); {
	case err == nil:
		defer ix.Close()
		withHolds(g, a, ix)
	case errors.Is(err, index.ErrNoIndex):
		ix = nil
	default:
		return err
	}
	organization := o.organization
	if organization == "" {
		organization = strings.TrimSpace(os.Getenv("OSMARC_ORGANIZATION"))
	}
	var bar *progressbar.ProgressBar
	man, head, err := exportItems(ctx, g, a, ix, exportJob{format: format, out: out, force: o.force, exporter: g.requestActor(), organization: organization,
		search: req, filters: sel.Filters(), all: sel.Empty(""), request: o.request, threads: o.threads, versions: o.versions,
		media: o.media, redact: o.redact, excel: o.excel,
		progress: func(total int64) func(int) {
			if bar = g.progress(total, "exporting", "items"); bar == nil {
				return nil
			}
			return func(n int) { bar.Set(n) }
		}})
	if bar != nil {
		bar.Finish()
	}
	if err != nil {
		return err
	}
	if o.json {
		return printJSON(g, man)
	}
	fmt.Fprintf(g.stdout, "Exported %d item(s), %d version(s) as %s to %s (%s).\nSHA-256 of %s: %s\nJournal head at export: %d %s.\n",
		man.Items, man.Versions, format.Name, out, bagit.HumanSize(man.Bytes), man.DigestOf, man.SHA256, head.Seq, head.Hash)
	return nil
}

// exportJob is one export, as osmarc export and the web application's
// export API ask for it: the format, where it goes and who makes it, and
// the selection (a search, every item, or an open-records request).
type exportJob struct {
	format                 export.Format
	out                    string
	force                  bool
	exporter, organization string
	// search selects the items unless request is set; all says the
	// selection is empty (every item, listed from the catalog in key
	// order: no index needed); filters are the selection as given, for
	// the record.
	search  index.Request
	filters map[string]string
	all     bool
	request string
	threads bool
	// versions is latest or all; redact applies request's redactions.
	versions             string
	media, redact, excel bool
	// progress, when set, is given the number of items (-1 unknown) and
	// returns what to tell of each item written (nil: nothing).
	progress func(total int64) func(n int)
}

// exportItems writes an export: it selects the items (through the index
// ix, which may be nil when the selection needs none), classifies them
// from records management, runs the format and records the export in the
// journal (export.created, or export.failed with the error). It returns
// the manifest and the journal head the export names.
func exportItems(ctx context.Context, g *globalOptions, a *archive.Archive, ix *index.Index, j exportJob) (export.Manifest, export.JournalHead, error) {
	var jh export.JournalHead
	if ix == nil && j.request == "" && !j.all {
		return export.Manifest{}, jh, fmt.Errorf("export: %s has no search index, which the selection reads: run osmarc reindex", a.Dir())
	}
	head, err := a.Catalog().Head()
	if err != nil {
		return export.Manifest{}, jh, err
	}
	jh = export.JournalHead{Seq: head.Seq, Hash: head.Hash}
	req := j.search
	selection := export.Selection{Query: req.Query, Filters: map[string][]string{}, Request: j.request, Threads: j.threads,
		Versions: j.versions, Media: j.media, Redact: j.redact}
	for k, v := range j.filters {
		if k != "sort" && k != "limit" && k != "offset" {
			selection.Filters[k] = strings.Split(v, ",")
		}
	}
	if len(req.Holds) == 1 {
		selection.Hold = req.Holds[0]
	}
	meta := export.Meta{Format: j.format.Name, Out: j.out, Force: j.force, ArchiveID: a.Config().ArchiveID, Organization: j.organization,
		Exporter: j.exporter, ExportedAt: g.now().UTC(), OsmarcVersion: archive.Version, JournalHead: jh, Selection: selection,
		Versions: j.versions, Media: j.media, Redacted: j.redact, Excel: j.excel}
	so := export.SourceOptions{Threads: j.threads, Versions: j.versions, Workers: exportReaders}
	var total int64 = -1
	switch {
	case j.request != "":
		items, withheld, err := request.ProductionItems(ctx, a, j.request, j.threads)
		if err != nil {
			return export.Manifest{}, jh, fmt.Errorf("export: %w", err)
		}
		var keys []string
		keys, so.Roles = productionKeys(items)
		so.Keys, so.Threads, total = export.KeyList(keys), false, int64(len(keys))
		if j.redact {
			rd, err := request.NewRedactor(ctx, a, j.request, keys, request.ProduceOptions{Threads: j.threads, Actor: meta.Exporter, Now: g.now})
			if err != nil {
				return export.Manifest{}, jh, fmt.Errorf("export: %w", err)
			}
			so.Redactor = requestRedactor{rd}
			meta.Guard, meta.Withheld = rd.Guard, withheldLog(withheld, rd)
		}
	case j.all:
		// Every item: from the catalog, in key order (the index is not
		// needed to list everything). Only keys are listed: the source
		// reads each item when it gets to it.
		if n, err := a.Catalog().Counters(); err == nil {
			total = n.Items
		}
		so.Keys = func(ctx context.Context, yield func(string) error) error {
			for key, err := range a.Catalog().Keys("") {
				if err != nil {
					return err
				}
				if err := yield(key); err != nil {
					return err
				}
			}
			return nil
		}
	default:
		if req.Sort == index.SortRelevance {
			req.Sort = index.SortOldest
		}
		req.Offset, req.Facets = 0, false
		head := req
		head.Limit = 1
		if res, err := ix.Search(ctx, head); err == nil {
			total = int64(res.Total)
		}
		// Holds are read from records management, not the index: a
		// hold's scope includes items captured after it was placed.
		var held func(context.Context, *catalog.Item) (bool, error)
		if len(req.Holds) > 0 {
			if held, err = export.HoldFilter(a, g.now, ix, req.Holds); err != nil {
				return export.Manifest{}, jh, fmt.Errorf("export: --hold: %w", err)
			}
			req.Holds, total = nil, -1
		}
		so.Keys = func(ctx context.Context, yield func(string) error) error {
			_, err := ix.SearchAll(ctx, req, func(h index.Hit) error {
				if held != nil {
					ci, err := a.Catalog().Item(h.Key)
					if err != nil {
						return fmt.Errorf("export: item %s: %w", h.Key, err)
					}
					if ok, err := held(ctx, &ci); err != nil || !ok {
						return err
					}
				}
				return yield(h.Key)
			})
			return err
		}
	}
	classOf, err := exportClassifier(ctx, g, a, ix)
	if err != nil {
		return export.Manifest{}, jh, err
	}
	var matcher retention.Matcher
	if ix != nil {
		matcher = ix
	}
	if so.Records, err = export.ArchiveRecordsWith(a, g.now, matcher, classOf); err != nil {
		return export.Manifest{}, jh, err
	}
	src, err := export.NewSource(a, so)
	if err != nil {
		return export.Manifest{}, jh, err
	}
	var progress func(int)
	if j.progress != nil {
		progress = j.progress(total)
	}
	man, err := export.Run(ctx, src, j.format.New(), meta, progress)
	if errors.Is(err, export.ErrEmpty) {
		return man, jh, err
	}
	if err != nil {
		// The failure is a record too: who tried to export what.
		a.RecordEvent(ctx, EventExportFailed, map[string]any{"format": j.format.Name, "out": j.out, "selection": selection,
			"selection_description": selection.String(), "journal_head": jh, "error": err.Error()})
		return man, jh, err
	}
	if _, rerr := a.RecordEvent(ctx, EventExportCreated, map[string]any{"format": j.format.Name, "out": j.out, "selection": selection,
		"selection_description": selection.String(), "journal_head": jh, "items": man.Items, "versions": man.Versions,
		"bytes": man.Bytes, "sha256": man.SHA256, "digest_of": man.DigestOf, "files": man.Files, "exported_at": meta.ExportedAt}); rerr != nil {
		return man, jh, fmt.Errorf("export: the export is complete in %s, but recording it in the journal failed: %w", j.out, rerr)
	}
	return man, jh, nil
}

// exportClassifier is records management's classification of each item
// (a person's decision, else the first rule that matches, else a record
// under its account's schedule); without an index only the decisions
// and the default.
func exportClassifier(ctx context.Context, g *globalOptions, a *archive.Archive, ix *index.Index) (export.ClassifyFunc, error) {
	r := retention.New(a, g.now)
	var cl *retention.Classifier
	var err error
	if ix != nil {
		r.Matcher = ix
		r.ParseQuery = indexClauses
		cl, err = r.Classifier(ctx)
	}
	if ix == nil || err != nil {
		if cl, err = r.PartialClassifier(ctx); err != nil {
			return nil, err
		}
	}
	return func(ctx context.Context, ci *catalog.Item) (string, string, []string, error) {
		as := cl.Resolved(ci.Platform, ci.Account, ci.Key)
		return as.Class, as.Schedule, as.Exemptions, nil
	}, nil
}

// productionKeys are a request's production items as an export source
// takes them: their keys, in order, and the role of those there only for
// their thread.
func productionKeys(items []request.ProductionItem) (keys []string, roles map[string]string) {
	keys, roles = make([]string, len(items)), map[string]string{}
	for i, it := range items {
		keys[i] = it.Key
		if it.Role == "thread" {
			roles[it.Key] = export.RoleThread
		}
	}
	return keys, roles
}

// withheldLog is a request's withholding log as an export records it,
// each reason scrubbed by the request's redactor.
func withheldLog(withheld []request.WithholdingEntry, rd *request.Redactor) []export.Withheld {
	var out []export.Withheld
	for _, w := range withheld {
		out = append(out, export.Withheld{Key: w.Key, Platform: w.Platform, Account: w.Account, Kind: w.Kind,
			CreatedAt: w.CreatedAt, Exemption: w.Exemption, Citation: w.Citation, Reason: rd.Scrub(w.Reason), DecidedBy: w.DecidedBy, DecidedAt: w.DecidedAt})
	}
	return out
}

// requestRedactor applies a request's redactions to an export's items.
type requestRedactor struct{ rd *request.Redactor }

func (r requestRedactor) Redact(ctx context.Context, ci *catalog.Item, v *archive.Item, latest bool) ([]export.Redaction, error) {
	if !latest {
		return nil, fmt.Errorf("export: item %s: %w", ci.Key, request.ErrNotLatest)
	}
	es, err := r.rd.Redact(*ci, v)
	if err != nil {
		return nil, err
	}
	var out []export.Redaction
	for _, e := range es {
		if e.Action != "redacted" {
			continue
		}
		out = append(out, export.Redaction{Field: e.Field, Kind: e.Kind, Count: e.Count, Decision: e.Decision, DecidedBy: e.DecidedBy,
			Exemption: e.Exemption, Reason: r.rd.Scrub(e.Reason)})
	}
	return out, nil
}

func newExportVerifyCommand(g *globalOptions) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify BAG",
		Short: "Check a BagIt bag (osmarc's or any other tool's) and name each problem",
		Long: `verify checks a BagIt bag as RFC 8493 defines a valid bag: the declaration,
every manifest's lines and files (each digest of every algorithm), that
every payload file is in every payload manifest, the tag manifests, and
Payload-Oxum. It needs no archive. It exits 1 when the bag has a problem.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExportVerify(cmd.Context(), g, args[0], asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}

func runExportVerify(ctx context.Context, g *globalOptions, dir string, asJSON bool) error {
	var bar *progressbar.ProgressBar
	if g.interactive() {
		bar = progressbar.NewOptions(-1, progressbar.OptionSetWriter(g.stderr), progressbar.OptionSetDescription("verifying"),
			progressbar.OptionShowCount(), progressbar.OptionSetItsString("files"), progressbar.OptionClearOnFinish())
	}
	r, err := bagit.Verify(ctx, dir, func(n int) {
		if bar != nil {
			bar.Set(n)
		}
	})
	if bar != nil {
		bar.Finish()
	}
	if err != nil {
		return fmt.Errorf("export verify: %w", err)
	}
	if asJSON {
		if err := printJSON(g, r); err != nil {
			return err
		}
	} else {
		for _, p := range r.Problems {
			fmt.Fprintln(g.stdout, p.String())
		}
	}
	if !r.Valid() {
		return &exitError{code: 1, msg: fmt.Sprintf("%s is not a valid bag: %d problem(s)", dir, len(r.Problems))}
	}
	if !asJSON {
		fmt.Fprintf(g.stdout, "%s is a valid BagIt %s bag: %d payload file(s), %d byte(s), manifests %s.\n", dir, r.Version, r.Files, r.Bytes, strings.Join(r.Algorithms, ", "))
	}
	return nil
}

// produceRequest writes request id's production into out as an export
// bag: each produced item (the responsive items not withheld, and with
// threads the rest of their threads) redacted as request.Produce redacts
// it, with its thread page, index.csv, chain of custody and offline
// viewer, and request.Produce's own files (items.jsonl, the withholding
// and redaction logs, summary.json) in the same bag.
func produceRequest(ctx context.Context, g *globalOptions, a *archive.Archive, id, out string, threads, noDetect bool) (*request.Summary, export.Manifest, error) {
	items, withheld, err := request.ProductionItems(ctx, a, id, threads)
	if err != nil {
		return nil, export.Manifest{}, err
	}
	keys, roles := productionKeys(items)
	po := request.ProduceOptions{Threads: threads, NoDetect: noDetect, Actor: g.requestActor(), Now: g.now, Out: out}
	rd, err := request.NewRedactor(ctx, a, id, keys, po)
	if err != nil {
		return nil, export.Manifest{}, err
	}
	// With an index, query holds are evaluated on it (as osmarc export
	// does); without one a hold's query cannot be checked and its scope
	// alone names it, which errs on the side of saying held.
	var classOf export.ClassifyFunc
	var matcher retention.Matcher
	if ix, err := index.OpenReadOnly(filepath.Join(a.Dir(), index.DirName)); err == nil {
		defer ix.Close()
		withHolds(g, a, ix)
		matcher = ix
		classOf, err = exportClassifier(ctx, g, a, ix)
		if err != nil {
			return nil, export.Manifest{}, err
		}
	} else if classOf, err = exportClassifier(ctx, g, a, nil); err != nil {
		return nil, export.Manifest{}, err
	}
	records, err := export.ArchiveRecordsWith(a, g.now, matcher, classOf)
	if err != nil {
		return nil, export.Manifest{}, err
	}
	src, err := export.NewSource(a, export.SourceOptions{Keys: export.KeyList(keys), Roles: roles, Redactor: requestRedactor{rd}, Records: records, Workers: exportReaders})
	if err != nil {
		return nil, export.Manifest{}, err
	}
	head, err := a.Catalog().Head()
	if err != nil {
		return nil, export.Manifest{}, err
	}
	var sum *request.Summary
	meta := export.Meta{Format: "bagit", Out: out, ArchiveID: a.Config().ArchiveID, Organization: os.Getenv("OSMARC_ORGANIZATION"),
		Exporter: po.Actor, ExportedAt: g.now().UTC(), OsmarcVersion: archive.Version, JournalHead: export.JournalHead{Seq: head.Seq, Hash: head.Hash},
		Selection: export.Selection{Request: id, Threads: threads, Versions: export.VersionsLatest, Redact: true},
		Versions:  export.VersionsLatest, Redacted: true, Guard: rd.Guard, Withheld: withheldLog(withheld, rd), AllowEmpty: true,
		Extra: func(ctx context.Context, create func(string) (io.WriteCloser, error)) error {
			sum, err = request.Produce(ctx, a, id, createFiles(create), po)
			return err
		}}
	bar := g.progress(int64(len(keys)), "exporting", "items")
	man, err := export.Run(ctx, src, bagit.Format().New(), meta, func(n int) {
		if bar != nil {
			bar.Set(n)
		}
	})
	if bar != nil {
		bar.Finish()
	}
	return sum, man, err
}

// createFiles is a create function as request.Files.
type createFiles func(name string) (io.WriteCloser, error)

func (c createFiles) Create(name string) (io.WriteCloser, error) { return c(name) }
