package facebook

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/collect"
	"github.com/osmarc/osmarc/archive/collect/internal/graph"
	"github.com/osmarc/osmarc/archive/collect/internal/jsonimport"
)

// GraphImporter imports saved Graph API responses of a Facebook Page
// ("facebook-graph"): pages of /{page-id}/feed or /posts (posts may carry
// their comments nested, as fields=comments{…} gives them), pages of
// /{post-id}/comments, or single posts and comments; one response per
// file, or one per line (JSON Lines). It normalises exactly as the
// collector does, so a post both saw is one item with one version while
// the content agrees (media digests aside: an import has no media files
// to store).
//
// A comment page does not say which post it belongs to; the importer
// reads it from the page's paging links (/{post-id}/comments) or, failing
// that, from the comment id ("{post}_{comment}") and the account's Page
// id; a comment it cannot place has no parent.
type GraphImporter struct{}

var _ collect.Importer = (*GraphImporter)(nil)

// NewGraphImporter returns the facebook-graph importer.
func NewGraphImporter() *GraphImporter { return &GraphImporter{} }

func (*GraphImporter) Format() string   { return "facebook-graph" }
func (*GraphImporter) Platform() string { return Platform }

var reFBGraph = regexp.MustCompile(`"created_time"\s*:\s*"`)

// Sniff says whether src holds Graph API responses with Facebook times.
func (*GraphImporter) Sniff(src collect.Source) bool {
	files, err := jsonimport.Files(src, jsonimport.IsSavedName)
	if err != nil {
		return false
	}
	for i, p := range files {
		if i >= 8 {
			break
		}
		if head := jsonimport.Peek(src, p, 64<<10); reFBGraph.Match(head) {
			return true
		}
	}
	return false
}

// Import reads every .json, .jsonl and .ndjson file of src.
func (im *GraphImporter) Import(ctx context.Context, src collect.Source, account archive.Account, sink collect.Sink) error {
	files, err := jsonimport.Files(src, jsonimport.IsSavedName)
	if err != nil {
		return fmt.Errorf("facebook-graph: %w", err)
	}
	if len(files) == 0 {
		return fmt.Errorf("facebook-graph: %s: no .json or .jsonl files", src.Name)
	}
	for _, p := range files {
		err := jsonimport.Responses(ctx, src, p, sink, func(r jsonimport.Response) error {
			return importResponse(ctx, r, account, sink)
		})
		if err != nil {
			return fmt.Errorf("facebook-graph: %w", err)
		}
	}
	return nil
}

// importResponse reads one saved response.
func importResponse(ctx context.Context, r jsonimport.Response, account archive.Account, sink collect.Sink) error {
	bad := func(ptr string, err error) {
		where := ""
		if ptr != "" {
			where = ptr + ": "
		}
		sink.Bad(&archive.InputError{Source: r.Source, Line: r.Line, Err: fmt.Errorf("%s%v", where, err)})
	}
	if ge := graph.ParseError(r.Body, 0); ge != nil && bytes.HasPrefix(bytes.TrimSpace(r.Body), []byte("{")) && isErrorOnly(r.Body) {
		bad(r.Prefix, fmt.Errorf("a saved Graph API error, not data: %s (code %d)", ge.Message, ge.Code))
		return nil
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(r.Body, &top); err != nil {
		bad(r.Prefix, fmt.Errorf("not a Graph API response: %v", graph.Describe(err)))
		return nil
	}
	im := &importer{r: r, account: account, sink: sink, bad: bad}
	if _, ok := top["data"]; ok {
		pg, err := graph.ParsePage(r.Body)
		if err != nil {
			bad(r.Prefix, err)
			return nil
		}
		ctxKind, obj := pageContext(pg.Paging)
		for i, el := range pg.Data {
			ptr := fmt.Sprintf("%s/data/%d", r.Prefix, i)
			kind := ctxKind
			if kind == "" {
				kind = im.classify(el)
			}
			var err error
			if kind == "comment" {
				err = im.comment(ctx, el, ptr, im.threadOf(obj, el), "")
			} else {
				err = im.post(ctx, el, ptr)
			}
			if err != nil {
				return err
			}
		}
		return nil
	}
	if _, ok := top["id"]; !ok {
		bad(r.Prefix, fmt.Errorf("not a Graph API response: no data array and no id"))
		return nil
	}
	if im.classify(r.Body) == "comment" {
		return im.comment(ctx, r.Body, r.Prefix, im.threadOf("", r.Body), "")
	}
	return im.post(ctx, r.Body, r.Prefix)
}

func isErrorOnly(body []byte) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return false
	}
	_, ok := m["error"]
	return ok && len(m) == 1
}

type importer struct {
	r       jsonimport.Response
	account archive.Account
	sink    collect.Sink
	bad     func(ptr string, err error)
}

var reEdgePath = regexp.MustCompile(`/([^/?]+)/(comments|feed|posts|published_posts|visitor_posts|tagged)$`)

// pageContext reads what a page lists from its paging links: the edge
// ("comment" for /comments, "post" for a Page's feed) and the object.
func pageContext(p graph.Paging) (kind, object string) {
	for _, l := range []string{p.Next, p.Previous} {
		u, err := url.Parse(l)
		if err != nil || l == "" {
			continue
		}
		m := reEdgePath.FindStringSubmatch(u.Path)
		if m == nil {
			continue
		}
		if m[2] == "comments" {
			return "comment", m[1]
		}
		return "post", m[1]
	}
	return "", ""
}

var commentKeys = []string{"parent", "like_count", "comment_count", "attachment", "can_hide", "can_remove", "user_likes", "object", "message_tags"}
var postKeys = []string{"status_type", "updated_time", "attachments", "shares", "full_picture", "story", "is_published", "type", "reactions", "privacy"}

// classify tells a comment from a post: by its id when the Page id is
// known (a post of the Page is "{page}_{post}", a comment
// "{post}_{comment}"), else by the fields only one of them has.
func (im *importer) classify(el json.RawMessage) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(el, &m) != nil {
		return "post"
	}
	var id string
	json.Unmarshal(m["id"], &id)
	if pageID := im.account.ID; pageID != "" && strings.Contains(id, "_") {
		if strings.HasPrefix(id, pageID+"_") {
			return "post"
		}
		return "comment"
	}
	c, p := 0, 0
	for _, k := range commentKeys {
		if _, ok := m[k]; ok {
			c++
		}
	}
	for _, k := range postKeys {
		if _, ok := m[k]; ok {
			p++
		}
	}
	if c > p {
		return "comment"
	}
	return "post"
}

// threadOf is the post a comment listed under object belongs to.
func (im *importer) threadOf(object string, el json.RawMessage) string {
	pageID := im.account.ID
	if object != "" && (pageID == "" || strings.HasPrefix(object, pageID+"_")) {
		return object
	}
	var c struct {
		ID string `json:"id"`
	}
	json.Unmarshal(el, &c)
	if i := strings.IndexByte(c.ID, '_'); i > 0 && pageID != "" {
		return pageID + "_" + c.ID[:i]
	}
	return ""
}

func (im *importer) post(ctx context.Context, el json.RawMessage, ptr string) error {
	var p gPost
	if err := json.Unmarshal(el, &p); err != nil {
		im.bad(ptr, graph.Describe(err))
		return nil
	}
	it, _, m, err := postItem(im.account.Handle, &p)
	if err != nil {
		im.bad(ptr, err)
		return nil
	}
	if err := im.add(ctx, it, ptr, m); err != nil {
		return err
	}
	if p.Comments == nil {
		return nil
	}
	for i, c := range p.Comments.Data {
		if err := im.comment(ctx, c, fmt.Sprintf("%s/comments/data/%d", ptr, i), p.ID, ""); err != nil {
			return err
		}
	}
	return nil
}

func (im *importer) comment(ctx context.Context, el json.RawMessage, ptr, post, parent string) error {
	var c gComment
	if err := json.Unmarshal(el, &c); err != nil {
		im.bad(ptr, graph.Describe(err))
		return nil
	}
	it, _, m, err := commentItem(im.account.Handle, post, parent, &c)
	if err != nil {
		im.bad(ptr, err)
		return nil
	}
	if err := im.add(ctx, it, ptr, m); err != nil {
		return err
	}
	if c.Comments == nil {
		return nil
	}
	for i, rc := range c.Comments.Data {
		if err := im.comment(ctx, rc, fmt.Sprintf("%s/comments/data/%d", ptr, i), post, c.ID); err != nil {
			return err
		}
	}
	return nil
}

func (im *importer) add(ctx context.Context, it archive.Item, ptr string, m json.RawMessage) error {
	raw := im.r.Raw
	return graph.Add(ctx, im.sink, it, archive.ItemOptions{Raw: &raw, RawPath: ptr, Source: im.r.Source, Line: im.r.Line, Metrics: m})
}
