package youtube

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/collect"
	"github.com/osmarc/osmarc/archive/collect/internal/kit"
)

// MaxPageBytes bounds one saved response page.
const MaxPageBytes = 64 << 20

// APIImporter imports saved YouTube Data API v3 responses ("youtube-api"):
// files that each hold one list response, or JSON Lines with one response
// a line; a folder is read file by file in name order. videos.list and
// playlistItems.list pages give videos (a playlist item says less: no
// language, no counts), commentThreads.list pages comments and their
// replies, comments.list pages replies (or comments). Items are recorded
// as the live collector records them; each page is kept byte for byte.
type APIImporter struct{}

// NewAPIImporter returns the youtube-api importer.
func NewAPIImporter() *APIImporter { return &APIImporter{} }

var _ collect.Importer = (*APIImporter)(nil)

func (*APIImporter) Format() string   { return "youtube-api" }
func (*APIImporter) Platform() string { return Platform }

// Sniff says whether src's first file starts like a YouTube list response.
func (*APIImporter) Sniff(src collect.Source) bool {
	head := kit.Head(src, 16<<10)
	h := bytes.TrimSpace(head)
	return len(h) > 0 && h[0] == '{' && bytes.Contains(h, []byte(`"youtube#`)) && bytes.Contains(h, []byte(`ListResponse"`))
}

// Import reads src into sink.
func (ai *APIImporter) Import(ctx context.Context, src collect.Source, acct archive.Account, sink collect.Sink) error {
	files, err := kit.SourceFiles(src, nil)
	if err != nil {
		return err
	}
	for _, name := range files {
		if err := importFile(ctx, src, name, acct, sink); err != nil {
			return err
		}
	}
	return nil
}

func importFile(ctx context.Context, src collect.Source, name string, acct archive.Account, sink collect.Sink) error {
	return kit.ResponsePages(ctx, src, name, sink, MaxPageBytes, func(ctx context.Context, body []byte, source string, line int, lines string) error {
		return importPage(ctx, body, source, line, lines, acct, sink)
	})
}

// importPage keeps one response page and records its items.
func importPage(ctx context.Context, body []byte, source string, line int, lines string, acct archive.Account, sink collect.Sink) error {
	d, err := sink.PutRaw(ctx, body, source, lines, "application/json")
	if err != nil {
		return fmt.Errorf("keep %s: %w", source, err)
	}
	l, err := ParseList(body)
	if err == nil && l.Error != nil {
		err = fmt.Errorf("an error response, not a page of items: %s", l.Error.Message)
	}
	if err != nil {
		sink.Bad(&archive.InputError{Source: source, Line: line, Err: err})
		return nil
	}
	bad := func(ptr string, err error) {
		sink.Bad(&archive.InputError{Source: source, Line: line, Err: fmt.Errorf("%s: %w", ptr, err)})
	}
	add := func(it archive.Item, metrics map[string]int64, ptr string) error {
		err := sink.AddItem(ctx, it, archive.ItemOptions{Raw: &d, RawPath: ptr, Source: source, Line: line, Metrics: metricsJSON(metrics)})
		if errors.Is(err, archive.ErrBadInput) {
			bad(ptr, err)
			return nil
		}
		return err
	}
	for i, raw := range l.Items {
		ptr := "/items/" + strconv.Itoa(i)
		switch l.Kind {
		case "youtube#videoListResponse", "youtube#playlistItemListResponse":
			var v Video
			if err := json.Unmarshal(raw, &v); err != nil {
				bad(ptr, describeJSON(err))
				continue
			}
			vf := videoFromList(&v)
			if l.Kind == "youtube#playlistItemListResponse" {
				if unavailable(&v) {
					continue // the page is kept; the video's versions stay as they were
				}
				vf = videoFromPlaylist(&v)
			}
			it, err := vf.item(acct.Handle)
			if err != nil {
				bad(ptr, err)
				continue
			}
			if err := add(it, vf.metrics, ptr); err != nil {
				return err
			}
		case "youtube#commentThreadListResponse":
			var th Thread
			if err := json.Unmarshal(raw, &th); err != nil {
				bad(ptr, describeJSON(err))
				continue
			}
			top := th.Snippet.TopLevelComment
			if top.Snippet.VideoID == "" {
				top.Snippet.VideoID = th.Snippet.VideoID
			}
			it, m, err := commentItem(&top, acct.Handle)
			if err != nil {
				bad(ptr, err)
				continue
			}
			m["reply_count"] = int64(th.Snippet.TotalReplyCount)
			if err := add(it, m, ptr+"/snippet/topLevelComment"); err != nil {
				return err
			}
			if th.Replies == nil {
				continue
			}
			for j := range th.Replies.Comments {
				rp := ptr + "/replies/comments/" + strconv.Itoa(j)
				it, m, err := commentItem(&th.Replies.Comments[j], acct.Handle)
				if err != nil {
					bad(rp, err)
					continue
				}
				if err := add(it, m, rp); err != nil {
					return err
				}
			}
		case "youtube#commentListResponse":
			var c Comment
			if err := json.Unmarshal(raw, &c); err != nil {
				bad(ptr, describeJSON(err))
				continue
			}
			it, m, err := commentItem(&c, acct.Handle)
			if err != nil {
				bad(ptr, err)
				continue
			}
			if err := add(it, m, ptr); err != nil {
				return err
			}
		default:
			return nil // channels and others: kept, nothing to record
		}
	}
	return nil
}
