package graph

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/collect"
)

// Time normalises a Graph API time ("2024-01-15T14:00:00+0000", which is
// not RFC 3339, or RFC 3339 itself, or Unix seconds) to RFC 3339 in UTC.
func Time(s string) (string, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{"2006-01-02T15:04:05-0700", time.RFC3339Nano, "2006-01-02T15:04:05.999999999-0700", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC().Format(time.RFC3339Nano), nil
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
		return Unix(n), nil
	}
	return "", fmt.Errorf("%q is not a Graph API time (like 2024-01-15T14:00:00+0000)", s)
}

// Unix is a Unix time in seconds as RFC 3339 in UTC.
func Unix(sec int64) string { return time.Unix(sec, 0).UTC().Format(time.RFC3339Nano) }

// StableMediaURL is a media URL without what changes between fetches of
// the same file: Meta's CDNs (fbcdn.net, cdninstagram.com) sign every URL
// with expiring query parameters (oh=, oe=, _nc_…), so the version of an
// item records the path alone; the raw response keeps the full URL.
func StableMediaURL(u string) string {
	pu, err := url.Parse(u)
	if err != nil || pu.Host == "" {
		return u
	}
	h := strings.ToLower(pu.Hostname())
	for _, cdn := range []string{"fbcdn.net", "cdninstagram.com", "fbsbx.com"} {
		if h == cdn || strings.HasSuffix(h, "."+cdn) {
			pu.RawQuery, pu.Fragment = "", ""
			return pu.String()
		}
	}
	return u
}

// UnwrapLink returns the target of Facebook's and Instagram's outbound
// redirect links (l.facebook.com/l.php?u=…&h=…, whose h= changes), or u.
func UnwrapLink(u string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return u
	}
	switch strings.ToLower(pu.Hostname()) {
	case "l.facebook.com", "lm.facebook.com", "l.instagram.com":
		if t := pu.Query().Get("u"); t != "" && (strings.HasPrefix(t, "http://") || strings.HasPrefix(t, "https://")) {
			return t
		}
	}
	return u
}

var reHashtag = regexp.MustCompile(`(?:^|[^\p{L}\p{N}_&/#])#([\p{L}\p{N}_]*[\p{L}_][\p{L}\p{N}_]*)`)

// Hashtags are the #tags in text, without the '#', once each, in order.
func Hashtags(text string) []string {
	if !strings.Contains(text, "#") {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for _, m := range reHashtag.FindAllStringSubmatch(text, -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			out = append(out, m[1])
		}
	}
	return out
}

// AppendUnique appends s to list unless it is empty or already there.
func AppendUnique(list []string, s string) []string {
	if s == "" {
		return list
	}
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// MediaLimit is the most bytes one media download may take.
const MediaLimit = 100 << 20

// MediaTypes are the content types a media download accepts.
var MediaTypes = []string{"image/", "video/"}

// Tracker is a Sink that counts bad records, so a collector knows whether
// its listing may still be called complete.
type Tracker struct {
	collect.Sink
	Bads int
}

// Bad counts and passes on a bad record.
func (t *Tracker) Bad(e *archive.InputError) {
	t.Bads++
	t.Sink.Bad(e)
}

// Add records an item: a refused item is reported as bad (source names
// it) and the run goes on; any other error ends the run.
func Add(ctx context.Context, sink collect.Sink, it archive.Item, o archive.ItemOptions) error {
	err := sink.AddItem(ctx, it, o)
	if errors.Is(err, archive.ErrBadInput) {
		sink.Bad(&archive.InputError{Source: o.Source, Line: o.Line, Err: fmt.Errorf("%s %s: %v", it.Kind, it.ID, err)})
		return nil
	}
	return err
}

// Media downloads each of it.Media whose full URL is in urls (same index;
// empty is skipped) and stores it, setting the media's digest. A failed
// download is reported as bad, naming the URL, and the run goes on; a
// store failure ends it. It does nothing unless job.Media.
func (c *Client) Media(ctx context.Context, job *collect.Job, sink collect.Sink, it *archive.Item, urls []string) error {
	if !job.Media {
		return nil
	}
	for i := range it.Media {
		if i >= len(urls) || urls[i] == "" {
			continue
		}
		d, err := job.HTTP.Download(ctx, urls[i], MediaLimit, MediaTypes)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			sink.Bad(&archive.InputError{Source: c.Scrub(it.Media[i].URL), Err: fmt.Errorf("media of %s %s: %v", it.Kind, it.ID, scrubbedError{err, c}), Media: true})
			continue
		}
		err = sink.PutMediaFile(ctx, d)
		d.Close()
		if err != nil {
			return fmt.Errorf("store media of %s %s: %w", it.Kind, it.ID, err)
		}
		it.Media[i].Digest = d.Digest.String()
	}
	return nil
}
