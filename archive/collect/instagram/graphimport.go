package instagram

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/collect"
	"github.com/osmarc/osmarc/archive/collect/internal/graph"
	"github.com/osmarc/osmarc/archive/collect/internal/jsonimport"
)

// GraphImporter imports saved Graph API responses of an Instagram account
// ("instagram-graph"): pages of /{ig-user-id}/media (media may carry their
// comments nested, as fields=comments{…} gives them), pages of
// /{media-id}/comments (replies nested) and /{comment-id}/replies, or
// single media and comments; one response per file or per line. It
// normalises exactly as the collector does.
//
// A comments page says which media it belongs to only in its paging links
// (/{media-id}/comments); a replies page names its comment the same way,
// and its replies carry parent_id, but not the media: such replies wait
// until the end of the import, and take the media of their comment if
// the import saw it. A comment on a page without links has no thread.
type GraphImporter struct{}

var _ collect.Importer = (*GraphImporter)(nil)

// NewGraphImporter returns the instagram-graph importer.
func NewGraphImporter() *GraphImporter { return &GraphImporter{} }

func (*GraphImporter) Format() string   { return "instagram-graph" }
func (*GraphImporter) Platform() string { return Platform }

var (
	reIGGraph  = regexp.MustCompile(`"timestamp"\s*:\s*"\d{4}-\d\d-\d\dT`)
	reIGFields = regexp.MustCompile(`"(media_type|permalink|username|caption|like_count)"\s*:`)
)

// Sniff says whether src holds Graph API responses of Instagram shape.
func (*GraphImporter) Sniff(src collect.Source) bool {
	files, err := jsonimport.Files(src, jsonimport.IsSavedName)
	if err != nil {
		return false
	}
	for i, p := range files {
		if i >= 8 {
			break
		}
		if head := jsonimport.Peek(src, p, 64<<10); reIGGraph.Match(head) && reIGFields.Match(head) {
			return true
		}
	}
	return false
}

// Import reads every .json, .jsonl and .ndjson file of src.
func (*GraphImporter) Import(ctx context.Context, src collect.Source, account archive.Account, sink collect.Sink) error {
	files, err := jsonimport.Files(src, jsonimport.IsSavedName)
	if err != nil {
		return fmt.Errorf("instagram-graph: %w", err)
	}
	if len(files) == 0 {
		return fmt.Errorf("instagram-graph: %s: no .json or .jsonl files", src.Name)
	}
	im := &importer{account: account, sink: sink, threads: map[string]string{}}
	for _, p := range files {
		err := jsonimport.Responses(ctx, src, p, sink, func(r jsonimport.Response) error {
			im.r = r
			return im.response(ctx)
		})
		if err != nil {
			return fmt.Errorf("instagram-graph: %w", err)
		}
	}
	for _, d := range im.deferred {
		d.it.Thread = im.threads[d.it.Parent]
		if err := graph.Add(ctx, sink, d.it, d.o); err != nil {
			return fmt.Errorf("instagram-graph: %w", err)
		}
	}
	return nil
}

type importer struct {
	r       jsonimport.Response
	account archive.Account
	sink    collect.Sink
	// threads are the media of the comments seen; deferred the replies
	// whose media was not known where they were read.
	threads  map[string]string
	deferred []deferred
}

type deferred struct {
	it archive.Item
	o  archive.ItemOptions
}

func (im *importer) bad(ptr string, err error) {
	if ptr != "" {
		err = fmt.Errorf("%s: %v", ptr, err)
	}
	im.sink.Bad(&archive.InputError{Source: im.r.Source, Line: im.r.Line, Err: err})
}

var reIGEdge = regexp.MustCompile(`/([^/?]+)/(media|comments|replies|stories|tags)$`)

// pageContext reads what a page lists from its paging links.
func pageContext(p graph.Paging) (edge, object string) {
	for _, l := range []string{p.Next, p.Previous} {
		u, err := url.Parse(l)
		if err != nil || l == "" {
			continue
		}
		if m := reIGEdge.FindStringSubmatch(u.Path); m != nil {
			return m[2], m[1]
		}
	}
	return "", ""
}

var mediaKeys = []string{"media_type", "media_url", "permalink", "caption", "children", "media_product_type", "comments_count", "thumbnail_url", "shortcode"}

func isMedia(el json.RawMessage) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(el, &m) != nil {
		return false
	}
	for _, k := range mediaKeys {
		if _, ok := m[k]; ok {
			return true
		}
	}
	return false
}

func (im *importer) response(ctx context.Context) error {
	r := im.r
	if ge := graph.ParseError(r.Body, 0); ge != nil {
		var m map[string]json.RawMessage
		if json.Unmarshal(r.Body, &m) == nil && len(m) == 1 {
			im.bad(r.Prefix, fmt.Errorf("a saved Graph API error, not data: %s (code %d)", ge.Message, ge.Code))
			return nil
		}
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(r.Body, &top); err != nil {
		im.bad(r.Prefix, fmt.Errorf("not a Graph API response: %v", graph.Describe(err)))
		return nil
	}
	if _, ok := top["data"]; ok {
		pg, err := graph.ParsePage(r.Body)
		if err != nil {
			im.bad(r.Prefix, err)
			return nil
		}
		edge, obj := pageContext(pg.Paging)
		for i, el := range pg.Data {
			ptr := fmt.Sprintf("%s/data/%d", r.Prefix, i)
			var err error
			switch {
			case edge == "comments":
				err = im.comment(ctx, el, ptr, obj, "")
			case edge == "replies":
				err = im.comment(ctx, el, ptr, "", obj)
			case edge == "" && !isMedia(el):
				err = im.comment(ctx, el, ptr, "", "")
			default:
				err = im.media(ctx, el, ptr)
			}
			if err != nil {
				return err
			}
		}
		return nil
	}
	if _, ok := top["id"]; !ok {
		im.bad(r.Prefix, fmt.Errorf("not a Graph API response: no data array and no id"))
		return nil
	}
	if isMedia(r.Body) {
		return im.media(ctx, r.Body, r.Prefix)
	}
	return im.comment(ctx, r.Body, r.Prefix, "", "")
}

func (im *importer) media(ctx context.Context, el json.RawMessage, ptr string) error {
	var m gMedia
	if err := json.Unmarshal(el, &m); err != nil {
		im.bad(ptr, graph.Describe(err))
		return nil
	}
	it, _, mt, err := mediaItem(im.account.Handle, &m)
	if err != nil {
		im.bad(ptr, err)
		return nil
	}
	if err := im.add(ctx, it, ptr, mt); err != nil {
		return err
	}
	if m.Comments == nil {
		return nil
	}
	for i, c := range m.Comments.Data {
		if err := im.comment(ctx, c, fmt.Sprintf("%s/comments/data/%d", ptr, i), m.ID, ""); err != nil {
			return err
		}
	}
	return nil
}

func (im *importer) comment(ctx context.Context, el json.RawMessage, ptr, media, parent string) error {
	var c gComment
	if err := json.Unmarshal(el, &c); err != nil {
		im.bad(ptr, graph.Describe(err))
		return nil
	}
	it, mt, err := commentItem(im.account.Handle, media, parent, &c)
	if err != nil {
		im.bad(ptr, err)
		return nil
	}
	switch {
	case it.Kind == "comment" && it.Thread != "":
		im.threads[it.ID] = it.Thread
	case it.Kind == "reply" && it.Thread == "":
		if t, ok := im.threads[it.Parent]; ok {
			it.Thread = t
		} else {
			im.deferred = append(im.deferred, deferred{it, im.options(ptr, mt)})
			return nil
		}
	}
	if err := im.add(ctx, it, ptr, mt); err != nil {
		return err
	}
	if c.Replies == nil {
		return nil
	}
	for i, rc := range c.Replies.Data {
		if err := im.comment(ctx, rc, fmt.Sprintf("%s/replies/data/%d", ptr, i), media, c.ID); err != nil {
			return err
		}
	}
	return nil
}

func (im *importer) options(ptr string, m json.RawMessage) archive.ItemOptions {
	raw := im.r.Raw
	return archive.ItemOptions{Raw: &raw, RawPath: ptr, Source: im.r.Source, Line: im.r.Line, Metrics: m}
}

func (im *importer) add(ctx context.Context, it archive.Item, ptr string, m json.RawMessage) error {
	return graph.Add(ctx, im.sink, it, im.options(ptr, m))
}
