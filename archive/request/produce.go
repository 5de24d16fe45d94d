package request

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/catalog"
	"github.com/osmarc/osmarc/archive/request/pii"
)

// Files receives a production's files (export/bagit's Writer is one).
type Files interface {
	Create(name string) (io.WriteCloser, error)
}

// ErrLeak: a produced file would have held text that was to be redacted.
// Nothing is produced.
var ErrLeak = errors.New("redacted text would appear in the production")

// Names of the files of a production.
const (
	FileItems          = "items.jsonl"
	FileWithholdingCSV = "withholding-log.csv"
	FileWithholdingLog = "withholding-log.json"
	FileRedactionCSV   = "redaction-log.csv"
	FileRedactionLog   = "redaction-log.json"
	FileSummary        = "summary.json"
)

// ProduceOptions say how to produce.
type ProduceOptions struct {
	// Threads adds the other items of each responsive item's thread.
	Threads bool
	// NoDetect turns the personal-information detector off: only what
	// people marked is redacted.
	NoDetect bool
	// Actor is who produces, for the summary.
	Actor string
	// Now is the clock, for the summary.
	Now func() time.Time
	// Out names where the production goes, for the record.
	Out string
}

// Summary is summary.json.
type Summary struct {
	Request      SummaryRequest `json:"request"`
	ProducedAt   time.Time      `json:"produced_at"`
	ProducedBy   string         `json:"produced_by"`
	ArchiveID    string         `json:"archive_id"`
	Osmarc       string         `json:"osmarc_version"`
	JournalHead  catalog.Head   `json:"journal_head"`
	Threads      bool           `json:"threads"`
	PIIDetection bool           `json:"pii_detection"`
	Scope        []SavedSearch  `json:"scope"`
	Counts       Counts         `json:"counts"`
	Files        []string       `json:"files"`
}

// SummaryRequest is what the summary says of the request.
type SummaryRequest struct {
	ID          string    `json:"id"`
	Requester   string    `json:"requester"`
	Description string    `json:"description"`
	Received    string    `json:"received"`
	Due         string    `json:"due"`
	Law         *LawRef   `json:"law,omitempty"`
	Status      string    `json:"status"`
	OpenedAt    time.Time `json:"opened_at"`
	OpenedBy    string    `json:"opened_by"`
}

// Counts are the numbers of a production.
type Counts struct {
	Responsive    int `json:"responsive"`
	Produced      int `json:"produced"`
	Withheld      int `json:"withheld"`
	ThreadItems   int `json:"thread_items"`
	RedactedItems int `json:"redacted_items"`
	Redactions    int `json:"redactions"`
	Removed       int `json:"removed"`
}

// ProducedItem is one line of items.jsonl.
type ProducedItem struct {
	Key string `json:"key"`
	// Role is "responsive" or "thread" (in a responsive item's thread).
	Role          string     `json:"role"`
	Platform      string     `json:"platform"`
	Account       string     `json:"account"`
	Kind          string     `json:"kind"`
	CreatedAt     time.Time  `json:"created_at"`
	FirstCaptured time.Time  `json:"first_captured"`
	LastCaptured  time.Time  `json:"last_captured"`
	Versions      int        `json:"versions"`
	RemovedAt     *time.Time `json:"removed_at_source,omitempty"`
	Redacted      bool       `json:"redacted"`
	// ArchiveVersion is the digest of the archived version, given only
	// when nothing was redacted: the digest of a redacted item would let
	// anyone test guesses at what was taken out.
	ArchiveVersion string        `json:"archive_version,omitempty"`
	Item           *archive.Item `json:"item"`
}

// WithholdingEntry is one line of the withholding log.
type WithholdingEntry struct {
	Key          string    `json:"key"`
	Platform     string    `json:"platform"`
	Account      string    `json:"account"`
	Kind         string    `json:"kind"`
	CreatedAt    time.Time `json:"created_at"`
	Exemption    string    `json:"exemption"`
	Title        string    `json:"title"`
	Citation     string    `json:"citation"`
	Jurisdiction string    `json:"jurisdiction"`
	Category     string    `json:"category"`
	Reason       string    `json:"reason"`
	DecidedBy    string    `json:"decided_by"`
	DecidedAt    time.Time `json:"decided_at"`
}

// RedactionEntry is one line of the redaction log: what was redacted
// (never the text itself), where, and who decided.
type RedactionEntry struct {
	Key    string `json:"key"`
	Field  string `json:"field"`
	Kind   string `json:"kind"`
	Action string `json:"action"`
	Count  int    `json:"count"`
	// Decision is "person", "detector" or "official-account".
	Decision  string `json:"decision"`
	DecidedBy string `json:"decided_by"`
	Reason    string `json:"reason,omitempty"`
	Exemption string `json:"exemption,omitempty"`
	// Redaction is the person's redaction number (request show lists
	// them), 0 for the detector.
	Redaction int `json:"redaction,omitempty"`
}

type toProduce struct {
	key  string
	role string
}

// production is what a production of a request writes: the items (the
// responsive items not withheld, then, with threads, the other items of
// their threads) and the withholding log.
type production struct {
	items    []toProduce
	withheld []WithholdingEntry
	// withheldItems counts the responsive items withheld (an item
	// withheld under several exemptions has several log entries);
	// threadItems the items that are there only for their threads.
	withheldItems, threadItems int
}

// selectProduction chooses what a production of r writes (Produce, and
// ProductionItems for an export); where begins the error of an item the
// catalog does not have.
func selectProduction(ctx context.Context, a *archive.Archive, r *Request, threadsToo bool, where string) (production, error) {
	var p production
	seen := map[string]bool{}
	for _, ref := range r.Items {
		seen[ref.Key] = true
		ws := r.WithheldUnder(ref.Key)
		if len(ws) == 0 {
			p.items = append(p.items, toProduce{ref.Key, "responsive"})
			continue
		}
		p.withheldItems++
		ci, err := a.Catalog().Item(ref.Key)
		if err != nil {
			return p, fmt.Errorf("%s: item %s: %w", where, ref.Key, err)
		}
		for _, w := range ws {
			p.withheld = append(p.withheld, WithholdingEntry{Key: ref.Key, Platform: ci.Platform, Account: ci.Account, Kind: ci.Kind,
				CreatedAt: ci.CreatedAt, Exemption: w.Exemption.Code, Title: w.Exemption.Title, Citation: w.Exemption.Citation,
				Jurisdiction: w.Exemption.Jurisdiction, Category: w.Exemption.Category, Reason: w.Reason, DecidedBy: w.By, DecidedAt: w.At})
		}
	}
	if threadsToo {
		more, err := threads(ctx, a, p.items, seen)
		if err != nil {
			return p, err
		}
		p.items = append(p.items, more...)
		p.threadItems = len(more)
	}
	return p, nil
}

// Produce writes request id's production into out: the responsive items
// that are not withheld (latest version, redacted), with their threads if
// asked, the withholding and redaction logs (CSV and JSON) and a summary.
// It reads the archive and changes nothing; RecordProduction records the
// production once the caller has finished writing it.
func Produce(ctx context.Context, a *archive.Archive, id string, out Files, o ProduceOptions) (*Summary, error) {
	r, err := Get(a, id)
	if err != nil {
		return nil, err
	}
	if o.Now == nil {
		return nil, errors.New("request produce: no clock")
	}
	head, err := a.Catalog().Head()
	if err != nil {
		return nil, err
	}
	sum := &Summary{
		Request: SummaryRequest{ID: r.ID, Requester: r.Requester, Description: r.Description, Received: r.Received, Due: r.Due,
			Law: r.Law, Status: r.Status, OpenedAt: r.OpenedAt, OpenedBy: r.OpenedBy},
		ProducedAt: o.Now().UTC(), ProducedBy: o.Actor, ArchiveID: a.Config().ArchiveID, Osmarc: archive.Version,
		JournalHead: head, Threads: o.Threads, PIIDetection: !o.NoDetect, Scope: []SavedSearch{},
	}
	for _, s := range r.Searches {
		s.Keys = nil
		sum.Scope = append(sum.Scope, s)
	}
	sum.Counts.Responsive, sum.Counts.Removed = len(r.Items), len(r.Removed)

	// What is produced: responsive items not withheld, then their threads.
	sel, err := selectProduction(ctx, a, r, o.Threads, "request produce")
	if err != nil {
		return nil, err
	}
	items, withheld := sel.items, sel.withheld
	sum.Counts.Withheld, sum.Counts.ThreadItems, sum.Counts.Produced = sel.withheldItems, sel.threadItems, len(items)

	// First pass: what is to be redacted everywhere.
	sc, spans, err := plan(ctx, a, r, items, o)
	if err != nil {
		return nil, err
	}
	guard := newGuard(sc)

	create := func(name string) (*guardedFile, error) {
		f, err := out.Create(name)
		if err != nil {
			return nil, err
		}
		return guard.wrap(name, f), nil
	}

	// Second pass: the items.
	var log []RedactionEntry
	f, err := create(FileItems)
	if err != nil {
		return nil, err
	}
	enc := json.NewEncoder(f)
	enc.SetEscapeHTML(false)
	for _, tp := range items {
		if err := ctx.Err(); err != nil {
			f.Close()
			return nil, err
		}
		ci, it, err := latest(ctx, a, tp.key)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("request produce: %w", err)
		}
		entries, err := redactItem(tp.key, ci, it, sc, spans[tp.key])
		if err != nil {
			f.Close()
			return nil, err
		}
		pi := ProducedItem{Key: tp.key, Role: tp.role, Platform: ci.Platform, Account: ci.Account, Kind: ci.Kind, CreatedAt: ci.CreatedAt,
			FirstCaptured: ci.FirstSeen, LastCaptured: ci.LastSeen, Versions: len(ci.Versions), RemovedAt: ci.RemovedAt,
			Redacted: len(entries) > 0, Item: it}
		for _, e := range entries {
			if e.Action == "redacted" {
				sum.Counts.Redactions += e.Count
			}
		}
		if pi.Redacted = slices.ContainsFunc(entries, func(e RedactionEntry) bool { return e.Action == "redacted" }); pi.Redacted {
			sum.Counts.RedactedItems++
		} else {
			pi.ArchiveVersion = ci.Latest().Digest
		}
		log = append(log, entries...)
		if err := enc.Encode(pi); err != nil {
			f.Close()
			return nil, err
		}
	}
	if err := f.Close(); err != nil {
		return nil, err
	}

	// The logs and the summary: free text in them is scrubbed too.
	clean := func(s string) string { return sc.scrub(s, nil) }
	for i := range withheld {
		withheld[i].Reason = clean(withheld[i].Reason)
	}
	for i := range log {
		log[i].Reason = clean(log[i].Reason)
	}
	sum.Request.Requester, sum.Request.Description = clean(sum.Request.Requester), clean(sum.Request.Description)
	for i := range sum.Scope {
		sum.Scope[i].Query = clean(sum.Scope[i].Query)
		for k, v := range sum.Scope[i].Filters {
			sum.Scope[i].Filters[k] = clean(v)
		}
	}
	if withheld == nil {
		withheld = []WithholdingEntry{}
	}
	if log == nil {
		log = []RedactionEntry{}
	}
	if err := writeJSON(create, FileWithholdingLog, withheld); err != nil {
		return nil, err
	}
	if err := writeCSV(create, FileWithholdingCSV, []string{"key", "platform", "account", "kind", "created_at", "exemption", "title", "citation", "jurisdiction", "category", "reason", "decided_by", "decided_at"},
		len(withheld), func(i int) []string {
			w := withheld[i]
			return []string{w.Key, w.Platform, w.Account, w.Kind, ts(w.CreatedAt), w.Exemption, w.Title, w.Citation, w.Jurisdiction, w.Category, w.Reason, w.DecidedBy, ts(w.DecidedAt)}
		}); err != nil {
		return nil, err
	}
	if err := writeJSON(create, FileRedactionLog, log); err != nil {
		return nil, err
	}
	if err := writeCSV(create, FileRedactionCSV, []string{"key", "field", "kind", "action", "count", "decision", "decided_by", "reason", "exemption", "redaction"},
		len(log), func(i int) []string {
			e := log[i]
			return []string{e.Key, e.Field, e.Kind, e.Action, strconv.Itoa(e.Count), e.Decision, e.DecidedBy, e.Reason, e.Exemption, strconv.Itoa(e.Redaction)}
		}); err != nil {
		return nil, err
	}
	sum.Files = []string{FileItems, FileWithholdingCSV, FileWithholdingLog, FileRedactionCSV, FileRedactionLog, FileSummary}
	if err := writeJSON(create, FileSummary, sum); err != nil {
		return nil, err
	}
	return sum, nil
}

// RecordProduction records, once its files are complete, that a request
// was produced.
func RecordProduction(ctx context.Context, a *archive.Archive, id string, s *Summary, out, payloadOxum, tagManifest string) (*Request, error) {
	p := Production{Out: out, Produced: s.Counts.Produced, Withheld: s.Counts.Withheld, ThreadItems: s.Counts.ThreadItems,
		Redactions: s.Counts.Redactions, JournalSeq: s.JournalHead.Seq, JournalHead: s.JournalHead.Hash,
		PayloadOxum: payloadOxum, TagManifest: tagManifest}
	return record(ctx, a, EventProduced, event{Request: id, Production: &p})
}

func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// threads returns the items in the threads of items that are not already
// seen (in the request), reading each account's items once.
func threads(ctx context.Context, a *archive.Archive, items []toProduce, seen map[string]bool) ([]toProduce, error) {
	type acct struct{ platform, account string }
	want := map[acct]map[string]bool{}
	for _, tp := range items {
		ci, it, err := latest(ctx, a, tp.key)
		if err != nil {
			return nil, fmt.Errorf("request produce: %w", err)
		}
		tid := it.Thread
		if tid == "" {
			tid = it.ID
		}
		k := acct{ci.Platform, ci.Account}
		if want[k] == nil {
			want[k] = map[string]bool{}
		}
		want[k][tid] = true
	}
	var out []toProduce
	for k, tids := range want {
		for ci, err := range a.List(archive.ListFilter{Platform: k.platform, Account: k.account}) {
			if err != nil {
				return nil, err
			}
			if seen[ci.Key] {
				continue
			}
			it, err := a.Version(ctx, ci.Latest().Digest)
			if err != nil {
				return nil, fmt.Errorf("request produce: item %s: %w", ci.Key, err)
			}
			if tids[it.Thread] || tids[it.Parent] || tids[it.ID] {
				seen[ci.Key] = true
				out = append(out, toProduce{ci.Key, "thread"})
			}
		}
	}
	slices.SortFunc(out, func(x, y toProduce) int { return strings.Compare(x.key, y.key) })
	return out, nil
}

// plan builds the scrubber of a production: the texts people marked, and
// (unless turned off) everything the detector finds in the items to be
// produced, less what people kept and the official accounts' own names.
// It also returns the people's spans by item.
func plan(ctx context.Context, a *archive.Archive, r *Request, items []toProduce, o ProduceOptions) (*scrubber, map[string][]Redaction, error) {
	var texts []scrubText
	spans := map[string][]Redaction{}
	keep := map[string]Redaction{}
	for _, x := range r.Redactions {
		if x.Action == ActionKeep {
			keep[strings.ToLower(x.Text)] = x
		}
	}
	for _, x := range r.Redactions {
		if x.Action != ActionRedact {
			continue
		}
		if x.Span != nil {
			spans[x.Key] = append(spans[x.Key], x)
		}
		// A span's text is scrubbed everywhere too, when it is long
		// enough to be scrubbed without destroying other words.
		if utf8.RuneCountInString(strings.TrimSpace(x.Text)) >= MinRedactText {
			texts = append(texts, scrubText{text: x.Text, kind: "manual", marker: personMarker(x), decision: "person",
				decidedBy: x.By, reason: x.Reason, exemption: exemptionCode(x), n: x.N})
		}
	}
	if !o.NoDetect {
		official, err := officialNames(a)
		if err != nil {
			return nil, nil, err
		}
		for _, tp := range items {
			ci, it, err := latest(ctx, a, tp.key)
			if err != nil {
				return nil, nil, fmt.Errorf("request produce: %w", err)
			}
			official[strings.ToLower(ci.Account)] = true
			for _, f := range fieldsOf(it) {
				for _, m := range pii.Find(*f.p) {
					t := strings.ToLower(m.Text)
					if _, kept := keep[t]; kept || official[strings.TrimPrefix(t, "@")] {
						continue
					}
					texts = append(texts, scrubText{text: m.Text, kind: string(m.Kind), marker: "[REDACTED:" + string(m.Kind) + "]",
						decision: "detector", decidedBy: "osmarc personal-information detector"})
				}
			}
		}
	}
	return newScrubber(texts), spans, nil
}

func personMarker(x Redaction) string {
	if x.Exempt != nil {
		return "[REDACTED:" + x.Exempt.Code + "]"
	}
	return "[REDACTED]"
}

func exemptionCode(x Redaction) string {
	if x.Exempt != nil {
		return x.Exempt.Code
	}
	return ""
}

// officialNames are the registered accounts' keys, handles, ids and
// names, in lower case: they name the organisation, not a private person.
func officialNames(a *archive.Archive) (map[string]bool, error) {
	accts, err := a.Accounts()
	if err != nil {
		return nil, err
	}
	m := map[string]bool{}
	for _, ac := range accts {
		for _, n := range []string{ac.Key, ac.Handle, ac.ID, ac.Name} {
			if n = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(n), "@")); n != "" {
				m[n] = true
			}
		}
	}
	return m, nil
}

// redactItem redacts it in place and returns its redaction log entries.
func redactItem(key string, ci catalog.Item, it *archive.Item, sc *scrubber, spans []Redaction) ([]RedactionEntry, error) {
	type ek struct {
		field string
		t     *scrubText
	}
	counts := map[ek]int{}
	var order []ek
	var out []RedactionEntry
	for _, x := range spans {
		if x.Version != ci.Latest().Digest {
			return nil, fmt.Errorf("request produce: redaction %d marks a span of %s in version %.12s, but the latest version is %.12s: mark it again (osmarc request redact)", x.N, key, x.Version, ci.Latest().Digest)
		}
	}
	for _, f := range fieldsOf(it) {
		var mine []Redaction
		for _, x := range spans {
			if x.Field == f.name {
				mine = append(mine, x)
			}
		}
		if len(mine) > 0 {
			*f.p = applySpans(*f.p, mine, personMarker)
			for _, x := range mine {
				out = append(out, RedactionEntry{Key: key, Field: f.name, Kind: "span", Action: "redacted", Count: 1, Decision: "person",
					DecidedBy: x.By, Reason: x.Reason, Exemption: exemptionCode(x), Redaction: x.N})
			}
		}
		*f.p = sc.scrub(*f.p, func(t *scrubText) {
			k := ek{f.name, t}
			if counts[k] == 0 {
				order = append(order, k)
			}
			counts[k]++
		})
	}
	for _, k := range order {
		out = append(out, RedactionEntry{Key: key, Field: k.field, Kind: k.t.kind, Action: "redacted", Count: counts[k], Decision: k.t.decision,
			DecidedBy: k.t.decidedBy, Reason: k.t.reason, Exemption: k.t.exemption, Redaction: k.t.n})
	}
	return out, nil
}

type createFunc func(name string) (*guardedFile, error)

func writeJSON(create createFunc, name string, v any) error {
	f, err := create(name)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	err = enc.Encode(v)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// writeCSV writes a CSV file; cells that a spreadsheet would take for a
// formula are prefixed with an apostrophe.
func writeCSV(create createFunc, name string, header []string, n int, row func(int) []string) error {
	f, err := create(name)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	w.Write(header)
	for i := range n {
		cells := row(i)
		for j, c := range cells {
			if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
				cells[j] = "'" + c
			}
		}
		w.Write(cells)
	}
	w.Flush()
	err = w.Error()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// guard checks every byte written to a production for the texts being
// redacted (as written, JSON-escaped and CSV-quoted, ignoring case).
type guard struct {
	pats   map[int]map[string]bool // by length
	maxLen int
}

func newGuard(sc *scrubber) *guard {
	g := &guard{pats: map[int]map[string]bool{}}
	for _, t := range sc.texts {
		if utf8.RuneCountInString(strings.TrimSpace(t.text)) < MinRedactText {
			continue
		}
		js, _ := json.Marshal(t.text)
		for _, p := range []string{t.text, string(js[1 : len(js)-1]), strings.ReplaceAll(t.text, `"`, `""`)} {
			p = strings.ToLower(p)
			if g.pats[len(p)] == nil {
				g.pats[len(p)] = map[string]bool{}
			}
			g.pats[len(p)][p] = true
			g.maxLen = max(g.maxLen, len(p))
		}
	}
	return g
}

type guardedFile struct {
	g    *guard
	name string
	w    io.WriteCloser
	tail []byte
}

func (g *guard) wrap(name string, w io.WriteCloser) *guardedFile {
	return &guardedFile{g: g, name: name, w: w}
}

func (f *guardedFile) Write(p []byte) (int, error) {
	if f.g.maxLen > 0 {
		win := bytes.ToLower(append(f.tail, p...))
		for l, set := range f.g.pats {
			for i := 0; i+l <= len(win); i++ {
				if set[string(win[i:i+l])] {
					return 0, fmt.Errorf("request produce: %s: %w (it is also part of what osmarc cannot redact, such as an item key or a file's structure: change the redaction)", f.name, ErrLeak)
				}
			}
		}
		all := append(f.tail, p...)
		f.tail = slices.Clone(all[len(all)-min(len(all), f.g.maxLen-1):])
	}
	return f.w.Write(p)
}

func (f *guardedFile) Close() error { return f.w.Close() }
