package bluesky

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/collect"
	"github.com/osmarc/osmarc/archive/collect/internal/kit"
)

// APIImporter reads saved Bluesky API responses (format "bluesky-api"):
// app.bsky.feed.getAuthorFeed ({"feed": [...], "cursor": ...}),
// app.bsky.feed.getPostThread ({"thread": ...}) and app.bsky.feed.getPosts
// ({"posts": [...]}) outputs, one response per file or per JSON line, or a
// plain array of feed items or post views. Items map exactly as the live
// collector maps them.
type APIImporter struct{}

var _ collect.Importer = APIImporter{}

// NewAPIImporter returns the bluesky-api importer.
func NewAPIImporter() collect.Importer { return APIImporter{} }

func (APIImporter) Format() string   { return "bluesky-api" }
func (APIImporter) Platform() string { return Platform }

var savedExts = []string{".json", ".jsonl", ".ndjson"}

// Sniff looks for at:// post URIs and the app.bsky types.
func (APIImporter) Sniff(src collect.Source) bool {
	h := kit.Head(src, 8192, savedExts...)
	return bytes.Contains(h, []byte(`"at://`)) && (bytes.Contains(h, []byte(`app.bsky.feed`)) || bytes.Contains(h, []byte(`"indexedAt"`)))
}

// Import implements collect.Importer.
func (APIImporter) Import(ctx context.Context, src collect.Source, account archive.Account, sink collect.Sink) error {
	files, err := kit.Files(src, savedExts...)
	if err != nil {
		return err
	}
	for _, f := range files {
		err := kit.ReadSaved(ctx, src.FS, f, kit.FileName(src, f), sink, func(s *kit.Saved) error {
			im := &importer{ctx: ctx, s: s, handle: account.Handle, sink: sink}
			return im.value(s.Value, "")
		})
		if err != nil {
			return err
		}
	}
	return nil
}

type importer struct {
	ctx    context.Context
	s      *kit.Saved
	handle string
	sink   collect.Sink
}

func (im *importer) bad(where string, err error) error {
	if where == "" {
		where = "response"
	}
	im.s.Bad(im.sink, where, err)
	return nil
}

// value reads one response (or one element of a streamed array).
func (im *importer) value(v json.RawMessage, ptr string) error {
	v = bytes.TrimSpace(kit.ValidUTF8Bytes(v))
	if len(v) > 0 && v[0] == '[' {
		var raws []json.RawMessage
		if err := json.Unmarshal(v, &raws); err != nil {
			return im.bad(ptr, err)
		}
		for i, raw := range raws {
			if err := im.entity(raw, ptr+kit.Pointer(i)); err != nil {
				return err
			}
		}
		return nil
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(v, &probe); err != nil {
		return im.bad(ptr, err)
	}
	switch {
	case probe["feed"] != nil:
		var fr FeedResponse
		if err := json.Unmarshal(v, &fr); err != nil {
			return im.bad(ptr, err)
		}
		for i, raw := range fr.Feed {
			if err := im.feedItem(raw, ptr+kit.Pointer("feed", i)); err != nil {
				return err
			}
		}
		return nil
	case probe["thread"] != nil:
		return im.thread(probe["thread"], ptr+"/thread")
	case probe["posts"] != nil:
		var pr PostsResponse
		if err := json.Unmarshal(v, &pr); err != nil {
			return im.bad(ptr, err)
		}
		for i, raw := range pr.Posts {
			if err := im.post(raw, ptr+kit.Pointer("posts", i)); err != nil {
				return err
			}
		}
		return nil
	}
	return im.entity(v, ptr)
}

// entity is a feed item or a post view on its own.
func (im *importer) entity(raw json.RawMessage, ptr string) error {
	var probe struct {
		Post json.RawMessage `json:"post"`
		URI  string          `json:"uri"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return im.bad(ptr, err)
	}
	switch {
	case probe.Post != nil:
		return im.feedItem(raw, ptr)
	case probe.URI != "":
		return im.post(raw, ptr)
	}
	return im.bad(ptr, errors.New("not a Bluesky feed item, post, thread or getAuthorFeed response"))
}

func (im *importer) feedItem(raw json.RawMessage, ptr string) error {
	var fv FeedViewPost
	if err := json.Unmarshal(raw, &fv); err != nil {
		return im.bad(ptr, err)
	}
	if fv.Post == nil {
		return im.bad(ptr, errors.New("feed item has no post"))
	}
	if fv.Reason != nil && len(fv.Reason.Type) > 0 && bytes.HasSuffix([]byte(fv.Reason.Type), []byte("#reasonRepost")) {
		it, err := RepostItem(&fv, im.handle)
		if err != nil {
			return im.bad(ptr, err)
		}
		return kit.Add(im.ctx, im.sink, it, im.s.Opts(ptr, Metrics(fv.Post)))
	}
	return im.add(fv.Post, ptr+"/post")
}

func (im *importer) post(raw json.RawMessage, ptr string) error {
	var p PostView
	if err := json.Unmarshal(raw, &p); err != nil {
		return im.bad(ptr, err)
	}
	return im.add(&p, ptr)
}

func (im *importer) add(p *PostView, ptr string) error {
	it, err := PostItem(p, im.handle)
	if err != nil {
		return im.bad(ptr, err)
	}
	return kit.Add(im.ctx, im.sink, it, im.s.Opts(ptr, Metrics(p)))
}

// thread records the thread's posts: the anchor and every reply; posts
// not found or blocked are skipped (nothing to keep).
func (im *importer) thread(raw json.RawMessage, ptr string) error {
	var n ThreadNode
	if err := json.Unmarshal(raw, &n); err != nil {
		return im.bad(ptr, err)
	}
	if n.NotFound || n.Blocked || n.Post == nil {
		return nil
	}
	if err := im.add(n.Post, ptr+"/post"); err != nil {
		return err
	}
	for i, r := range n.Replies {
		if err := im.thread(r, ptr+kit.Pointer("replies", i)); err != nil {
			return err
		}
	}
	return nil
}
