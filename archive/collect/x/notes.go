package x

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/collect"
	"github.com/osmarc/osmarc/archive/collect/internal/kit"
)

// A long post (over 280 characters, a "note tweet") is in an account
// archive twice: data/tweets.js holds the tweet with its text cut short
// (ending in "…", often followed by a t.co link to the post), and
// data/note-tweet.js holds the whole text:
//
//	window.YTD.note_tweet.part0 = [ {"noteTweet": {"noteTweetId": "…",
//	  "createdAt": "2026-02-20T09:30:00.000Z", "updatedAt": "…",
//	  "core": {"text": "…", "urls": [{"shortUrl", "expandedUrl", …}],
//	  "mentions": [{"screenName", …}], "hashtags": [{"text", …}], …}}} ]
//
// The note's id is not the tweet's, and the tweet does not name its note:
// they are joined by creation time (the same second, give or take one)
// and text (the cut text, without its "…" and t.co links, begins the
// note's). The tweet is then recorded with the note's text, links,
// hashtags and mentions, as the API's note_tweet gives them, so the live
// collector and the import make the same version. note-tweet.js is kept byte for byte as raw blobs
// of the capture, like tweets.js.

// ArchiveNote is an element of note-tweet.js.
type ArchiveNote struct {
	NoteTweet *struct {
		NoteTweetID flexID `json:"noteTweetId"`
		CreatedAt   string `json:"createdAt"`
		UpdatedAt   string `json:"updatedAt"`
		Core        *struct {
			Text string `json:"text"`
			URLs []struct {
				ShortURL    string `json:"shortUrl"`
				ExpandedURL string `json:"expandedUrl"`
			} `json:"urls"`
			Mentions []struct {
				ScreenName string `json:"screenName"`
			} `json:"mentions"`
			Hashtags []struct {
				Text string `json:"text"`
			} `json:"hashtags"`
		} `json:"core"`
	} `json:"noteTweet"`
}

// note is what the join needs of one note tweet; notes are kept in a
// temporary file, not in memory, so an archive of many long posts costs
// a few bytes of index each.
type note struct {
	ID       string   `json:"id"`
	Created  int64    `json:"created"` // Unix seconds
	Text     string   `json:"text"`
	Links    []string `json:"links,omitempty"`
	Hashtags []string `json:"hashtags,omitempty"`
	Mentions []string `json:"mentions,omitempty"`
	Source   string   `json:"source"`
	Line     int      `json:"line"`
}

type noteRef struct {
	at   spillRef
	used bool
}

// notes is the index of an archive's note tweets by creation second.
type notes struct {
	spill *spill
	bySec map[int64][]*noteRef
	count int
}

func (ns *notes) close() {
	if ns != nil {
		ns.spill.close()
	}
}

// readNotes reads the note-tweet files of an archive, keeping their bytes
// as raw blobs, and indexes their notes. Bad elements are reported and
// skipped; only a failing sink ends it with an error.
func readNotes(ctx context.Context, sink collect.Sink, src collect.Source, files []string) (*notes, error) {
	ns := &notes{bySec: map[int64][]*noteRef{}}
	if len(files) == 0 {
		return ns, nil
	}
	sp, err := newSpill("notes")
	if err != nil {
		return nil, fmt.Errorf("note tweets: %w", err)
	}
	ns.spill = sp
	for _, name := range files {
		if err := ns.readFile(ctx, sink, src, name); err != nil {
			ns.close()
			return nil, err
		}
	}
	return ns, nil
}

func (ns *notes) readFile(ctx context.Context, sink collect.Sink, src collect.Source, name string) error {
	source := kit.FileName(src, name)
	f, err := src.FS.Open(name)
	if err != nil {
		sink.Bad(&archive.InputError{Source: source, Err: err})
		return nil
	}
	defer f.Close()
	y := NewYTDReader(f)
	ch := rawChunker{sink: sink, source: source}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		el, err := y.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			sink.Bad(structureError(source, err))
			break
		}
		var an ArchiveNote
		if err := json.Unmarshal(el.JSON, &an); err != nil {
			if err := ch.flush(ctx); err != nil {
				return err
			}
			sink.Bad(&archive.InputError{Source: source, Line: el.Line, Err: fmt.Errorf("element %d: %w", el.Index, describeJSON(err))})
			continue
		}
		ch.add(el)
		n, err := fromArchiveNote(&an)
		if err != nil {
			sink.Bad(&archive.InputError{Source: source, Line: el.Line, Err: fmt.Errorf("element %d: %w", el.Index, err)})
		} else {
			n.Source, n.Line = source, el.Line
			if err := ns.add(n); err != nil {
				return err
			}
		}
		if ch.full() {
			if err := ch.flush(ctx); err != nil {
				return err
			}
		}
	}
	return ch.flush(ctx)
}

func fromArchiveNote(an *ArchiveNote) (*note, error) {
	nt := an.NoteTweet
	if nt == nil {
		return nil, errors.New(`not a note tweet (no "noteTweet")`)
	}
	if nt.Core == nil || nt.Core.Text == "" {
		return nil, fmt.Errorf("note tweet %s has no text (core.text)", nt.NoteTweetID)
	}
	created, err := parseTime(nt.CreatedAt)
	if err != nil {
		return nil, fmt.Errorf("note tweet %s: %w", nt.NoteTweetID, err)
	}
	n := &note{ID: string(nt.NoteTweetID), Created: created.Unix(), Text: nt.Core.Text}
	for _, u := range nt.Core.URLs {
		link := u.ExpandedURL
		if link == "" {
			link = u.ShortURL
		}
		if link != "" && !reMediaPermalink.MatchString(link) {
			n.Links = append(n.Links, link)
		}
	}
	for _, h := range nt.Core.Hashtags {
		n.Hashtags = append(n.Hashtags, h.Text)
	}
	for _, m := range nt.Core.Mentions {
		n.Mentions = append(n.Mentions, m.ScreenName)
	}
	return n, nil
}

func (ns *notes) add(n *note) error {
	at, err := ns.spill.put(n)
	if err != nil {
		return fmt.Errorf("note tweets: %w", err)
	}
	ns.bySec[n.Created] = append(ns.bySec[n.Created], &noteRef{at: at})
	ns.count++
	return nil
}

func (ns *notes) read(r *noteRef) (*note, error) {
	var n note
	if err := ns.spill.get(r.at, &n); err != nil {
		return nil, fmt.Errorf("note tweets: %w", err)
	}
	return &n, nil
}

var reTco = regexp.MustCompile(`https?://t\.co/\S*`)

// joinKey is a text as the join compares it: unescaped, without t.co
// links and the ellipsis of a cut text, white space collapsed.
func joinKey(s string) string {
	s = reTco.ReplaceAllString(unescapeText(s), " ")
	s = strings.TrimRightFunc(s, unicode.IsSpace)
	s = strings.TrimSuffix(strings.TrimSuffix(s, "…"), "...")
	return strings.Join(strings.Fields(s), " ")
}

// looksCut says a tweet's text was cut short: it ends in an ellipsis,
// perhaps followed by t.co links.
func looksCut(s string) bool {
	s = strings.TrimRightFunc(reTco.ReplaceAllString(s, " "), unicode.IsSpace)
	return strings.HasSuffix(s, "…") || strings.HasSuffix(s, "...")
}

// join gives f the whole text of its long post, when the archive has it:
// a note made in the same second (or the one before or after: the note
// and the tweet are stamped apart) whose text the tweet's begins. When no
// note's text matches, a note of the tweet's own second is still taken if
// it is the only one left and the tweet's text was cut short.
func (ns *notes) join(f *facts) error {
	if ns == nil || ns.count == 0 {
		return nil
	}
	sec := f.created.Unix()
	key := joinKey(f.text)
	var only *noteRef
	var onlyNote *note
	free := 0
	for _, s := range []int64{sec, sec - 1, sec + 1} {
		for _, r := range ns.bySec[s] {
			if r.used {
				continue
			}
			n, err := ns.read(r)
			if err != nil {
				return err
			}
			if s == sec {
				free++
				only, onlyNote = r, n
			}
			if key != "" && strings.HasPrefix(joinKey(n.Text), key) {
				r.used = true
				applyNote(f, n)
				return nil
			}
		}
	}
	if free == 1 && looksCut(f.text) {
		only.used = true
		applyNote(f, onlyNote)
	}
	return nil
}

func applyNote(f *facts, n *note) {
	f.text, f.links, f.hashtags, f.mentions = n.Text, n.Links, n.Hashtags, n.Mentions
}

// unjoined reports each note no tweet took: its text is kept in the
// capture's raw blobs, but no item carries it.
func (ns *notes) unjoined(sink collect.Sink) error {
	if ns == nil || ns.count == 0 {
		return nil
	}
	for _, refs := range ns.bySec {
		for _, r := range refs {
			if r.used {
				continue
			}
			n, err := ns.read(r)
			if err != nil {
				return err
			}
			sink.Bad(&archive.InputError{Source: n.Source, Line: n.Line, Err: fmt.Errorf(
				"note tweet %s (a long post made %s) matches no tweet of the archive: its full text is kept with the capture's raw input, but no item carries it",
				n.ID, time.Unix(n.Created, 0).UTC().Format(time.RFC3339))})
		}
	}
	return nil
}

// rawChunker keeps a data file byte for byte in runs of whole elements,
// each run stored as a JSON array (see chunkElements).
type rawChunker struct {
	sink        collect.Sink
	source      string
	buf         []byte
	n           int
	first, last int
}

func (c *rawChunker) add(el Element) {
	if c.n == 0 {
		c.buf = append(make([]byte, 0, chunkBytes+chunkBytes/4), '[')
		c.first = el.Line
	} else {
		c.buf = append(c.buf, el.Sep...)
	}
	c.buf = append(c.buf, el.JSON...)
	c.n++
	c.last = el.Line
}

func (c *rawChunker) full() bool { return c.n >= chunkElements || len(c.buf) >= chunkBytes }

func (c *rawChunker) flush(ctx context.Context) error {
	_, err := c.put(ctx)
	return err
}

// put stores the run and returns its digest (nil when the run is empty).
func (c *rawChunker) put(ctx context.Context) (*archive.Digest, error) {
	if c.n == 0 {
		return nil, nil
	}
	c.buf = append(c.buf, ']')
	d, err := c.sink.PutRaw(ctx, c.buf, c.source, fmt.Sprintf("%d-%d", c.first, c.last), "application/json")
	if err != nil {
		return nil, fmt.Errorf("keep %s: %w", c.source, err)
	}
	// The sink may still be writing buf: the next run gets its own.
	c.buf, c.n = nil, 0
	return &d, nil
}
