package wordpress

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/collect"
	"github.com/osmarc/osmarc/archive/collect/internal/kit"
)

// APIImporter reads saved WordPress REST responses (format
// "wordpress-api"): /wp-json/wp/v2/posts and /wp-json/wp/v2/comments
// pages (JSON arrays, or single objects), one response per file or per
// JSON line. Items map exactly as the live collector maps them; a post
// saved without ?_embed has no author name, tags or featured image, so it
// agrees with the collector's version only when the response embedded
// them too. Revisions are versions of a post the collector reads with the
// post; saved on their own they are left out.
type APIImporter struct{}

var _ collect.Importer = APIImporter{}

// NewAPIImporter returns the wordpress-api importer.
func NewAPIImporter() collect.Importer { return APIImporter{} }

func (APIImporter) Format() string   { return "wordpress-api" }
func (APIImporter) Platform() string { return Platform }

var savedExts = []string{".json", ".jsonl", ".ndjson"}

// Sniff looks for wp/v2's {"rendered": …} fields.
func (APIImporter) Sniff(src collect.Source) bool {
	h := kit.Head(src, 8192, savedExts...)
	return bytes.Contains(h, []byte(`"rendered"`)) && (bytes.Contains(h, []byte(`"date_gmt"`)) || bytes.Contains(h, []byte(`"author_name"`)))
}

// Import implements collect.Importer.
func (APIImporter) Import(ctx context.Context, src collect.Source, account archive.Account, sink collect.Sink) error {
	files, err := kit.Files(src, savedExts...)
	if err != nil {
		return err
	}
	for _, f := range files {
		err := kit.ReadSaved(ctx, src.FS, f, kit.FileName(src, f), sink, func(s *kit.Saved) error {
			v := bytes.TrimSpace(kit.ValidUTF8Bytes(s.Value))
			if len(v) > 0 && v[0] == '[' {
				var raws []json.RawMessage
				if err := json.Unmarshal(v, &raws); err != nil {
					s.Bad(sink, "", err)
					return nil
				}
				for i, raw := range raws {
					if err := importObject(ctx, s, raw, kit.Pointer(i), account.Handle, sink); err != nil {
						return err
					}
				}
				return nil
			}
			return importObject(ctx, s, v, "", account.Handle, sink)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func importObject(ctx context.Context, s *kit.Saved, raw json.RawMessage, ptr, handle string, sink collect.Sink) error {
	where := ptr
	if where == "" {
		where = "object"
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(raw, &probe); err != nil {
		s.Bad(sink, where, err)
		return nil
	}
	has := func(k string) bool { _, ok := probe[k]; return ok }
	switch {
	case has("author_name") && has("post"):
		var c Comment
		if err := json.Unmarshal(raw, &c); err != nil {
			s.Bad(sink, where, err)
			return nil
		}
		if c.ID == "" {
			s.Bad(sink, where, errors.New("comment has no id"))
			return nil
		}
		return kit.Add(ctx, sink, CommentItem(&c, handle), s.Opts(ptr, nil))
	case has("title") && has("content") && has("type"):
		var p Post
		if err := json.Unmarshal(raw, &p); err != nil {
			s.Bad(sink, where, err)
			return nil
		}
		if p.ID == "" {
			s.Bad(sink, where, errors.New("post has no id"))
			return nil
		}
		return kit.Add(ctx, sink, PostItem(&p, handle), s.Opts(ptr, nil))
	case has("parent") && has("content") && !has("type"):
		return nil // a revision: see APIImporter
	case has("code") && has("message"):
		s.Bad(sink, where, errors.New("a WordPress error response, not content"))
		return nil
	}
	s.Bad(sink, where, errors.New("not a WordPress post or comment"))
	return nil
}
