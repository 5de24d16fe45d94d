package mastodon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/collect"
	"github.com/osmarc/osmarc/archive/collect/internal/kit"
)

// APIImporter reads saved Mastodon API responses (format "mastodon-api"):
// files of statuses as the API returns them, one response per file (a
// JSON array of statuses, a single status, or a status context whose
// descendants are the replies) or one response per line (JSON Lines).
// Statuses map exactly as the live collector maps them (StatusItem), so a
// post both saw is one item with one version when its content agrees and
// media were not downloaded. Edit histories name no status and cannot be
// imported on their own.
type APIImporter struct{}

var _ collect.Importer = APIImporter{}

// NewAPIImporter returns the mastodon-api importer.
func NewAPIImporter() collect.Importer { return APIImporter{} }

func (APIImporter) Format() string   { return "mastodon-api" }
func (APIImporter) Platform() string { return Platform }

var savedExts = []string{".json", ".jsonl", ".ndjson"}

// Sniff looks for the fields only a Mastodon status has.
func (APIImporter) Sniff(src collect.Source) bool {
	h := kit.Head(src, 8192, savedExts...)
	if bytes.Contains(h, []byte(`"orderedItems"`)) {
		return false
	}
	return (bytes.Contains(h, []byte(`"spoiler_text"`)) && bytes.Contains(h, []byte(`"visibility"`))) ||
		bytes.Contains(h, []byte(`"favourites_count"`)) || bytes.Contains(h, []byte(`"reblogs_count"`)) ||
		(bytes.Contains(h, []byte(`"ancestors"`)) && bytes.Contains(h, []byte(`"descendants"`)))
}

// Import implements collect.Importer.
func (APIImporter) Import(ctx context.Context, src collect.Source, account archive.Account, sink collect.Sink) error {
	files, err := kit.Files(src, savedExts...)
	if err != nil {
		return err
	}
	for _, f := range files {
		name := kit.FileName(src, f)
		err := kit.ReadSaved(ctx, src.FS, f, name, sink, func(s *kit.Saved) error {
			return importValue(ctx, s, account.Handle, sink)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func importValue(ctx context.Context, s *kit.Saved, handle string, sink collect.Sink) error {
	if s.Element {
		return importStatus(ctx, s, s.Value, "", handle, sink)
	}
	v := bytes.TrimSpace(kit.ValidUTF8Bytes(s.Value))
	switch {
	case len(v) > 0 && v[0] == '[':
		var raws []json.RawMessage
		if err := json.Unmarshal(v, &raws); err != nil {
			s.Bad(sink, "", err)
			return nil
		}
		for i, raw := range raws {
			if err := importStatus(ctx, s, raw, kit.Pointer(i), handle, sink); err != nil {
				return err
			}
		}
		return nil
	case len(v) > 0 && v[0] == '{':
		var probe map[string]json.RawMessage
		if err := json.Unmarshal(v, &probe); err != nil {
			s.Bad(sink, "", err)
			return nil
		}
		_, hasDesc := probe["descendants"]
		_, hasAnc := probe["ancestors"]
		if hasDesc || hasAnc {
			var c Context
			if err := json.Unmarshal(v, &c); err != nil {
				s.Bad(sink, "context", err)
				return nil
			}
			for i, raw := range c.Descendants {
				if err := importStatus(ctx, s, raw, kit.Pointer("descendants", i), handle, sink); err != nil {
					return err
				}
			}
			return nil
		}
		return importStatus(ctx, s, v, "", handle, sink)
	}
	s.Bad(sink, "", errors.New("not a JSON array or object"))
	return nil
}

func importStatus(ctx context.Context, s *kit.Saved, raw json.RawMessage, pointer, handle string, sink collect.Sink) error {
	var st Status
	where := pointer
	if where == "" {
		where = "status"
	}
	if err := json.Unmarshal(kit.ValidUTF8Bytes(raw), &st); err != nil {
		s.Bad(sink, where, err)
		return nil
	}
	if st.ID == "" {
		what := "an object without an id"
		if st.CreatedAt != "" && st.Account != nil {
			what = "an edit history entry, which names no status (the live collector records edits)"
		}
		s.Bad(sink, where, fmt.Errorf("not a Mastodon status: %s", what))
		return nil
	}
	return kit.Add(ctx, sink, StatusItem(&st, handle), s.Opts(pointer, Metrics(&st)))
}
