package mastodon

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"strings"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/collect"
	"github.com/osmarc/osmarc/archive/collect/internal/kit"
)

// OutboxImporter reads the outbox.json of a Mastodon account export
// (format "mastodon-outbox"): an ActivityStreams OrderedCollection whose
// orderedItems are Create activities (a Note, or a Question for a poll)
// and Announce activities (boosts). The file is streamed with
// json.Decoder tokens, one activity at a time, each kept as its own raw
// blob. Media named by the export (media_attachments/… beside
// outbox.json) are stored when the export's files are there.
//
// The mapping follows StatusItem's rules (text, content warning, poll
// options, links, tags and mentions, times to the second), so a post
// without media that the live collector also saw gives the same version.
// What the export does not say is left out rather than guessed: a boost
// names only the boosted post's URI, a reply to another server's post
// names its URI as parent, and media are the export's relative paths.
type OutboxImporter struct{}

var _ collect.Importer = OutboxImporter{}

// NewOutboxImporter returns the mastodon-outbox importer.
func NewOutboxImporter() collect.Importer { return OutboxImporter{} }

func (OutboxImporter) Format() string   { return "mastodon-outbox" }
func (OutboxImporter) Platform() string { return Platform }

// Sniff looks for an ActivityStreams collection of activities.
func (OutboxImporter) Sniff(src collect.Source) bool {
	p, err := outboxPath(src)
	if err != nil {
		return false
	}
	f, err := src.FS.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	h := make([]byte, 4096)
	n, _ := io.ReadFull(f, h)
	h = h[:n]
	return bytes.Contains(h, []byte(`"orderedItems"`)) || (bytes.Contains(h, []byte(`"OrderedCollection"`)) && bytes.Contains(h, []byte(`activitystreams`)))
}

func outboxPath(src collect.Source) (string, error) {
	p := src.Path
	if p == "" {
		p = "."
	}
	st, err := fs.Stat(src.FS, p)
	if err != nil {
		return "", fmt.Errorf("%s: %w", src.Name, err)
	}
	if st.IsDir() {
		p = path.Join(p, "outbox.json")
		if _, err := fs.Stat(src.FS, p); err != nil {
			return "", fmt.Errorf("%s: no outbox.json in the export: %w", src.Name, err)
		}
	}
	return p, nil
}

// Activity is an ActivityStreams activity of the outbox.
type Activity struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Actor     string          `json:"actor"`
	Published string          `json:"published"`
	To        stringList      `json:"to"`
	Cc        stringList      `json:"cc"`
	Object    json.RawMessage `json:"object"`
}

// Note is an ActivityStreams Note (or Question, Article, Page).
type Note struct {
	ID           string            `json:"id"`
	Type         string            `json:"type"`
	Summary      *string           `json:"summary"`
	InReplyTo    json.RawMessage   `json:"inReplyTo"`
	Published    string            `json:"published"`
	Updated      string            `json:"updated"`
	URL          json.RawMessage   `json:"url"`
	AttributedTo json.RawMessage   `json:"attributedTo"`
	To           stringList        `json:"to"`
	Cc           stringList        `json:"cc"`
	Content      string            `json:"content"`
	ContentMap   map[string]string `json:"contentMap"`
	Attachment   []ASObject        `json:"attachment"`
	Tag          []ASObject        `json:"tag"`
	OneOf        []ASObject        `json:"oneOf"`
	AnyOf        []ASObject        `json:"anyOf"`
}

// ASObject is an attachment, tag or poll option.
type ASObject struct {
	Type      string          `json:"type"`
	Name      string          `json:"name"`
	Href      string          `json:"href"`
	URL       json.RawMessage `json:"url"`
	MediaType string          `json:"mediaType"`
}

// stringList reads a property that may be one string or a list.
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	*l = nil
	b = bytes.TrimSpace(b)
	if len(b) == 0 || bytes.Equal(b, []byte("null")) {
		return nil
	}
	if b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*l = []string{s}
		return nil
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(b, &raws); err != nil {
		return err
	}
	for _, r := range raws {
		if s := refOf(r); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// refOf reads an ActivityStreams reference: a URI string, or an object
// with an id or href.
func refOf(r json.RawMessage) string {
	r = bytes.TrimSpace(r)
	if len(r) == 0 || bytes.Equal(r, []byte("null")) {
		return ""
	}
	var s string
	if json.Unmarshal(r, &s) == nil {
		return s
	}
	var o struct {
		ID   string `json:"id"`
		Href string `json:"href"`
	}
	if json.Unmarshal(r, &o) == nil {
		if o.Href != "" {
			return o.Href
		}
		return o.ID
	}
	var l []json.RawMessage
	if json.Unmarshal(r, &l) == nil && len(l) > 0 {
		return refOf(l[0])
	}
	return ""
}

// Import implements collect.Importer, streaming orderedItems.
func (OutboxImporter) Import(ctx context.Context, src collect.Source, account archive.Account, sink collect.Sink) error {
	p, err := outboxPath(src)
	if err != nil {
		return err
	}
	name := kit.FileName(src, p)
	f, err := src.FS.Open(p)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	defer f.Close()
	ob := &outbox{ctx: ctx, fsys: src.FS, dir: path.Dir(p), name: name, handle: account.Handle, sink: sink}
	if _, err := fs.Stat(src.FS, path.Join(ob.dir, "media_attachments")); err == nil {
		ob.hasMedia = true
	}
	dec := json.NewDecoder(bufio.NewReaderSize(f, 1<<20))
	bad := func(what string, err error) error {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		sink.Bad(&archive.InputError{Source: name, Err: fmt.Errorf("%s at byte %d: %s", what, dec.InputOffset(), kit.DescribeJSON(err))})
		return nil
	}
	if tok, err := dec.Token(); err != nil {
		return bad("outbox", err)
	} else if tok != json.Delim('{') {
		return bad("outbox", errors.New("not a JSON object (an ActivityStreams OrderedCollection)"))
	}
	found := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return bad("outbox", err)
		}
		key, _ := tok.(string)
		if key != "orderedItems" && key != "items" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return bad("outbox field "+key, err)
			}
			continue
		}
		found = true
		if tok, err := dec.Token(); err != nil {
			return bad(key, err)
		} else if tok != json.Delim('[') {
			return bad(key, errors.New("not an array"))
		}
		for i := 0; dec.More(); i++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return bad(fmt.Sprintf("%s[%d]", key, i), err)
			}
			if err := ob.activity(i, raw); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil {
			return bad(key, err)
		}
	}
	if _, err := dec.Token(); err != nil {
		return bad("outbox", err)
	}
	if !found {
		sink.Bad(&archive.InputError{Source: name, Err: errors.New("no orderedItems: not an outbox")})
	}
	return nil
}

type outbox struct {
	ctx      context.Context
	fsys     fs.FS
	dir      string
	name     string
	handle   string
	sink     collect.Sink
	hasMedia bool
}

func (ob *outbox) activity(i int, raw json.RawMessage) error {
	d, err := ob.sink.PutRaw(ob.ctx, raw, ob.name, "", "application/activity+json")
	if err != nil {
		return fmt.Errorf("%s: keep raw: %w", ob.name, err)
	}
	where := fmt.Sprintf("orderedItems[%d]", i)
	badf := func(err error) error {
		ob.sink.Bad(&archive.InputError{Source: ob.name, Err: fmt.Errorf("%s: %s", where, kit.DescribeJSON(err))})
		return nil
	}
	var a Activity
	if err := json.Unmarshal(kit.ValidUTF8Bytes(raw), &a); err != nil {
		return badf(err)
	}
	opts := archive.ItemOptions{Raw: &d, Source: ob.name}
	switch a.Type {
	case "Create":
		obj := bytes.TrimSpace(a.Object)
		if len(obj) == 0 || obj[0] != '{' {
			return nil // a Create naming only a URI holds no content
		}
		var n Note
		if err := json.Unmarshal(kit.ValidUTF8Bytes(obj), &n); err != nil {
			return badf(err)
		}
		if n.Type == "Tombstone" {
			// A deleted post (ActivityPub servers that keep deletions in
			// the outbox): no content, so no version; an empty one would
			// read as an edit that erased the post. The page is kept.
			return nil
		}
		it, err := NoteItem(&n, ob.handle)
		if err != nil {
			return badf(err)
		}
		if err := ob.media(it.Media); err != nil {
			return err
		}
		opts.RawPath = "/object"
		return kit.Add(ob.ctx, ob.sink, it, opts)
	case "Announce":
		it, err := AnnounceItem(&a, ob.handle)
		if err != nil {
			return badf(err)
		}
		return kit.Add(ob.ctx, ob.sink, it, opts)
	}
	return nil // Like, Follow, … : not content of the account
}

// NoteItem maps an ActivityStreams Note of the account's outbox.
func NoteItem(n *Note, handle string) (archive.Item, error) {
	if n.ID == "" {
		return archive.Item{}, errors.New("object has no id")
	}
	it := archive.Item{Platform: Platform, Account: handle, ID: statusID(n.ID), Kind: KindPost, CreatedAt: timeOr(n.Published)}
	if parent := refOf(n.InReplyTo); parent != "" {
		it.Kind, it.Parent = KindReply, localID(parent, n.ID)
	}
	if n.Updated != "" && timeOr(n.Updated) != it.CreatedAt {
		it.EditedAt = timeOr(n.Updated)
	}
	if by := refOf(n.AttributedTo); by != "" {
		it.Author = &archive.Author{Handle: actorHandle(by, n.ID)}
	}
	content := n.Content
	if content == "" {
		for _, c := range n.ContentMap {
			content = c
			break
		}
	}
	doc := kit.ParseHTML(content)
	cw := ""
	if n.Summary != nil {
		cw = *n.Summary
	}
	var options []string
	for _, o := range append(n.OneOf, n.AnyOf...) {
		options = append(options, o.Name)
	}
	it.Text = kit.PollText(kit.WithContentWarning(cw, doc.Text), options)
	it.Links = doc.Links()
	for _, t := range n.Tag {
		switch t.Type {
		case "Hashtag":
			it.Hashtags = append(it.Hashtags, strings.ToLower(strings.TrimPrefix(t.Name, "#")))
		case "Mention":
			it.Mentions = append(it.Mentions, strings.TrimPrefix(t.Name, "@"))
		}
	}
	it.Hashtags, it.Mentions = kit.Unique(it.Hashtags), kit.Unique(it.Mentions)
	for _, a := range n.Attachment {
		if a.Type == "Link" { // the preview card
			continue
		}
		u := refOf(a.URL)
		if u == "" {
			u = a.Href
		}
		if u == "" {
			continue
		}
		it.Media = append(it.Media, archive.Media{URL: u, Type: mediaKind(a.MediaType, a.Type), Alt: kit.FixText(a.Name)})
	}
	if len(n.ContentMap) == 1 {
		for lang := range n.ContentMap {
			it.Lang = kit.Lang(lang)
		}
	}
	it.URL = refOf(n.URL)
	if it.URL == "" {
		it.URL = n.ID
	}
	it.Visibility = visibility(n.To, n.Cc)
	return it, nil
}

// AnnounceItem maps a boost. The export names only the boosted post, so
// the item has no text: nothing is made up.
func AnnounceItem(a *Activity, handle string) (archive.Item, error) {
	if a.ID == "" {
		return archive.Item{}, errors.New("activity has no id")
	}
	obj := refOf(a.Object)
	it := archive.Item{Platform: Platform, Account: handle, ID: statusID(strings.TrimSuffix(a.ID, "/activity")), Kind: KindBoost,
		CreatedAt: timeOr(a.Published), Parent: obj, URL: obj, Visibility: visibility(a.To, a.Cc)}
	return it, nil
}

const asPublic = "https://www.w3.org/ns/activitystreams#Public"

func isPublic(s string) bool { return s == asPublic || s == "as:Public" || s == "Public" }

// visibility reads Mastodon's visibility from the addressing.
func visibility(to, cc []string) string {
	for _, s := range to {
		if isPublic(s) {
			return "public"
		}
	}
	for _, s := range cc {
		if isPublic(s) {
			return "unlisted"
		}
	}
	for _, s := range to {
		if strings.HasSuffix(s, "/followers") {
			return "private"
		}
	}
	return "direct"
}

// statusID is the status id in a Mastodon status URI
// (https://host/users/name/statuses/ID), or the URI itself.
func statusID(uri string) string {
	if i := strings.LastIndex(uri, "/statuses/"); i >= 0 {
		if id := uri[i+len("/statuses/"):]; id != "" && !strings.Contains(id, "/") {
			return id
		}
	}
	return uri
}

// localID is the id of a status on the same server as self, else the URI.
func localID(uri, self string) string {
	u, err1 := url.Parse(uri)
	s, err2 := url.Parse(self)
	if err1 == nil && err2 == nil && u.Host == s.Host {
		return statusID(uri)
	}
	return uri
}

// actorHandle is the acct of an actor URI as the API names it: the
// username for the export's own server, username@host for another.
func actorHandle(actor, self string) string {
	u, err := url.Parse(actor)
	if err != nil {
		return actor
	}
	name := path.Base(u.Path)
	if s, err := url.Parse(self); err == nil && s.Host == u.Host {
		return name
	}
	return name + "@" + u.Host
}

func mediaKind(mediaType, asType string) string {
	switch {
	case strings.HasPrefix(mediaType, "image/"):
		return "image"
	case strings.HasPrefix(mediaType, "video/"):
		return "video"
	case strings.HasPrefix(mediaType, "audio/"):
		return "audio"
	case asType == "Image":
		return "image"
	case asType == "Video":
		return "video"
	case asType == "Audio":
		return "audio"
	}
	return "unknown"
}

// media stores the export's own files for the item's media (paths
// relative to the export) and sets their digests.
func (ob *outbox) media(ms []archive.Media) error {
	if !ob.hasMedia {
		return nil
	}
	for i := range ms {
		u := ms[i].URL
		if strings.Contains(u, "://") {
			continue
		}
		p := path.Clean(path.Join(ob.dir, strings.TrimPrefix(u, "/")))
		if !fs.ValidPath(p) {
			continue
		}
		d, err := fileDownload(ob.fsys, p, u)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				ob.sink.Bad(&archive.InputError{Source: ob.name, Err: fmt.Errorf("media %s is not in the export", u), Media: true})
				continue
			}
			ob.sink.Bad(&archive.InputError{Source: ob.name, Err: fmt.Errorf("media %s: %v", u, err), Media: true})
			continue
		}
		err = ob.sink.PutMediaFile(ob.ctx, d)
		d.Close()
		if err != nil {
			return fmt.Errorf("store media %s: %w", u, err)
		}
		ms[i].Digest = d.Digest.String()
	}
	return nil
}

// fileDownload copies a file of the export to a hashed temporary file, as
// a download would be.
func fileDownload(fsys fs.FS, p, u string) (*collect.Download, error) {
	src, err := fsys.Open(p)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	tmp, err := os.CreateTemp("", "osmarc-media-*")
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(src, kit.MediaLimit+1))
	d := &collect.Download{URL: u, Size: n, File: tmp, ContentType: contentType(p)}
	copy(d.Digest[:], h.Sum(nil))
	if err == nil && n > kit.MediaLimit {
		err = fmt.Errorf("%w (over %d bytes)", collect.ErrTooLarge, kit.MediaLimit)
	}
	if err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

func contentType(p string) string {
	switch strings.ToLower(path.Ext(p)) {
	case ".png":
		return "image/png"
	case ".jpg", ".jpeg":
		return "image/jpeg"
	case ".gif":
		return "image/gif"
	case ".webp":
		return "image/webp"
	case ".mp4":
		return "video/mp4"
	case ".webm":
		return "video/webm"
	case ".mp3":
		return "audio/mpeg"
	case ".ogg":
		return "audio/ogg"
	}
	return "application/octet-stream"
}
