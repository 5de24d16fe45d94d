// Package export turns a selection of archived items into a stream that
// format writers (export/bagit, export/tabular, export/warc, …) write out.
//
// The contract has three parts:
//
//   - Item is one archived item as every format sees it: identity (key,
//     platform, account, kind, parent, thread), authorship and times
//     (created, edited, removed at source, first and last captured), the
//     latest text and URL, records management (classification, schedule,
//     exemptions, holds), the versions exported (each with its digest,
//     capture time and normalised content), the raw platform responses and
//     media the captures stored (by digest, opened through Blobs), and,
//     in a redacted export, where redactions were made.
//   - Source yields the selected items one at a time in a stable order
//     (see Source.Each) without loading the selection into memory, and
//     opens blobs from the store, checking their digests as they are read.
//   - Writer is one format's output: Begin(meta), Write(item) for each
//     item, Finish() returning a Manifest of what it wrote and its digest,
//     or Abort() removing what it wrote. A Format names a Writer
//     constructor; a Registry lists the formats a command offers.
//
// What a Writer may rely on: Write is called in the Source's order, from
// one goroutine; the Source builds each *Item anew and never changes it
// once yielded, so a writer may keep it (and read it from other
// goroutines) after Write returns; in a redacted export
// (Meta.Redacted) the item's text, versions' content and author are
// already redacted, Item.Raw is empty (raw platform responses cannot be
// redacted and are never exported redacted), and Item.Redactions says
// where redactions were made, never what was taken out.
//
// What a Writer must do: write nothing at Out until Finish (build in a
// temporary sibling, see NewPendingFile and NewPendingDir, and move into
// place at Finish); never replace an existing path unless Meta.Force; on
// any error (a full disk) leave no partial export at Out, and say so.
// Abort after Finish is a no-op; Abort before Begin or twice is safe.
package export

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/osmarc/osmarc/archive"
)

// Errors callers test with errors.Is.
var (
	// ErrUnknownFormat: no format of that name is registered.
	ErrUnknownFormat = errors.New("unknown export format")
	// ErrExists: the output path exists and Force was not given.
	ErrExists = errors.New("already exists")
	// ErrEmpty: the selection holds no item; nothing was written.
	ErrEmpty = errors.New("the selection is empty")
	// ErrIncomplete: the export failed part way; what was written was
	// removed (the error says so, or says where a remnant is).
	ErrIncomplete = errors.New("export incomplete")
)

// Item is one archived item as an export writes it. Times are UTC.
type Item struct {
	Key      string `json:"key"`
	Platform string `json:"platform"`
	Account  string `json:"account"`
	// ID is the platform's own id.
	ID   string `json:"id"`
	Kind string `json:"kind"`
	// Parent and Thread are the platform ids the item gives (the post a
	// comment answers, the thread's root); ParentKey and ThreadKey are the
	// archive keys of those items. ThreadKey is the item's own key for a
	// root, so every item has one.
	Parent    string `json:"parent,omitempty"`
	Thread    string `json:"thread,omitempty"`
	ParentKey string `json:"parent_key,omitempty"`
	ThreadKey string `json:"thread_key"`

	Author    *archive.Author `json:"author,omitempty"`
	Lang      string          `json:"lang,omitempty"`
	URL       string          `json:"url,omitempty"`
	Text      string          `json:"text"`
	CreatedAt time.Time       `json:"created_at"`
	// EditedAt is the latest version's edit time as the platform gave
	// it; zero when it gave none (Edited may still be true: a second
	// version was captured).
	EditedAt time.Time `json:"edited_at,omitzero"`
	Edited   bool      `json:"edited"`
	// RemovedAt is when the item was found removed at its source.
	RemovedAt     *time.Time `json:"removed_at,omitempty"`
	FirstCaptured time.Time  `json:"first_captured"`
	LastCaptured  time.Time  `json:"last_captured"`

	// Records management.
	Classification string   `json:"classification,omitempty"`
	Schedule       string   `json:"schedule,omitempty"`
	Exemptions     []string `json:"exemptions,omitempty"`
	Holds          []string `json:"holds,omitempty"`

	// Role is RoleSelected, or RoleThread for an item brought in only
	// because it is in a selected item's thread (--threads).
	Role string `json:"role"`

	// Versions are the versions exported, oldest first: only the latest
	// unless Meta.Versions is VersionsAll. VersionCount is how many the
	// archive holds.
	Versions     []Version `json:"versions"`
	VersionCount int       `json:"version_count"`

	// Raw are the raw platform responses that hold the exported versions,
	// each once; Media the item's media files the captures stored.
	Raw   []Blob  `json:"raw,omitempty"`
	Media []Media `json:"media,omitempty"`

	// Redactions says where redactions were made in this item (never the
	// text taken out); empty in an export without redaction.
	Redactions []Redaction `json:"redactions,omitempty"`
}

// Item roles.
const (
	RoleSelected = "selected"
	RoleThread   = "thread"
)

// Latest is the newest version exported.
func (it *Item) Latest() *Version { return &it.Versions[len(it.Versions)-1] }

// Version is one version of an item.
type Version struct {
	// Digest is the SHA-256 of the version's canonical JSON in the
	// archive. In a redacted export it still names the archived version
	// (Redacted says the content differs from it); writers that publish
	// digests of redacted items should think twice: a digest lets anyone
	// test guesses at what was taken out.
	Digest     string    `json:"digest"`
	Size       int64     `json:"size"`
	CapturedAt time.Time `json:"captured_at"`
	Capture    string    `json:"capture"`
	// Content is the normalised item of this version (redacted when
	// Redacted).
	Content  *archive.Item `json:"content"`
	Redacted bool          `json:"redacted,omitempty"`
	// Archived is the version's bytes as archived (their SHA-256 was
	// checked against Digest when they were read), when the Source read
	// them and the version is not redacted; writers that publish the
	// archived JSON byte for byte take it instead of encoding Content
	// again. Nil otherwise.
	Archived []byte `json:"-"`
}

// Blob is a stored blob an item refers to; open it with Meta.Blobs.
type Blob struct {
	Digest string `json:"digest"`
	Size   int64  `json:"size,omitempty"`
	// CapturedAt is when the first capture that stored it for this item
	// saw the item; Capture is that capture's id.
	CapturedAt time.Time `json:"captured_at"`
	Capture    string    `json:"capture,omitempty"`
}

// Media is a media file of an item.
type Media struct {
	Blob
	// URL, Type and Alt are what the item's version says of it, when the
	// file can be matched to one of its media entries.
	URL  string `json:"url,omitempty"`
	Type string `json:"type,omitempty"`
	Alt  string `json:"alt,omitempty"`
}

// Redaction is one place a redaction was made: the field, what kind of
// text (manual, span, email, phone, …), how many occurrences, who decided
// and on what ground. Never the text itself.
type Redaction struct {
	Field     string `json:"field"`
	Kind      string `json:"kind"`
	Count     int    `json:"count"`
	Decision  string `json:"decision"`
	DecidedBy string `json:"decided_by"`
	Exemption string `json:"exemption,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

// Withheld is an item of a request's selection withheld entirely under an
// exemption: it is not in the export, only in its withholding log.
type Withheld struct {
	Key       string    `json:"key"`
	Platform  string    `json:"platform"`
	Account   string    `json:"account"`
	Kind      string    `json:"kind"`
	CreatedAt time.Time `json:"created_at"`
	Exemption string    `json:"exemption"`
	Citation  string    `json:"citation,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	DecidedBy string    `json:"decided_by"`
	DecidedAt time.Time `json:"decided_at"`
}

// Blobs opens stored blobs by digest. The reader checks the bytes against
// the digest as they are read: a mismatch is an error (wrapping
// archive.ErrDigestMismatch) from the Read that reaches the end, so a
// writer that copies to EOF never writes damaged content silently. A
// missing blob is an error wrapping archive.ErrNotFound.
type Blobs interface {
	Open(ctx context.Context, digest string) (io.ReadCloser, error)
}

// Versions choices.
const (
	VersionsLatest = "latest"
	VersionsAll    = "all"
)

// Selection describes what was selected, for the record (bag-info,
// chain of custody, the journal event). It is a description; the Source
// does the selecting.
type Selection struct {
	Query string `json:"query,omitempty"`
	// Filters are the selection flags given ("account": ["a", "b"]).
	Filters map[string][]string `json:"filters,omitempty"`
	// Request and Hold name the open-records request or legal hold the
	// export is for (External-Identifier in a bag).
	Request  string `json:"request,omitempty"`
	Hold     string `json:"hold,omitempty"`
	Threads  bool   `json:"threads"`
	Versions string `json:"versions"`
	Media    bool   `json:"media"`
	Redact   bool   `json:"redact"`
}

// String describes the selection in one line for people.
func (s Selection) String() string {
	var parts []string
	if s.Request != "" {
		parts = append(parts, "items of open-records request "+s.Request)
	}
	if s.Query != "" {
		parts = append(parts, fmt.Sprintf("query %q", s.Query))
	}
	names := make([]string, 0, len(s.Filters))
	for k := range s.Filters {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		parts = append(parts, "--"+k+" "+strings.Join(s.Filters[k], ","))
	}
	if len(parts) == 0 {
		parts = append(parts, "every item")
	}
	if s.Threads {
		parts = append(parts, "with their threads")
	}
	v := s.Versions
	if v == "" {
		v = VersionsLatest
	}
	parts = append(parts, v+" versions")
	if s.Media {
		parts = append(parts, "with media")
	}
	if s.Redact {
		parts = append(parts, "redacted")
	}
	return strings.Join(parts, "; ")
}

// JournalHead is the journal's head at export time: the hash that proves
// which state of the archive the export was taken from.
type JournalHead struct {
	Seq  uint64 `json:"seq"`
	Hash string `json:"hash"`
}

// Meta is what a Writer is told before the first item.
type Meta struct {
	// Format is the format's name; Out the path the export goes to
	// (a directory for bagit, a file for csv …), absolute.
	Format string
	Out    string
	// Force allows replacing an existing Out (only once the new export is
	// complete).
	Force bool

	ArchiveID string
	// Organization is the Source-Organization of a bag; may be empty.
	Organization string
	// Exporter is who exports (the journal's actor), ExportedAt when.
	Exporter      string
	ExportedAt    time.Time
	OsmarcVersion string
	JournalHead   JournalHead
	Selection     Selection

	// Versions is VersionsLatest or VersionsAll; Media says whether
	// media files are to be written; Redacted whether items come
	// redacted; Withheld the items withheld from a redacted export.
	Versions string
	Media    bool
	Redacted bool
	Withheld []Withheld

	// Guard, when set, wraps every file a writer creates: in a redacted
	// export it fails a write that would hold redacted text (a last line
	// of defence; the items come redacted).
	Guard func(name string, w io.WriteCloser) io.WriteCloser

	// Excel asks CSV writers for a UTF-8 byte-order mark.
	Excel bool

	// Blobs opens raw responses and media.
	Blobs Blobs

	// Extra, when set, is called by writers that hold many files (bagit)
	// before Finish seals them, to add payload files of the caller's own:
	// request produce's items.jsonl, withholding and redaction logs and
	// summary, which then take the place of the writer's own logs. create
	// makes a payload file by its slash-separated name.
	Extra func(ctx context.Context, create func(name string) (io.WriteCloser, error)) error

	// AllowEmpty makes Run write an export with no item (a request whose
	// items are all withheld is still produced: its withholding log says
	// so) instead of returning ErrEmpty.
	AllowEmpty bool
}

// Manifest says what a Writer wrote.
type Manifest struct {
	Format string `json:"format"`
	Path   string `json:"path"`
	Items  int    `json:"items"`
	// Versions is the number of versions written (one per item unless
	// every version was asked for).
	Versions int `json:"versions"`
	// Files are the top-level files of the export with their digests: the
	// one file of a single-file format, the tag files of a bag (whose
	// manifests list every payload file).
	Files []File `json:"files"`
	// Bytes is the total size of what was written.
	Bytes int64 `json:"bytes"`
	// SHA256 identifies the whole export: the file's digest, or for a bag
	// the digest of its tag manifest. DigestOf names what it is of.
	SHA256   string `json:"sha256"`
	DigestOf string `json:"digest_of"`
	// PayloadOxum is a bag's "octets.files".
	PayloadOxum string `json:"payload_oxum,omitempty"`
}

// File is one file of an export.
type File struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Writer writes one export in one format. See the package doc for what
// callers guarantee and what writers must do.
type Writer interface {
	// Begin prepares the output; it fails with ErrExists if Out exists
	// and Force is false, before writing anything.
	Begin(ctx context.Context, m Meta) error
	// Write writes one item.
	Write(ctx context.Context, it *Item) error
	// Finish completes the export and moves it into place.
	Finish(ctx context.Context) (Manifest, error)
	// Abort removes everything written so far.
	Abort() error
}

// Format is one export format.
type Format struct {
	// Name is what --format takes ("bagit", "csv", …).
	Name string
	// Description is one line for --help.
	Description string
	// Dir is true when the export is a directory, false for one file.
	Dir bool
	// New returns a writer; Begin is called next.
	New func() Writer
}

// Registry is the list of formats a command offers, built explicitly by
// the caller (no registration in init).
type Registry struct {
	formats []Format
}

// NewRegistry returns a registry of the formats given.
func NewRegistry(fs ...Format) *Registry {
	r := &Registry{}
	for _, f := range fs {
		r.Add(f)
	}
	return r
}

// Add adds a format; a second format of the same name replaces the first.
func (r *Registry) Add(f Format) {
	if i := slices.IndexFunc(r.formats, func(g Format) bool { return g.Name == f.Name }); i >= 0 {
		r.formats[i] = f
		return
	}
	r.formats = append(r.formats, f)
}

// Names lists the formats in the order added.
func (r *Registry) Names() []string {
	out := make([]string, len(r.formats))
	for i, f := range r.formats {
		out[i] = f.Name
	}
	return out
}

// Lookup returns the format of that name, or an error wrapping
// ErrUnknownFormat that lists the formats there are.
func (r *Registry) Lookup(name string) (Format, error) {
	for _, f := range r.formats {
		if f.Name == name {
			return f, nil
		}
	}
	return Format{}, fmt.Errorf("%w %q (formats: %s)", ErrUnknownFormat, name, strings.Join(r.Names(), ", "))
}

// Formats lists the formats.
func (r *Registry) Formats() []Format { return slices.Clone(r.formats) }

// MarshalItemJSON writes it as one line of JSON, without HTML escaping,
// for writers that store items as JSON.
func MarshalItemJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
