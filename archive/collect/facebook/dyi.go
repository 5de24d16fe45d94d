package facebook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/collect"
	"github.com/osmarc/osmarc/archive/collect/internal/graph"
	"github.com/osmarc/osmarc/archive/collect/internal/jsonimport"
	"github.com/osmarc/osmarc/archive/collect/internal/mojibake"
)

// DYIImporter imports a Facebook "Download Your Information" export in
// JSON ("facebook-dyi"), as the zip or the unpacked folder, or one of its
// files: the posts (posts/your_posts_1.json in older exports,
// your_facebook_activity/posts/your_posts__check_ins__photos_and_videos_1.json
// in newer ones, profile_posts_1.json for Pages) and the comments
// (comments/comments.json, comments_and_reactions/comments.json, with
// "comments" or "comments_v2"). Media files the export holds are stored.
//
// The export writes every UTF-8 byte of its text as a \u00XX escape;
// each string that decodes wholly as such is repaired (mojibake.Repair),
// and text that is already right is left alone.
//
// Export entries carry no Facebook ids: an item's id is "dyi-post-<unix
// time>" or "dyi-comment-<unix time>" (with "-2", "-3" for more at the
// same second, in the order the export lists them), so reading the same
// export again gives the same items and adds nothing, and a later export
// of an edited post gives a new version of the same item.
type DYIImporter struct{}

var _ collect.Importer = (*DYIImporter)(nil)

// NewDYIImporter returns the facebook-dyi importer.
func NewDYIImporter() *DYIImporter { return &DYIImporter{} }

func (*DYIImporter) Format() string   { return "facebook-dyi" }
func (*DYIImporter) Platform() string { return Platform }

var (
	reDYIPosts    = regexp.MustCompile(`(^|/)(your_posts|your_posts__check_ins__photos_and_videos|profile_posts|your_posts_and_check_ins)(_\d+)?\.json$`)
	reDYIComments = regexp.MustCompile(`(^|/)comments(_\d+)?\.json$`)
	reDYIHint     = regexp.MustCompile(`"(comments_v2|post|comment|status_updates)"\s*:`)
	reDYITime     = regexp.MustCompile(`"timestamp"\s*:\s*\d`)
	reDYIComment  = regexp.MustCompile(`"comments(_v2)?"\s*:\s*\[|"comment"\s*:\s*\{`)
)

func isDYIFile(p string) bool { return reDYIPosts.MatchString(p) || reDYIComments.MatchString(p) }

// Sniff says whether src looks like a DYI export or one of its files.
func (*DYIImporter) Sniff(src collect.Source) bool {
	files, err := jsonimport.Files(src, isDYIFile)
	if err != nil || len(files) == 0 {
		return false
	}
	head := jsonimport.Peek(src, files[0], 64<<10)
	return reDYIHint.Match(head) && reDYITime.Match(head)
}

// Import reads the export's posts and comments files.
func (im *DYIImporter) Import(ctx context.Context, src collect.Source, account archive.Account, sink collect.Sink) error {
	files, err := jsonimport.Files(src, isDYIFile)
	if err != nil {
		return fmt.Errorf("facebook-dyi: %w", err)
	}
	if len(files) == 0 {
		return fmt.Errorf("facebook-dyi: %s: no posts or comments file (posts/your_posts_1.json, comments/comments.json) found", src.Name)
	}
	for _, p := range files {
		comments := reDYIComments.MatchString(p) || (!reDYIPosts.MatchString(p) && reDYIComment.Match(jsonimport.Peek(src, p, 64<<10)))
		if err := importDYIFile(ctx, src, p, comments, account, sink); err != nil {
			return fmt.Errorf("facebook-dyi: %w", err)
		}
	}
	return nil
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

type dyiAttachment struct {
	Data []struct {
		Media *struct {
			URI               string `json:"uri"`
			CreationTimestamp epoch  `json:"creation_timestamp"`
			Title             string `json:"title"`
			Description       string `json:"description"`
		} `json:"media"`
		ExternalContext *struct {
			URL    string `json:"url"`
			Name   string `json:"name"`
			Source string `json:"source"`
		} `json:"external_context"`
	} `json:"data"`
}

type dyiPost struct {
	Timestamp epoch `json:"timestamp"`
	Data      []struct {
		Post            *string `json:"post"`
		UpdateTimestamp epoch   `json:"update_timestamp"`
	} `json:"data"`
	Attachments []dyiAttachment `json:"attachments"`
	Title       string          `json:"title"`
}

type dyiComment struct {
	Timestamp epoch `json:"timestamp"`
	Data      []struct {
		Comment *struct {
			Timestamp epoch  `json:"timestamp"`
			Comment   string `json:"comment"`
			Author    string `json:"author"`
			Group     string `json:"group"`
		} `json:"comment"`
	} `json:"data"`
	Attachments []dyiAttachment `json:"attachments"`
	Title       string          `json:"title"`
}

func importDYIFile(ctx context.Context, src collect.Source, p string, comments bool, account archive.Account, sink collect.Sink) error {
	source := jsonimport.Name(src, p)
	f, err := src.FS.Open(p)
	if err != nil {
		sink.Bad(&archive.InputError{Source: source, Err: err})
		return nil
	}
	defer f.Close()
	ck := &jsonimport.Chunker{Sink: sink, Source: source}
	var ids jsonimport.IDs
	err = jsonimport.Stream(f, func(e jsonimport.Element) error {
		var it archive.Item
		var err error
		if comments {
			it, err = dyiCommentItem(ctx, src, p, account.Handle, e.Raw, &ids, sink)
		} else {
			it, err = dyiPostItem(ctx, src, p, account.Handle, e.Raw, &ids, sink)
		}
		if jsonimport.IsStoreError(err) {
			return err
		}
		if err != nil {
			jsonimport.Bad(sink, source, e, err)
			return nil
		}
		return ck.Add(ctx, e, []jsonimport.Entry{{Item: it}})
	})
	var se *jsonimport.SyntaxError
	if errors.As(err, &se) {
		sink.Bad(&archive.InputError{Source: source, Line: se.Line, Err: se.Err})
		err = nil
	}
	if err != nil {
		return err
	}
	return ck.Flush(ctx)
}

// attachments adds an entry's media (stored when the export holds the
// file) and links to it.
func attachments(ctx context.Context, src collect.Source, from string, it *archive.Item, list []dyiAttachment, sink collect.Sink) error {
	for _, a := range list {
		for _, d := range a.Data {
			if d.Media != nil && d.Media.URI != "" {
				uri := mojibake.Repair(d.Media.URI)
				m := archive.Media{URL: uri, Type: jsonimport.MediaKind(uri)}
				if m.Type == "" {
					m.Type = "image"
				}
				digest, err := jsonimport.Media(ctx, sink, src, from, uri)
				if jsonimport.IsStoreError(err) {
					return err
				}
				if err != nil {
					sink.Bad(&archive.InputError{Source: uri, Err: err})
				}
				m.Digest = digest
				it.Media = append(it.Media, m)
			}
			if d.ExternalContext != nil && d.ExternalContext.URL != "" {
				it.Links = graph.AppendUnique(it.Links, graph.UnwrapLink(mojibake.Repair(d.ExternalContext.URL)))
			}
		}
	}
	return nil
}

func dyiPostItem(ctx context.Context, src collect.Source, from, account string, raw json.RawMessage, ids *jsonimport.IDs, sink collect.Sink) (archive.Item, error) {
	var p dyiPost
	if err := json.Unmarshal(raw, &p); err != nil {
		return archive.Item{}, graph.Describe(err)
	}
	created, err := jsonimport.Unix(int64(p.Timestamp))
	if err != nil {
		return archive.Item{}, err
	}
	var texts []string
	var updated epoch
	for _, d := range p.Data {
		if d.Post != nil && *d.Post != "" {
			texts = append(texts, mojibake.Repair(*d.Post))
		}
		updated = max(updated, d.UpdateTimestamp)
	}
	it := archive.Item{Platform: Platform, Account: account, ID: ids.Next("dyi-post", int64(p.Timestamp)), Kind: "post", CreatedAt: created, Text: strings.Join(texts, "\n")}
	it.Hashtags = graph.Hashtags(it.Text)
	if updated > p.Timestamp {
		it.EditedAt = graph.Unix(int64(updated))
	}
	return it, attachments(ctx, src, from, &it, p.Attachments, sink)
}

func dyiCommentItem(ctx context.Context, src collect.Source, from, account string, raw json.RawMessage, ids *jsonimport.IDs, sink collect.Sink) (archive.Item, error) {
	var c dyiComment
	if err := json.Unmarshal(raw, &c); err != nil {
		return archive.Item{}, graph.Describe(err)
	}
	ts := c.Timestamp
	var texts []string
	var author string
	for _, d := range c.Data {
		if d.Comment == nil {
			continue
		}
		if ts == 0 {
			ts = d.Comment.Timestamp
		}
		if d.Comment.Comment != "" {
			texts = append(texts, mojibake.Repair(d.Comment.Comment))
		}
		if author == "" {
			author = mojibake.Repair(d.Comment.Author)
		}
	}
	created, err := jsonimport.Unix(int64(ts))
	if err != nil {
		return archive.Item{}, err
	}
	it := archive.Item{Platform: Platform, Account: account, ID: ids.Next("dyi-comment", int64(ts)), Kind: "comment", CreatedAt: created, Text: strings.Join(texts, "\n")}
	it.Hashtags = graph.Hashtags(it.Text)
	if author != "" {
		it.Author = &archive.Author{Name: author}
	}
	return it, attachments(ctx, src, from, &it, c.Attachments, sink)
}
