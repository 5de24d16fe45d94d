package x

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/collect"
)

// importer is what both importers share: how an item is recorded, and the
// versions of edited tweets held back until the end of the import, so each
// item's versions are recorded oldest first wherever they stand in the
// input (the newest recorded version is the item's latest). Held versions
// wait in a temporary file; memory keeps a few dozen bytes of each.
type importer struct {
	sink    collect.Sink
	account archive.Account
	held    []heldRef
	spill   *spill // the held versions
	// fsys and mediaDirs: where an archive's media files are.
	fsys fs.FS
	// notes are an archive's long posts, joined to their tweets.
	notes *notes
}

// heldRef is where a held version is in the spill file, and its order.
type heldRef struct {
	item    string
	pos     int
	created int64
	at      spillRef
}

// heldVersion is a held version as the spill file keeps it.
type heldVersion struct {
	F         factsRec            `json:"f"`
	Own       bool                `json:"own,omitempty"`
	Opts      archive.ItemOptions `json:"opts"`
	MediaDirs []string            `json:"media_dirs,omitempty"`
}

// factsRec is facts with exported fields, to be written and read back.
type factsRec struct {
	ID, Text, AuthorID, AuthorHandle, Conversation, Parent, Lang, Ptr, Withheld string
	Chain, Links, Hashtags, Mentions                                            []string
	Created                                                                     time.Time
	Quoted                                                                      bool
	Media                                                                       []mediaRec
	Metrics                                                                     map[string]int64
}

type mediaRec struct{ URL, Type, Alt, File string }

func toRec(f *facts) factsRec {
	r := factsRec{ID: f.id, Text: f.text, AuthorID: f.authorID, AuthorHandle: f.authorHandle, Conversation: f.conversation,
		Parent: f.parent, Lang: f.lang, Ptr: f.ptr, Withheld: f.withheld, Chain: f.chain, Links: f.links, Hashtags: f.hashtags,
		Mentions: f.mentions, Created: f.created, Quoted: f.quoted, Metrics: f.metrics}
	for _, m := range f.media {
		r.Media = append(r.Media, mediaRec{URL: m.url, Type: m.typ, Alt: m.alt, File: m.file})
	}
	return r
}

func (r *factsRec) facts() *facts {
	f := &facts{id: r.ID, text: r.Text, authorID: r.AuthorID, authorHandle: r.AuthorHandle, conversation: r.Conversation,
		parent: r.Parent, lang: r.Lang, ptr: r.Ptr, withheld: r.Withheld, chain: r.Chain, links: r.Links, hashtags: r.Hashtags,
		mentions: r.Mentions, created: r.Created, quoted: r.Quoted, metrics: r.Metrics}
	for _, m := range r.Media {
		f.media = append(f.media, mediaRef{url: m.URL, typ: m.Type, alt: m.Alt, file: m.File})
	}
	return f
}

// add records f, or holds it back when it is a version of an edited tweet.
func (im *importer) add(ctx context.Context, f *facts, own bool, o archive.ItemOptions, mediaDirs []string) error {
	if len(f.chain) <= 1 {
		return im.record(ctx, f, own, o, mediaDirs)
	}
	if im.spill == nil {
		sp, err := newSpill("edits")
		if err != nil {
			return fmt.Errorf("hold edited tweets: %w", err)
		}
		im.spill = sp
	}
	at, err := im.spill.put(heldVersion{F: toRec(f), Own: own, Opts: o, MediaDirs: mediaDirs})
	if err != nil {
		return fmt.Errorf("hold tweet %s: %w", f.id, err)
	}
	pos := slices.Index(f.chain, f.id)
	if pos < 0 {
		pos = len(f.chain)
	}
	im.held = append(im.held, heldRef{item: f.itemID(), pos: pos, created: f.created.UnixNano(), at: at})
	return nil
}

// flushHeld records the held versions, each item's oldest first.
func (im *importer) flushHeld(ctx context.Context) error {
	if len(im.held) == 0 {
		return nil
	}
	slices.SortStableFunc(im.held, func(a, b heldRef) int {
		return cmp.Or(cmp.Compare(a.item, b.item), cmp.Compare(a.pos, b.pos), cmp.Compare(a.created, b.created))
	})
	for _, h := range im.held {
		var hv heldVersion
		if err := im.spill.get(h.at, &hv); err != nil {
			return fmt.Errorf("read held edits: %w", err)
		}
		if err := im.record(ctx, hv.F.facts(), hv.Own, hv.Opts, hv.MediaDirs); err != nil {
			return err
		}
	}
	im.held = nil
	return nil
}

// close removes the spill file.
func (im *importer) close() {
	im.spill.close()
	im.spill = nil
}

// record adds one version to the sink: media files first (from an
// archive's media folders), then the item. A refused item is reported
// with Bad; only a failing sink ends the import.
func (im *importer) record(ctx context.Context, f *facts, own bool, o archive.ItemOptions, mediaDirs []string) error {
	it := f.item(im.account.Handle, own)
	if len(mediaDirs) > 0 && im.fsys != nil {
		for i, m := range f.itemMedia() {
			if m.file != "" {
				if err := im.attach(ctx, &it.Media[i], m, mediaDirs); err != nil {
					return err
				}
			}
		}
	}
	o.Metrics = f.metricsJSON()
	err := im.sink.AddItem(ctx, it, o)
	if errors.Is(err, archive.ErrBadInput) {
		im.sink.Bad(&archive.InputError{Source: o.Source, Line: o.Line, Err: fmt.Errorf("tweet %s: %w", f.id, err)})
		return nil
	}
	return err
}

// attach stores an archive's media file and sets its digest. A file that
// is not there is no error (archives leave out the media of retweets);
// one that cannot be read or is not an image or video is reported.
func (im *importer) attach(ctx context.Context, m *archive.Media, ref mediaRef, dirs []string) error {
	for _, dir := range dirs {
		name := path.Join(dir, ref.file)
		if _, err := fs.Stat(im.fsys, name); err != nil {
			continue
		}
		d, err := fileDownload(im.fsys, name, ref.url)
		if err != nil {
			im.sink.Bad(&archive.InputError{Source: name, Err: err, Media: true})
			return nil
		}
		digest, err := storeMedia(ctx, im.sink, d)
		if err != nil {
			return fmt.Errorf("store media %s: %w", name, err)
		}
		m.Digest = digest
		return nil
	}
	return nil
}
