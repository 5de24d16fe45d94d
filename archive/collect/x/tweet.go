package x

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/osmarc/osmarc/archive"
)

// Platform is the platform name X accounts are registered under.
const Platform = "x"

// facts are what osmarc keeps of one tweet (one version of an item), read
// from an API v2 tweet or from an account archive's tweet. Both readers
// fill the same fields the same way, and item() alone turns them into an
// archive.Item, so the live collector and an import that see the same
// tweet make the same version.
type facts struct {
	id           string    // this version's id
	chain        []string  // edit history, oldest first (may be empty)
	text         string    // as the platform gives it (HTML-escaped)
	created      time.Time // this version's creation time
	authorID     string
	authorHandle string
	conversation string
	parent       string
	quoted       bool
	lang         string
	links        []string
	hashtags     []string
	mentions     []string
	media        []mediaRef
	metrics      map[string]int64
	ptr          string // JSON pointer of the tweet in its raw blob
	withheld     string // X withholds the tweet (Visibility): see withheldVisibility
}

// withheldVisibility is the item's visibility when X withholds a tweet:
// "withheld in DE, FR" (the countries, sorted), "withheld (copyright)", or
// both joined with "; ".
func withheldVisibility(copyright bool, countries []string) string {
	var parts []string
	cs := slices.Sorted(slices.Values(countries))
	cs = slices.DeleteFunc(slices.Compact(cs), func(c string) bool { return strings.TrimSpace(c) == "" })
	if len(cs) > 0 {
		parts = append(parts, "withheld in "+strings.Join(cs, ", "))
	}
	if copyright {
		parts = append(parts, "withheld (copyright)")
	}
	return strings.Join(parts, "; ")
}

type mediaRef struct {
	url, typ, alt string
	// file is the media file of an account archive, when it has one.
	file string
}

// itemID is the item's id: the first id of the edit chain, so every
// version of an edited tweet is the same item.
func (f *facts) itemID() string {
	if len(f.chain) > 0 && f.chain[0] != "" {
		return f.chain[0]
	}
	return f.id
}

// isEdit says this version is a later version of an edited tweet.
func (f *facts) isEdit() bool { return f.itemID() != f.id }

// latest says this version is the last of its chain as far as it knows.
func (f *facts) latest() bool { return len(f.chain) == 0 || f.chain[len(f.chain)-1] == f.id }

var unescaper = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")

// unescapeText undoes X's escaping of text: both the API and the archive
// write &, < and > as &amp;, &lt; and &gt; (and a typed "&amp;" as
// "&amp;amp;"); one left-to-right pass undoes exactly that.
func unescapeText(s string) string { return unescaper.Replace(s) }

var reLang = regexp.MustCompile(`^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$`)

// item makes the archive item of one version. own says the tweet is the
// account's own; replies by others carry their conversation as Thread
// (an account archive holds no conversation ids, so the account's own
// tweets do not, in either source).
func (f *facts) item(account string, own bool) archive.Item {
	id := f.itemID()
	it := archive.Item{
		Platform: Platform,
		Account:  account,
		ID:       id,
		Kind:     f.kind(),
		Text:     unescapeText(f.text),
		Parent:   f.parent,
		URL:      "https://x.com/i/web/status/" + id,
		// Visibility: only a withheld tweet says anything; X gives no
		// other visibility for a tweet.
		Visibility: f.withheld,
	}
	created := f.created
	if f.isEdit() {
		// Every version of an edited tweet keeps the first version's
		// time, taken from its id (a snowflake), so a version read
		// without the first in hand gets the same time; each later
		// version's own time is its edited_at.
		if t, ok := snowflakeTime(id); ok {
			created = t
		}
		it.EditedAt = f.created.UTC().Format(time.RFC3339Nano)
	}
	it.CreatedAt = created.UTC().Format(time.RFC3339Nano)
	if reLang.MatchString(f.lang) {
		it.Lang = f.lang
	}
	if f.authorID != "" || f.authorHandle != "" {
		it.Author = &archive.Author{ID: f.authorID, Handle: f.authorHandle}
	}
	if !own && f.conversation != "" {
		it.Thread = f.conversation
	}
	it.Links = f.links
	it.Hashtags = f.hashtags
	it.Mentions = f.mentions
	for _, m := range f.itemMedia() {
		it.Media = append(it.Media, archive.Media{URL: m.url, Type: m.typ, Alt: m.alt})
	}
	return it
}

// itemMedia are the media the item names, in order. A retweet names none:
// its media are the retweeted tweet's (the API gives a retweet none, an
// archive repeats the original's).
func (f *facts) itemMedia() []mediaRef {
	if f.kind() == "retweet" {
		return nil
	}
	var out []mediaRef
	for _, m := range f.media {
		if m.url != "" {
			out = append(out, m)
		}
	}
	return out
}

func (f *facts) kind() string {
	switch {
	case strings.HasPrefix(f.text, "RT @"):
		return "retweet"
	case f.parent != "":
		return "reply"
	case f.quoted:
		return "quote"
	}
	return "post"
}

func (f *facts) metricsJSON() json.RawMessage {
	if len(f.metrics) == 0 {
		return nil
	}
	b, _ := json.Marshal(f.metrics) // map keys come out sorted
	return b
}

// twepoch is the epoch of X's snowflake ids, in Unix milliseconds.
const twepoch = 1288834974657

// snowflakeTime is the creation time a snowflake tweet id carries, to the
// second (as created_at gives it).
func snowflakeTime(id string) (time.Time, bool) {
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil || n < 1<<40 { // ids before snowflakes (2010) carry no time
		return time.Time{}, false
	}
	ms := int64(n>>22) + twepoch
	return time.UnixMilli(ms).UTC().Truncate(time.Second), true
}

// snowflakeID is the smallest id of a tweet made at t (for fixtures and
// the synthetic archive).
func snowflakeID(t time.Time, seq uint64) string {
	return strconv.FormatUint(uint64(t.UnixMilli()-twepoch)<<22|seq&(1<<22-1), 10)
}

// parseTime reads the times X writes: "Wed Oct 10 20:19:24 +0000 2018"
// (archives and API v1.1), "2018-10-10 20:19:24 +0000" (older archives)
// and RFC 3339 (API v2).
func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, time.RubyDate, "2006-01-02 15:04:05 -0700", "2006-01-02 15:04:05 MST"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	if s == "" {
		return time.Time{}, errors.New("missing created_at")
	}
	return time.Time{}, fmt.Errorf("created_at %q is not a time X writes (like \"Wed Oct 10 20:19:24 +0000 2018\")", s)
}

var reMediaPermalink = regexp.MustCompile(`/status/\d+/(photo|video)/\d+$`)
var reStatusURL = regexp.MustCompile(`^https?://(?:www\.|mobile\.)?(?:twitter|x)\.com/[^/]+/status/\d+`)

// bestVideo is the highest-bitrate MP4 of a video's variants.
func bestVideo(vs []variant) string {
	best, rate := "", int64(-1)
	for _, v := range vs {
		if v.ContentType != "video/mp4" || v.URL == "" {
			continue
		}
		r := max(int64(v.BitRate), int64(v.Bitrate))
		if r > rate {
			best, rate = v.URL, r
		}
	}
	return best
}

// mediaURL is the URL osmarc names a media object by, the same from both
// sources: a photo's image; a video's or GIF's best MP4, or its preview
// image when no variant is given.
func mediaURL(typ, image string, vs []variant) string {
	if typ != "photo" {
		if v := bestVideo(vs); v != "" {
			return v
		}
	}
	return image
}

// fromV2 reads the facts of an API v2 tweet; p holds its expansions.
func fromV2(t *Tweet, p *Page) (*facts, error) {
	f := &facts{
		id: t.ID, chain: t.EditHistoryTweetIDs, text: t.Text, authorID: t.AuthorID,
		conversation: t.ConversationID, lang: t.Lang, ptr: t.Pointer,
	}
	if t.CreatedAt == "" {
		return nil, errors.New("tweet without created_at (ask for tweet.fields=created_at)")
	}
	var err error
	if f.created, err = parseTime(t.CreatedAt); err != nil {
		return nil, err
	}
	if u, ok := p.Users[t.AuthorID]; ok {
		f.authorHandle = u.Username
	}
	for _, r := range t.ReferencedTweets {
		switch r.Type {
		case "replied_to":
			f.parent = r.ID
		case "quoted":
			f.quoted = true
		}
	}
	if w := t.Withheld; w != nil {
		f.withheld = withheldVisibility(w.Copyright, w.CountryCodes)
	}
	ents := t.Entities
	if t.NoteTweet != nil && t.NoteTweet.Text != "" {
		f.text = t.NoteTweet.Text
		ents = t.NoteTweet.Entities
	}
	if ents != nil {
		for _, u := range ents.URLs {
			link := u.ExpandedURL
			if link == "" {
				link = u.URL
			}
			if u.MediaKey != "" || link == "" || reMediaPermalink.MatchString(link) {
				continue
			}
			f.links = append(f.links, link)
		}
		for _, h := range ents.Hashtags {
			f.hashtags = append(f.hashtags, h.Tag)
		}
		for _, m := range ents.Mentions {
			f.mentions = append(f.mentions, m.Username)
		}
	}
	for _, k := range t.Attachments.MediaKeys {
		m, ok := p.Media[k]
		if !ok {
			continue
		}
		img := m.URL
		if img == "" {
			img = m.PreviewImageURL
		}
		f.media = append(f.media, mediaRef{url: mediaURL(m.Type, img, m.Variants), typ: m.Type, alt: m.AltText})
	}
	if len(t.PublicMetrics) > 0 {
		f.metrics = map[string]int64{}
		for k, v := range t.PublicMetrics {
			f.metrics[k] = int64(v)
		}
	}
	return f, nil
}

// ArchiveTweet is a tweet of an account archive's tweets.js (API v1.1
// shape, numbers often written as strings).
type ArchiveTweet struct {
	IDStr                string           `json:"id_str"`
	ID                   flexID           `json:"id"`
	FullText             *string          `json:"full_text"`
	Text                 string           `json:"text"`
	CreatedAt            string           `json:"created_at"`
	InReplyToStatusIDStr string           `json:"in_reply_to_status_id_str"`
	InReplyToStatusID    flexID           `json:"in_reply_to_status_id"`
	Lang                 string           `json:"lang"`
	Entities             *archiveEntities `json:"entities"`
	ExtendedEntities     *archiveEntities `json:"extended_entities"`
	FavoriteCount        *flexInt         `json:"favorite_count"`
	RetweetCount         *flexInt         `json:"retweet_count"`
	EditInfo             *struct {
		Initial *struct {
			EditTweetIDs []string `json:"editTweetIds"`
		} `json:"initial"`
		Edit *struct {
			InitialTweetID     string `json:"initialTweetId"`
			EditControlInitial *struct {
				EditTweetIDs []string `json:"editTweetIds"`
			} `json:"editControlInitial"`
		} `json:"edit"`
	} `json:"edit_info"`
	// EditControl is the edit history in the shape of API v1.1's
	// ext_edit_control, which some exports carry instead of edit_info.
	EditControl *struct {
		EditTweetIDs   []string `json:"edit_tweet_ids"`
		InitialTweetID string   `json:"initial_tweet_id"`
	} `json:"edit_control"`
	IsQuoteStatus     flexBool `json:"is_quote_status"`
	QuotedStatusIDStr string   `json:"quoted_status_id_str"`
	DeletedAt         string   `json:"deleted_at"`
	// WithheldInCountries and WithheldCopyright: X withholds the tweet
	// (API v1.1 fields, which archives keep).
	WithheldInCountries []string `json:"withheld_in_countries"`
	WithheldCopyright   flexBool `json:"withheld_copyright"`
}

type archiveEntities struct {
	Hashtags []struct {
		Text string `json:"text"`
	} `json:"hashtags"`
	UserMentions []struct {
		ScreenName string `json:"screen_name"`
	} `json:"user_mentions"`
	URLs []struct {
		URL         string `json:"url"`
		ExpandedURL string `json:"expanded_url"`
	} `json:"urls"`
	Media []struct {
		MediaURLHTTPS string `json:"media_url_https"`
		MediaURL      string `json:"media_url"`
		Type          string `json:"type"`
		AltText       string `json:"ext_alt_text"`
		VideoInfo     *struct {
			Variants []variant `json:"variants"`
		} `json:"video_info"`
	} `json:"media"`
}

// flexID is an id written as a string or as a number.
type flexID string

func (s *flexID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		return nil
	case len(b) > 0 && b[0] == '"':
		var v string
		err := json.Unmarshal(b, &v)
		*s = flexID(v)
		return err
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("want an id, got %s", b)
	}
	*s = flexID(n.String())
	return nil
}

// flexBool is true, false, "true" or "false".
type flexBool bool

func (v *flexBool) UnmarshalJSON(b []byte) error {
	switch strings.Trim(string(bytes.TrimSpace(b)), `"`) {
	case "true":
		*v = true
	case "false", "null", "":
		*v = false
	default:
		return fmt.Errorf("want true or false, got %s", b)
	}
	return nil
}

// owner is the account an archive belongs to.
type owner struct {
	id, handle string
}

// fromArchive reads the facts of an account archive's tweet.
func fromArchive(t *ArchiveTweet, o owner) (*facts, error) {
	f := &facts{id: t.IDStr, authorID: o.id, authorHandle: o.handle, lang: t.Lang,
		withheld: withheldVisibility(bool(t.WithheldCopyright), t.WithheldInCountries)}
	if f.id == "" {
		f.id = string(t.ID)
	}
	if f.id == "" {
		return nil, errors.New("tweet without id_str")
	}
	if t.FullText != nil {
		f.text = *t.FullText
	} else {
		f.text = t.Text
	}
	var err error
	if f.created, err = parseTime(t.CreatedAt); err != nil {
		return nil, err
	}
	if ei := t.EditInfo; ei != nil {
		switch {
		case ei.Initial != nil:
			f.chain = ei.Initial.EditTweetIDs
		case ei.Edit != nil && ei.Edit.EditControlInitial != nil && len(ei.Edit.EditControlInitial.EditTweetIDs) > 0:
			f.chain = ei.Edit.EditControlInitial.EditTweetIDs
		case ei.Edit != nil && ei.Edit.InitialTweetID != "":
			f.chain = []string{ei.Edit.InitialTweetID, f.id}
		}
	}
	if ec := t.EditControl; len(f.chain) == 0 && ec != nil {
		switch {
		case len(ec.EditTweetIDs) > 0:
			f.chain = ec.EditTweetIDs
		case ec.InitialTweetID != "":
			f.chain = []string{ec.InitialTweetID, f.id}
		}
	}
	f.parent = t.InReplyToStatusIDStr
	if f.parent == "" {
		f.parent = string(t.InReplyToStatusID)
	}
	f.quoted = bool(t.IsQuoteStatus) || t.QuotedStatusIDStr != ""
	if e := t.Entities; e != nil {
		for _, u := range e.URLs {
			link := u.ExpandedURL
			if link == "" {
				link = u.URL
			}
			if link == "" || reMediaPermalink.MatchString(link) {
				continue
			}
			f.links = append(f.links, link)
		}
		// Older archives lack is_quote_status: a quote ends with the
		// quoted tweet's link.
		if !f.quoted && len(f.links) > 0 && reStatusURL.MatchString(f.links[len(f.links)-1]) {
			f.quoted = true
		}
		for _, h := range e.Hashtags {
			f.hashtags = append(f.hashtags, h.Text)
		}
		for _, m := range e.UserMentions {
			f.mentions = append(f.mentions, m.ScreenName)
		}
	}
	media := t.ExtendedEntities
	if media == nil || len(media.Media) == 0 {
		media = t.Entities
	}
	if media != nil {
		for _, m := range media.Media {
			img := m.MediaURLHTTPS
			if img == "" {
				img = m.MediaURL
			}
			var vs []variant
			if m.VideoInfo != nil {
				vs = m.VideoInfo.Variants
			}
			u := mediaURL(m.Type, img, vs)
			f.media = append(f.media, mediaRef{url: u, typ: m.Type, alt: m.AltText, file: mediaFileName(f.id, u)})
		}
	}
	if t.FavoriteCount != nil || t.RetweetCount != nil {
		f.metrics = map[string]int64{}
		if t.FavoriteCount != nil {
			f.metrics["like_count"] = int64(*t.FavoriteCount)
		}
		if t.RetweetCount != nil {
			f.metrics["retweet_count"] = int64(*t.RetweetCount)
		}
	}
	return f, nil
}

// mediaFileName is the name an account archive gives a tweet's media file
// in its media folder: "<tweet id>-<the URL's last element>".
func mediaFileName(tweetID, u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	base := path.Base(u)
	if base == "." || base == "/" || base == "" {
		return ""
	}
	return tweetID + "-" + base
}
