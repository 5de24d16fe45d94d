package instagram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/collect"
	"github.com/osmarc/osmarc/archive/collect/internal/graph"
	"github.com/osmarc/osmarc/archive/collect/internal/jsonimport"
	"github.com/osmarc/osmarc/archive/collect/internal/mojibake"
)

// ExportImporter imports an Instagram account export in JSON
// ("instagram-export"), as the zip or the unpacked folder, or one of its
// files:
//   - posts, reels and stories: content/posts_1.json (an array of
//     {media: [{uri, creation_timestamp, title}], title,
//     creation_timestamp}), content/reels.json ({"ig_reels_media": …}),
//     content/stories.json ({"ig_stories": [media]}), under
//     your_instagram_activity/ in newer exports; the older media.json
//     ({"photos"|"videos"|"stories": [{caption, taken_at, path}]});
//   - comments the account made: comments/post_comments_1.json (entries of
//     string_map_data: Comment, Media Owner, Time), reels_comments.json;
//     the older comments.json ({"media_comments": [[time, text, owner]]}).
//
// Media files the export holds are stored. The export's mis-encoded text
// is repaired as for Facebook's (mojibake.Repair). Export entries carry no
// Instagram ids: an item's id is "export-<kind>-<unix time>" (with "-2",
// "-3" for more at the same second), so the same export read again adds
// nothing.
type ExportImporter struct{}

var _ collect.Importer = (*ExportImporter)(nil)

// NewExportImporter returns the instagram-export importer.
func NewExportImporter() *ExportImporter { return &ExportImporter{} }

func (*ExportImporter) Format() string   { return "instagram-export" }
func (*ExportImporter) Platform() string { return Platform }

var (
	reIGPosts     = regexp.MustCompile(`(^|/)(posts|archived_posts|reels|stories)(_\d+)?\.json$`)
	reIGOldMedia  = regexp.MustCompile(`(^|/)media\.json$`)
	reIGComments  = regexp.MustCompile(`(^|/)(post_comments|reels_comments)(_\d+)?\.json$`)
	reIGOldComm   = regexp.MustCompile(`(^|/)comments\.json$`)
	reIGExportHit = regexp.MustCompile(`"(string_map_data|media_list_data|creation_timestamp|media_comments|taken_at|ig_reels_media|ig_stories)"\s*:`)
)

func isIGExportFile(p string) bool {
	return reIGPosts.MatchString(p) || reIGOldMedia.MatchString(p) || reIGComments.MatchString(p) || reIGOldComm.MatchString(p)
}

// Sniff says whether src looks like an Instagram export or one of its files.
func (*ExportImporter) Sniff(src collect.Source) bool {
	files, err := jsonimport.Files(src, isIGExportFile)
	if err != nil {
		return false
	}
	for i, p := range files {
		if i >= 8 {
			break
		}
		if reIGExportHit.Match(jsonimport.Peek(src, p, 64<<10)) {
			return true
		}
	}
	return false
}

// Import reads the export's posts, reels, stories and comments files.
func (*ExportImporter) Import(ctx context.Context, src collect.Source, account archive.Account, sink collect.Sink) error {
	files, err := jsonimport.Files(src, isIGExportFile)
	if err != nil {
		return fmt.Errorf("instagram-export: %w", err)
	}
	if len(files) == 0 {
		return fmt.Errorf("instagram-export: %s: no posts or comments file (content/posts_1.json, comments/post_comments_1.json) found", src.Name)
	}
	for _, p := range files {
		x := &exportFile{src: src, path: p, source: jsonimport.Name(src, p), account: account, sink: sink}
		if err := x.read(ctx); err != nil {
			return fmt.Errorf("instagram-export: %w", err)
		}
	}
	return nil
}

type exportFile struct {
	src     collect.Source
	path    string
	source  string
	account archive.Account
	sink    collect.Sink
	ids     jsonimport.IDs
}

// fileKind is what a file holds: "comments", or the kind of its media
// entries ("post", "reel", "story"), or "media.json" (the older layout,
// whose kind is each member's).
func fileKind(p string, head []byte) string {
	base := path.Base(p)
	switch {
	case reIGComments.MatchString(base), reIGOldComm.MatchString(base):
		return "comments"
	case reIGOldMedia.MatchString(base):
		return "media.json"
	case strings.HasPrefix(base, "reels"):
		return "reel"
	case strings.HasPrefix(base, "stories"):
		return "story"
	}
	if strings.Contains(string(head), "string_map_data") {
		return "comments"
	}
	return "post"
}

func (x *exportFile) read(ctx context.Context) error {
	kind := fileKind(x.path, jsonimport.Peek(x.src, x.path, 4<<10))
	f, err := x.src.FS.Open(x.path)
	if err != nil {
		x.sink.Bad(&archive.InputError{Source: x.source, Err: err})
		return nil
	}
	defer f.Close()
	ck := &jsonimport.Chunker{Sink: x.sink, Source: x.source}
	err = jsonimport.Stream(f, func(e jsonimport.Element) error {
		var it archive.Item
		var skip bool
		var err error
		switch {
		case kind == "comments":
			it, err = x.comment(e)
		case kind == "media.json":
			it, skip, err = x.oldMedia(ctx, e)
		default:
			it, err = x.post(ctx, kind, e.Raw)
		}
		switch {
		case jsonimport.IsStoreError(err):
			return err
		case err != nil:
			jsonimport.Bad(x.sink, x.source, e, err)
			return nil
		case skip:
			return nil
		}
		return ck.Add(ctx, e, []jsonimport.Entry{{Item: it}})
	})
	var se *jsonimport.SyntaxError
	if errors.As(err, &se) {
		x.sink.Bad(&archive.InputError{Source: x.source, Line: se.Line, Err: se.Err})
		err = nil
	}
	if err != nil {
		return err
	}
	return ck.Flush(ctx)
}

// epoch is a Unix time in seconds, as a number or a numeric string.
type epoch int64

func (e *epoch) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "null" || s == "" {
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("timestamp %s is not a number", b)
	}
	*e = epoch(f)
	return nil
}

type exportMedia struct {
	URI               string `json:"uri"`
	CreationTimestamp epoch  `json:"creation_timestamp"`
	Title             string `json:"title"`
}

type exportPost struct {
	Media             []exportMedia `json:"media"`
	Title             string        `json:"title"`
	CreationTimestamp epoch         `json:"creation_timestamp"`
	// A story entry is itself the media.
	URI string `json:"uri"`
}

func (x *exportFile) newItem(kind string, ts int64, text string) (archive.Item, error) {
	created, err := jsonimport.Unix(ts)
	if err != nil {
		return archive.Item{}, err
	}
	text = mojibake.Repair(text)
	return archive.Item{
		Platform: Platform, Account: x.account.Handle, ID: x.ids.Next("export-"+kind, ts), Kind: kind, CreatedAt: created,
		Text: text, Hashtags: graph.Hashtags(text), Mentions: mentions(text),
	}, nil
}

func (x *exportFile) addMedia(ctx context.Context, it *archive.Item, uri string) error {
	if uri == "" {
		return nil
	}
	uri = mojibake.Repair(uri)
	m := archive.Media{URL: uri, Type: jsonimport.MediaKind(uri)}
	if m.Type == "" {
		m.Type = "image"
	}
	d, err := jsonimport.Media(ctx, x.sink, x.src, x.path, uri)
	if jsonimport.IsStoreError(err) {
		return err
	}
	if err != nil {
		x.sink.Bad(&archive.InputError{Source: uri, Err: err})
	}
	m.Digest = d
	it.Media = append(it.Media, m)
	return nil
}

func (x *exportFile) post(ctx context.Context, kind string, raw json.RawMessage) (archive.Item, error) {
	var p exportPost
	if err := json.Unmarshal(raw, &p); err != nil {
		return archive.Item{}, graph.Describe(err)
	}
	media := p.Media
	if len(media) == 0 && p.URI != "" {
		media = []exportMedia{{URI: p.URI, CreationTimestamp: p.CreationTimestamp, Title: p.Title}}
	}
	ts, text := p.CreationTimestamp, p.Title
	if len(media) > 0 {
		if ts == 0 {
			ts = media[0].CreationTimestamp
		}
		if text == "" && len(media) == 1 {
			text = media[0].Title
		}
	}
	it, err := x.newItem(kind, int64(ts), text)
	if err != nil {
		return it, err
	}
	for _, m := range media {
		if err := x.addMedia(ctx, &it, m.URI); err != nil {
			return it, err
		}
	}
	return it, nil
}

// oldMedia reads an entry of the older media.json: photos, videos and
// stories ({caption, taken_at, path}); other members (profile pictures,
// direct messages' media) are skipped.
func (x *exportFile) oldMedia(ctx context.Context, e jsonimport.Element) (archive.Item, bool, error) {
	kind := map[string]string{"photos": "post", "videos": "post", "stories": "story"}[e.Key]
	if kind == "" {
		return archive.Item{}, true, nil
	}
	var m struct {
		Caption string `json:"caption"`
		TakenAt string `json:"taken_at"`
		Path    string `json:"path"`
	}
	if err := json.Unmarshal(e.Raw, &m); err != nil {
		return archive.Item{}, false, graph.Describe(err)
	}
	t, err := graph.Time(m.TakenAt)
	if err != nil {
		return archive.Item{}, false, fmt.Errorf("taken_at: %v", err)
	}
	it, err := x.newItem(kind, archiveTime(t), m.Caption)
	if err != nil {
		return it, false, err
	}
	return it, false, x.addMedia(ctx, &it, m.Path)
}

func archiveTime(rfc3339 string) int64 {
	it := archive.Item{CreatedAt: rfc3339}
	return it.Created().Unix()
}

// comment reads a comment the account made: a string_map_data entry of
// the newer layout, or a [time, text, media owner] triple of the older.
func (x *exportFile) comment(e jsonimport.Element) (archive.Item, error) {
	var ts int64
	var text string
	if len(e.Raw) > 0 && e.Raw[0] == '[' {
		var triple []json.RawMessage
		if err := json.Unmarshal(e.Raw, &triple); err != nil || len(triple) < 2 {
			return archive.Item{}, errors.New("want [time, text, owner]")
		}
		var when string
		if err := json.Unmarshal(triple[0], &when); err != nil {
			return archive.Item{}, errors.New("want [time, text, owner]: the time is not a string")
		}
		t, err := graph.Time(when)
		if err != nil {
			return archive.Item{}, err
		}
		ts = archiveTime(t)
		json.Unmarshal(triple[1], &text)
	} else {
		var c struct {
			Timestamp     epoch `json:"timestamp"`
			StringMapData map[string]struct {
				Value     string `json:"value"`
				Timestamp epoch  `json:"timestamp"`
			} `json:"string_map_data"`
		}
		if err := json.Unmarshal(e.Raw, &c); err != nil {
			return archive.Item{}, graph.Describe(err)
		}
		ts = int64(c.Timestamp)
		for k, v := range c.StringMapData {
			switch strings.ToLower(mojibake.Repair(k)) {
			case "comment":
				text = v.Value
			case "time":
				if ts == 0 {
					ts = int64(v.Timestamp)
				}
			}
		}
	}
	it, err := x.newItem("comment", ts, text)
	if err != nil {
		return it, err
	}
	it.Author = &archive.Author{Handle: x.account.Handle}
	return it, nil
}
