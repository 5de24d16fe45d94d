// Package html renders exported items for people: static HTML thread
// pages (each thread a section: the post and its comments, nested by
// reply, every version exported side by side, removed-at-source and
// edited markers, media),
// and the offline viewer of a package: index.html with its own small CSS
// and JavaScript, which reads the package's items from plain script files
// beside it, so it opens from disk in any browser with no server and no
// network, and searches within the package.
//
// Every archived string is escaped: thread pages as html/template escapes
// them (see thread.go); the viewer page goes through html/template;
// the viewer's data is JSON with <, > and & escaped, inserted into the page
// with textContent only, never as markup. Pages load nothing from outside
// the package: their Content-Security-Policy allows no connection and no
// image, script or style from any other origin.
package html

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/osmarc/osmarc/export"
)

// Item is what the pages show of one item. It is built from an
// export.Item by NewItem and is also the viewer's record of it.
type Item struct {
	Key      string `json:"key"`
	Platform string `json:"platform"`
	Account  string `json:"account"`
	Kind     string `json:"kind"`
	Role     string `json:"role"`
	Parent   string `json:"parent,omitempty"`
	Thread   string `json:"thread"`
	Author   string `json:"author,omitempty"`
	Handle   string `json:"handle,omitempty"`
	Lang     string `json:"lang,omitempty"`
	URL      string `json:"url,omitempty"`
	Created  string `json:"created"`
	Edited   string `json:"edited,omitempty"`
	// IsEdited: the archive holds more than one version.
	IsEdited     bool      `json:"is_edited"`
	Removed      string    `json:"removed,omitempty"`
	VersionCount int       `json:"version_count"`
	Versions     []Version `json:"versions"`
	Media        []Media   `json:"media,omitempty"`
	Class        string    `json:"class,omitempty"`
	Schedule     string    `json:"schedule,omitempty"`
	Holds        []string  `json:"holds,omitempty"`
	// Redactions say where redactions were made ("text: phone ×1").
	Redactions []string `json:"redactions,omitempty"`
	// ItemPath and ThreadPath are the item's JSON and its thread's page,
	// relative to the package's data directory.
	ItemPath   string `json:"item_path"`
	ThreadPath string `json:"thread_path"`
}

// Version is one version shown.
type Version struct {
	// Digest is empty for a redacted version.
	Digest   string `json:"digest,omitempty"`
	Captured string `json:"captured"`
	Edited   string `json:"edited,omitempty"`
	Text     string `json:"text"`
	Redacted bool   `json:"redacted,omitempty"`
}

// Media is a media file shown: Path relative to the data directory (empty
// when media were not exported).
type Media struct {
	Path   string `json:"path,omitempty"`
	Digest string `json:"digest"`
	Type   string `json:"type,omitempty"`
	Alt    string `json:"alt,omitempty"`
	URL    string `json:"url,omitempty"`
	Image  bool   `json:"image,omitempty"`
}

func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// NewItem builds the shown item. mediaPath gives a media file's path in
// the package ("" if not exported) and whether it is an image.
func NewItem(it *export.Item, itemPath, threadPath string, mediaPath func(digest string) (string, bool)) Item {
	v := Item{Key: it.Key, Platform: it.Platform, Account: it.Account, Kind: it.Kind, Role: it.Role, Parent: it.ParentKey,
		Thread: it.ThreadKey, Lang: it.Lang, URL: it.URL, Created: ts(it.CreatedAt), Edited: ts(it.EditedAt), IsEdited: it.Edited,
		VersionCount: it.VersionCount, Class: it.Classification, Schedule: it.Schedule, Holds: it.Holds,
		ItemPath: itemPath, ThreadPath: threadPath}
	if it.Author != nil {
		v.Author, v.Handle = it.Author.Name, it.Author.Handle
		if v.Author == "" {
			v.Author = it.Author.ID
		}
	}
	if it.RemovedAt != nil {
		v.Removed = ts(*it.RemovedAt)
	}
	for _, ver := range it.Versions {
		sv := Version{Digest: ver.Digest, Captured: ts(ver.CapturedAt), Text: ver.Content.Text, Redacted: ver.Redacted, Edited: ver.Content.EditedAt}
		if ver.Redacted {
			sv.Digest = ""
		}
		v.Versions = append(v.Versions, sv)
	}
	for _, m := range it.Media {
		p, img := mediaPath(m.Digest)
		v.Media = append(v.Media, Media{Path: p, Digest: m.Digest, Type: m.Type, Alt: m.Alt, URL: m.URL, Image: img})
	}
	for _, r := range it.Redactions {
		v.Redactions = append(v.Redactions, fmt.Sprintf("%s: %s ×%d (%s)", r.Field, r.Kind, r.Count, r.Decision))
	}
	return v
}

// Thread is one thread's items.
type Thread struct {
	Key   string
	Items []Item
}

// Page is what a thread page says before its threads. A package's thread
// pages each hold several threads (one file per thread would make a
// large export wait on creating files): each thread is a section whose
// id is ThreadID of its key, so a link to page#id opens at the thread.
type Page struct {
	// Heading says which threads the page holds.
	Heading string
	// Title says what the package is.
	Title string
	// Base is the relative path from the page to the data directory
	// ("../../../"), which item and media paths are relative to.
	Base string
	// Threads are the page's threads in the order their sections follow.
	Threads []Contents
}

// Contents is one line of a page's table of threads.
type Contents struct {
	Key   string
	Items int
}

// ThreadID is the id of a thread's section on its page.
func ThreadID(threadKey string) string { return "thread-" + threadKey }

// node is an item with its replies, as the page nests them.
type node struct {
	Item
	Replies []*node
	// Missing: the item this one answers is not in the package.
	Orphan bool
}

var funcs = template.FuncMap{
	"join": strings.Join,
	"inc":  func(i int) int { return i + 1 },
}

// ThreadCSS is the thread pages' stylesheet, style.css in the package's
// data directory (one copy, not one per page).
//
//go:embed thread.css
var ThreadCSS string

// AppendPageHead appends a thread page's start to dst: its head, heading
// and table of threads. The page is AppendPageHead, then AppendThread for
// each of p.Threads in order, then PageEnd.
func AppendPageHead(dst []byte, p Page) []byte { return appendPageHead(dst, &p) }

// AppendThread appends a thread's section of a page whose Base is base:
// the items nested by reply, oldest first at each level; an item whose
// parent is not in the package is shown at the top level, marked.
// th.Items is sorted in place.
func AppendThread(dst []byte, base string, th Thread) []byte {
	sort.SliceStable(th.Items, func(i, j int) bool {
		if th.Items[i].Created != th.Items[j].Created {
			return th.Items[i].Created < th.Items[j].Created
		}
		return th.Items[i].Key < th.Items[j].Key
	})
	nodes := make([]node, len(th.Items))
	byKey := make(map[string]*node, len(th.Items))
	for i, it := range th.Items {
		// Media paths are relative to the data directory; the page is
		// not (the item's own Media is left as it is).
		if len(it.Media) > 0 {
			ms := make([]Media, len(it.Media))
			for j, m := range it.Media {
				if m.Path != "" {
					m.Path = base + m.Path
				}
				ms[j] = m
			}
			it.Media = ms
		}
		nodes[i].Item = it
		byKey[it.Key] = &nodes[i]
	}
	var roots []*node
	for i := range nodes {
		n := &nodes[i]
		if p, ok := byKey[n.Parent]; ok && n.Parent != n.Key {
			p.Replies = append(p.Replies, n)
			continue
		}
		n.Orphan = n.Parent != ""
		roots = append(roots, n)
	}
	return appendSection(dst, &th, roots)
}

//go:embed viewer.html.tmpl
var viewerTmpl string

var viewerPage = template.Must(template.New("viewer").Funcs(funcs).Parse(viewerTmpl))

// Viewer is what index.html says of the package.
type Viewer struct {
	Title       string
	Description string
	ExportedAt  string
	Exporter    string
	ArchiveID   string
	JournalHead string
	JournalSeq  uint64
	Items       int
	Redacted    bool
	// Scripts are the data files, relative to index.html.
	Scripts []string
}

// WriteViewer writes index.html.
func WriteViewer(w io.Writer, v Viewer) error { return viewerPage.Execute(w, v) }

// DataScript returns one data file's content: a call that hands the
// viewer a chunk of items. The JSON escapes <, > and &, so no archived
// text can end the script or open markup.
func DataScript(items []Item) ([]byte, error) {
	b, err := json.Marshal(items) // escapes <, >, & and U+2028/2029
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.WriteString("osmarcItems(")
	buf.Write(b)
	buf.WriteString(");\n")
	return buf.Bytes(), nil
}
