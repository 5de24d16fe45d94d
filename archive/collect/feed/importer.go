package feed

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/collect"
	"github.com/osmarc/osmarc/archive/collect/internal/kit"
)

// MaxFile bounds a feed file the importer reads (a feed is parsed whole).
const MaxFile = 256 << 20

// Importer reads saved feed files (format "feed"): RSS, Atom or JSON
// Feed, one feed per file, each kept whole as raw input. Entries map as
// the collector maps them; an entry without a date takes the feed's own
// date, else the file's modification time (the collector, which cannot
// know either, uses the time it first saw the entry).
type Importer struct{}

var _ collect.Importer = Importer{}

// NewImporter returns the feed importer.
func NewImporter() collect.Importer { return Importer{} }

func (Importer) Format() string   { return "feed" }
func (Importer) Platform() string { return Platform }

var feedExts = []string{".xml", ".rss", ".atom", ".json", ".feed", ".rdf"}

// Sniff looks for an RSS or Atom root, or a JSON Feed version.
func (Importer) Sniff(src collect.Source) bool {
	h := kit.Head(src, 4096, feedExts...)
	return bytes.Contains(h, []byte("<rss")) || bytes.Contains(h, []byte("<rdf:RDF")) ||
		(bytes.Contains(h, []byte("<feed")) && bytes.Contains(h, []byte("http://www.w3.org/2005/Atom"))) ||
		bytes.Contains(h, []byte("jsonfeed.org/version"))
}

// Import implements collect.Importer.
func (Importer) Import(ctx context.Context, src collect.Source, account archive.Account, sink collect.Sink) error {
	files, err := kit.Files(src, feedExts...)
	if err != nil {
		return err
	}
	for _, p := range files {
		if err := importFile(ctx, src, p, account, sink); err != nil {
			return err
		}
	}
	return nil
}

func importFile(ctx context.Context, src collect.Source, p string, account archive.Account, sink collect.Sink) error {
	name := kit.FileName(src, p)
	f, err := src.FS.Open(p)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	defer f.Close()
	body, err := io.ReadAll(io.LimitReader(f, MaxFile+1))
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if len(body) > MaxFile {
		sink.Bad(&archive.InputError{Source: name, Err: fmt.Errorf("larger than %d MB: not a feed this importer reads", MaxFile>>20)})
		return nil
	}
	d, err := sink.PutRaw(ctx, body, name, "", "")
	if err != nil {
		return fmt.Errorf("%s: keep raw: %w", name, err)
	}
	feed, err := Parse(body)
	if err != nil {
		sink.Bad(&archive.InputError{Source: name, Err: fmt.Errorf("not a feed: %v", err)})
		return nil
	}
	var fallback time.Time
	switch {
	case feed.UpdatedParsed != nil:
		fallback = *feed.UpdatedParsed
	case feed.PublishedParsed != nil:
		fallback = *feed.PublishedParsed
	default:
		if st, err := fs.Stat(src.FS, p); err == nil {
			fallback = st.ModTime()
		}
	}
	var firstSeen func(string) time.Time
	if !fallback.IsZero() {
		firstSeen = func(string) time.Time { return fallback.Truncate(time.Second) }
	}
	for _, e := range Entries(feed, account.Handle, firstSeen) {
		if e.Item.CreatedAt == "" {
			sink.Bad(&archive.InputError{Source: name, Err: fmt.Errorf("%s: entry %s has no date, nor has the feed", e.Path, e.Item.ID)})
			continue
		}
		o := archive.ItemOptions{Raw: &d, RawPath: e.Path, Source: name}
		if err := kit.Add(ctx, sink, e.Item, o); err != nil {
			return err
		}
	}
	return nil
}
