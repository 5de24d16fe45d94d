package x

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/collect"
	"github.com/osmarc/osmarc/archive/collect/internal/kit"
)

// MaxPageBytes bounds one saved response page (a line of JSON Lines, or a
// file holding one response).
const MaxPageBytes = 64 << 20

// APIImporter imports saved X API v2 responses ("x-api-v2"): files that
// each hold one response page (as the API sent it, or pretty-printed), or
// JSON Lines with one response page a line, as twarc2 writes them
// (twarc2's flattened output, one tweet a line with its expansions inline,
// is read too). A folder is read file by file, in name order. Each page is
// kept byte for byte and each tweet in it becomes an item version, as the
// live collector would record it.
type APIImporter struct{}

// NewAPIImporter returns the x-api-v2 importer.
func NewAPIImporter() *APIImporter { return &APIImporter{} }

var _ collect.Importer = (*APIImporter)(nil)

func (*APIImporter) Format() string   { return "x-api-v2" }
func (*APIImporter) Platform() string { return Platform }

// Sniff says whether src's first file starts like an X API v2 response.
func (*APIImporter) Sniff(src collect.Source) bool {
	head := kit.Head(src, 64<<10)
	return sniffV2(head)
}

// sniffV2 looks for the keys of a v2 response or tweet near the start.
func sniffV2(head []byte) bool {
	h := bytes.TrimSpace(head)
	if len(h) == 0 || h[0] != '{' {
		return false
	}
	if bytes.Contains(h, []byte(`"kind"`)) && bytes.Contains(h, []byte(`"youtube#`)) {
		return false
	}
	hasData := bytes.Contains(h, []byte(`"data"`)) || bytes.Contains(h, []byte(`"__twarc"`))
	tweetish := bytes.Contains(h, []byte(`"edit_history_tweet_ids"`)) || bytes.Contains(h, []byte(`"result_count"`)) ||
		bytes.Contains(h, []byte(`"author_id"`)) || bytes.Contains(h, []byte(`"conversation_id"`))
	return hasData && tweetish
}

// Import reads src into sink.
func (ai *APIImporter) Import(ctx context.Context, src collect.Source, acct archive.Account, sink collect.Sink) error {
	files, err := kit.SourceFiles(src, nil)
	if err != nil {
		return err
	}
	r := &apiImport{importer: importer{sink: sink, account: acct}, ownID: acct.ID}
	defer r.close()
	for _, name := range files {
		if err := r.file(ctx, src, name); err != nil {
			return err
		}
	}
	return r.flushHeld(ctx)
}

type apiImport struct {
	importer
	ownID string
}

// file reads one file: JSON Lines when its first line is a whole JSON
// value, else one response page.
func (r *apiImport) file(ctx context.Context, src collect.Source, name string) error {
	return kit.ResponsePages(ctx, src, name, r.sink, MaxPageBytes, r.page)
}

// page keeps one response page and records its tweets.
func (r *apiImport) page(ctx context.Context, body []byte, source string, line int, lines string) error {
	d, err := r.sink.PutRaw(ctx, body, source, lines, "application/json")
	if err != nil {
		return fmt.Errorf("keep %s: %w", source, err)
	}
	p, err := ParsePage(body)
	if err != nil {
		r.sink.Bad(&archive.InputError{Source: source, Line: line, Err: err})
		return nil
	}
	if p.Problem != nil && len(p.Tweets) == 0 {
		r.sink.Bad(&archive.InputError{Source: source, Line: line, Err: fmt.Errorf("an error response, not a page of tweets: %s", p.Problem)})
		return nil
	}
	for _, b := range p.Bad {
		r.sink.Bad(&archive.InputError{Source: source, Line: line, Err: fmt.Errorf("%s: %w", b.Pointer, b.Err)})
	}
	if r.ownID == "" {
		for _, u := range p.Users {
			if strings.EqualFold(u.Username, r.account.Handle) {
				r.ownID = u.ID
			}
		}
	}
	for _, t := range p.Tweets {
		f, err := fromV2(t, p)
		if err != nil {
			r.sink.Bad(&archive.InputError{Source: source, Line: line, Err: fmt.Errorf("%s: tweet %s: %w", t.Pointer, t.ID, err)})
			continue
		}
		o := archive.ItemOptions{Raw: &d, RawPath: t.Pointer, Source: source, Line: line}
		if err := r.add(ctx, f, isOwn(f, r.ownID, r.account.Handle), o, nil); err != nil {
			return err
		}
	}
	return nil
}

// isOwn says whether a tweet is the account's own: by the account's id
// when known, else by its handle.
func isOwn(f *facts, ownID, handle string) bool {
	if ownID != "" {
		return f.authorID == "" || f.authorID == ownID
	}
	return f.authorHandle == "" || strings.EqualFold(f.authorHandle, handle)
}
