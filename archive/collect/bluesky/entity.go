package bluesky

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// The app.bsky lexicon types osmarc reads. Unions are read by their
// $type; fields added by newer servers are ignored, fields older records
// lack (facets before 2023's richtext, langs, tags) are optional.

// FeedResponse is app.bsky.feed.getAuthorFeed's output.
type FeedResponse struct {
	Cursor string            `json:"cursor"`
	Feed   []json.RawMessage `json:"feed"`
}

// ThreadResponse is app.bsky.feed.getPostThread's output.
type ThreadResponse struct {
	Thread json.RawMessage `json:"thread"`
}

// PostsResponse is app.bsky.feed.getPosts's output.
type PostsResponse struct {
	Posts []json.RawMessage `json:"posts"`
}

// FeedViewPost is app.bsky.feed.defs#feedViewPost.
type FeedViewPost struct {
	Post   *PostView       `json:"post"`
	Reason *Reason         `json:"reason"`
	Reply  json.RawMessage `json:"reply"`
}

// Reason is #reasonRepost or #reasonPin.
type Reason struct {
	Type      string       `json:"$type"`
	By        *ProfileView `json:"by"`
	URI       string       `json:"uri"` // newer servers name the repost record
	IndexedAt string       `json:"indexedAt"`
}

// PostView is app.bsky.feed.defs#postView.
type PostView struct {
	URI         string          `json:"uri"`
	CID         string          `json:"cid"`
	Author      *ProfileView    `json:"author"`
	Record      *PostRecord     `json:"record"`
	Embed       json.RawMessage `json:"embed"`
	ReplyCount  flexInt         `json:"replyCount"`
	RepostCount flexInt         `json:"repostCount"`
	LikeCount   flexInt         `json:"likeCount"`
	QuoteCount  flexInt         `json:"quoteCount"`
	IndexedAt   string          `json:"indexedAt"`
}

// ProfileView is app.bsky.actor.defs#profileViewBasic.
type ProfileView struct {
	DID         string `json:"did"`
	Handle      string `json:"handle"`
	DisplayName string `json:"displayName"`
}

// PostRecord is an app.bsky.feed.post record.
type PostRecord struct {
	Text      string          `json:"text"`
	Facets    []Facet         `json:"facets"`
	Entities  []Entity        `json:"entities"` // before facets (2022–2023)
	Reply     *ReplyRef       `json:"reply"`
	Embed     json.RawMessage `json:"embed"`
	Langs     []string        `json:"langs"`
	Tags      []string        `json:"tags"`
	CreatedAt string          `json:"createdAt"`
}

// ReplyRef names a reply's parent and root.
type ReplyRef struct {
	Root   StrongRef `json:"root"`
	Parent StrongRef `json:"parent"`
}

// StrongRef is com.atproto.repo.strongRef.
type StrongRef struct {
	URI string `json:"uri"`
	CID string `json:"cid"`
}

// Facet is app.bsky.richtext.facet.
type Facet struct {
	Index struct {
		ByteStart int `json:"byteStart"`
		ByteEnd   int `json:"byteEnd"`
	} `json:"index"`
	Features []struct {
		Type string `json:"$type"`
		URI  string `json:"uri"`
		DID  string `json:"did"`
		Tag  string `json:"tag"`
	} `json:"features"`
}

// Entity is the deprecated app.bsky.feed.post#entity.
type Entity struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// Embed is any embed, record or view, read by $type.
type Embed struct {
	Type     string          `json:"$type"`
	Images   []EmbedImage    `json:"images"`
	External *External       `json:"external"`
	Record   json.RawMessage `json:"record"`
	Media    json.RawMessage `json:"media"`
	// video (record and view)
	Alt       string `json:"alt"`
	Playlist  string `json:"playlist"`
	Thumbnail string `json:"thumbnail"`
	CID       string `json:"cid"`
}

// EmbedImage is an image of an images embed (record: image blob; view:
// thumb and fullsize URLs).
type EmbedImage struct {
	Alt      string `json:"alt"`
	Fullsize string `json:"fullsize"`
	Thumb    string `json:"thumb"`
	Image    *Blob  `json:"image"`
}

// Blob is a blob reference.
type Blob struct {
	Ref struct {
		Link string `json:"$link"`
	} `json:"ref"`
	CID      string `json:"cid"` // legacy blob form
	MimeType string `json:"mimeType"`
}

// External is an external link card.
type External struct {
	URI   string `json:"uri"`
	Title string `json:"title"`
}

// ThreadNode is a #threadViewPost, #notFoundPost or #blockedPost.
type ThreadNode struct {
	Type     string            `json:"$type"`
	URI      string            `json:"uri"`
	NotFound bool              `json:"notFound"`
	Blocked  bool              `json:"blocked"`
	Post     *PostView         `json:"post"`
	Replies  []json.RawMessage `json:"replies"`
}

// flexInt reads a count that may be missing, null, a string or a number.
type flexInt struct {
	n     int64
	known bool
}

func (f *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.Trim(bytes.TrimSpace(b), `"`)
	n, err := strconv.ParseInt(string(b), 10, 64)
	*f = flexInt{n: n, known: err == nil}
	return nil
}
