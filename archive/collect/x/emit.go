package x

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/collect"
)

// maxHeldVersions bounds the versions of edited tweets an import holds
// back to record them oldest first; past it they are recorded as they come.
const maxHeldVersions = 100_000

// importer is what both importers share: how an item is recorded, and the
// versions of edited tweets held back until the end of the import, so each
// item's versions are recorded oldest first wherever they stand in the
// input (the newest recorded version is the item's latest).
type importer struct {
	sink    collect.Sink
	account archive.Account
	held    []heldVersion
	// fsys and mediaDirs: where an archive's media files are.
	fsys fs.FS
	// notes are an archive's long posts, joined to their tweets.
	notes *notes
}

type heldVersion struct {
	f         *facts
	own       bool
	opts      archive.ItemOptions
	mediaDirs []string
}

// add records f, or holds it back when it is a version of an edited tweet.
func (im *importer) add(ctx context.Context, f *facts, own bool, o archive.ItemOptions, mediaDirs []string) error {
	if len(f.chain) > 1 && len(im.held) < maxHeldVersions {
		im.held = append(im.held, heldVersion{f: f, own: own, opts: o, mediaDirs: mediaDirs})
		return nil
	}
	return im.record(ctx, f, own, o, mediaDirs)
}

// flushHeld records the held versions, each item's oldest first.
func (im *importer) flushHeld(ctx context.Context) error {
	pos := func(h heldVersion) int {
		if i := slices.Index(h.f.chain, h.f.id); i >= 0 {
			return i
		}
		return len(h.f.chain)
	}
	slices.SortStableFunc(im.held, func(a, b heldVersion) int {
		return cmp.Or(cmp.Compare(a.f.itemID(), b.f.itemID()), cmp.Compare(pos(a), pos(b)), a.f.created.Compare(b.f.created))
	})
	for _, h := range im.held {
		if err := im.record(ctx, h.f, h.own, h.opts, h.mediaDirs); err != nil {
			return err
		}
	}
	im.held = nil
	return nil
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
