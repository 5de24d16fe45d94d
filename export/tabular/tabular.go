// Package tabular writes exports as one row per item, or per version with
// --versions all: CSV (RFC 4180, UTF-8, optionally with a byte-order mark
// and CRLF line ends for Excel) and JSON Lines.
//
// The columns are stable; new ones are only ever added at the end:
//
//	key             the item's archive key (platform/account/id)
//	platform        facebook, mastodon, …
//	account         the account's handle on the platform
//	kind            post, comment, reply, …
//	parent          the archive key of the item it answers, if any
//	author          the author's display name (else handle, else id)
//	created_at      RFC 3339, UTC
//	edited_at       the platform's edit time of this version, if it gave one
//	removed_at      when the item was found removed at its source
//	text            the text of this version
//	url             the item's address on the platform
//	classification  record, secondary-copy, transitory, non-record
//	schedule        the retention schedule's id
//	holds           the legal holds covering the item, separated by ";"
//	version_digest  SHA-256 of the version's canonical JSON in the archive
//	                (empty when redacted: a digest would let anyone test
//	                guesses at what was taken out)
//	version_captured_at  when the version was first captured
//	versions        how many versions the archive holds
//	role            selected, or thread (brought in by --threads)
//	thread          the archive key of the thread's root
//	author_handle   the author's handle
//	redacted        true when redactions were made in this row's text
//
// In CSV, a cell beginning with =, +, -, @, a tab or a carriage return is
// prefixed with an apostrophe, so a spreadsheet shows archived text as
// text and never runs it as a formula (OWASP's advice on CSV injection).
// JSON Lines carries the same keys with the values unaltered (holds as an
// array, versions as a number, redacted as a boolean).
package tabular

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/osmarc/osmarc/export"
)

// Columns are the columns, in order.
var Columns = []string{"key", "platform", "account", "kind", "parent", "author", "created_at", "edited_at", "removed_at", "text", "url",
	"classification", "schedule", "holds", "version_digest", "version_captured_at", "versions", "role", "thread", "author_handle", "redacted"}

// CSV is the csv format.
func CSV() export.Format {
	return export.Format{Name: "csv", Description: "CSV, one row per item (per version with --versions all); --excel adds a UTF-8 byte-order mark",
		New: func() export.Writer { return &writer{csv: true} }}
}

// JSONL is the jsonl format.
func JSONL() export.Format {
	return export.Format{Name: "jsonl", Description: "JSON Lines, one object per item (per version with --versions all), the CSV's columns as keys",
		New: func() export.Writer { return &writer{} }}
}

type writer struct {
	csv   bool
	meta  export.Meta
	out   *export.PendingFile
	cw    *csv.Writer
	items int
	rows  int
}

func (w *writer) Begin(ctx context.Context, m export.Meta) error {
	w.meta = m
	out, err := export.NewPendingFile(m.Out, m.Force)
	if err != nil {
		return err
	}
	w.out = out
	if !w.csv {
		return nil
	}
	if m.Excel {
		if _, err := out.Write([]byte("\ufeff")); err != nil {
			return err
		}
	}
	w.cw = csv.NewWriter(out)
	w.cw.UseCRLF = m.Excel
	return w.cw.Write(Columns)
}

// Row is one row's values, by column.
type Row struct {
	Key               string   `json:"key"`
	Platform          string   `json:"platform"`
	Account           string   `json:"account"`
	Kind              string   `json:"kind"`
	Parent            string   `json:"parent"`
	Author            string   `json:"author"`
	CreatedAt         string   `json:"created_at"`
	EditedAt          string   `json:"edited_at"`
	RemovedAt         string   `json:"removed_at"`
	Text              string   `json:"text"`
	URL               string   `json:"url"`
	Classification    string   `json:"classification"`
	Schedule          string   `json:"schedule"`
	Holds             []string `json:"holds"`
	VersionDigest     string   `json:"version_digest"`
	VersionCapturedAt string   `json:"version_captured_at"`
	Versions          int      `json:"versions"`
	Role              string   `json:"role"`
	Thread            string   `json:"thread"`
	AuthorHandle      string   `json:"author_handle"`
	Redacted          bool     `json:"redacted"`
}

func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// Rows are the rows of one item: one per version exported.
func Rows(it *export.Item) []Row {
	var out []Row
	for _, v := range it.Versions {
		c := v.Content
		r := Row{Key: it.Key, Platform: it.Platform, Account: it.Account, Kind: it.Kind, Parent: it.ParentKey,
			CreatedAt: ts(it.CreatedAt), Text: c.Text, URL: c.URL, Classification: it.Classification, Schedule: it.Schedule,
			Holds: it.Holds, VersionDigest: v.Digest, VersionCapturedAt: ts(v.CapturedAt), Versions: it.VersionCount,
			Role: it.Role, Thread: it.ThreadKey, Redacted: v.Redacted}
		if r.Holds == nil {
			r.Holds = []string{}
		}
		if v.Redacted {
			r.VersionDigest = ""
		}
		if c.Author != nil {
			r.Author = firstOf(c.Author.Name, c.Author.Handle, c.Author.ID)
			r.AuthorHandle = c.Author.Handle
		}
		if c.EditedAt != "" {
			r.EditedAt = c.EditedAt
		}
		if it.RemovedAt != nil {
			r.RemovedAt = ts(*it.RemovedAt)
		}
		out = append(out, r)
	}
	return out
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// Cells are a row's CSV cells, neutralised.
func (r Row) Cells() []string {
	c := []string{r.Key, r.Platform, r.Account, r.Kind, r.Parent, r.Author, r.CreatedAt, r.EditedAt, r.RemovedAt, r.Text, r.URL,
		r.Classification, r.Schedule, strings.Join(r.Holds, ";"), r.VersionDigest, r.VersionCapturedAt, strconv.Itoa(r.Versions),
		r.Role, r.Thread, r.AuthorHandle, strconv.FormatBool(r.Redacted)}
	for i := range c {
		c[i] = Neutralise(c[i])
	}
	return c
}

// Neutralise prefixes a cell a spreadsheet would take for a formula with
// an apostrophe.
func Neutralise(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func (w *writer) Write(ctx context.Context, it *export.Item) error {
	w.items++
	for _, r := range Rows(it) {
		w.rows++
		if w.cw != nil {
			if err := w.cw.Write(r.Cells()); err != nil {
				return err
			}
			continue
		}
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		if _, err := w.out.Write(append(b, '\n')); err != nil {
			return err
		}
	}
	if w.cw != nil {
		w.cw.Flush()
		return w.cw.Error()
	}
	return nil
}

func (w *writer) Finish(ctx context.Context) (export.Manifest, error) {
	if w.cw != nil {
		w.cw.Flush()
		if err := w.cw.Error(); err != nil {
			w.out.Abort()
			return export.Manifest{}, fmt.Errorf("export: write %s: %w; %w: nothing was left at %s", w.meta.Out, err, export.ErrIncomplete, w.meta.Out)
		}
	}
	f, err := w.out.Commit()
	if err != nil {
		return export.Manifest{}, err
	}
	return export.Manifest{Format: w.meta.Format, Path: w.meta.Out, Items: w.items, Versions: w.rows, Files: []export.File{f},
		Bytes: f.Size, SHA256: f.SHA256, DigestOf: f.Path}, nil
}

func (w *writer) Abort() error {
	if w.out != nil {
		return w.out.Abort()
	}
	return nil
}
