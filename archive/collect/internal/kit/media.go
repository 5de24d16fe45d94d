package kit

import (
	"context"
	"fmt"
	"strings"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/collect"
)

// Media limits: what a collector downloads into the store.
const MediaLimit = 100 << 20

// MediaTypes are the content types accepted for media downloads.
var MediaTypes = []string{"image/", "video/", "audio/"}

// Media downloads an item's media into the store when the job asks for
// it, and sets each one's Digest. A download that fails is reported with
// Bad (the capture cannot be complete) and does not stop the run. Each
// URL is fetched once per run.
type Media struct {
	job  *collect.Job
	done map[string]string // url -> digest ("" when it failed)
}

// NewMedia returns a downloader for job.
func NewMedia(job *collect.Job) *Media { return &Media{job: job, done: map[string]string{}} }

// Fetch downloads what ms name; skip says which not to fetch (a video
// playlist, not a file).
func (m *Media) Fetch(ctx context.Context, ms []archive.Media, skip func(archive.Media) bool) error {
	if m == nil || !m.job.Media {
		return nil
	}
	for i := range ms {
		u := ms[i].URL
		if ms[i].Digest != "" || (!strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://")) || (skip != nil && skip(ms[i])) {
			continue
		}
		if d, ok := m.done[u]; ok {
			ms[i].Digest = d
			continue
		}
		dl, err := m.job.HTTP.Download(ctx, u, MediaLimit, MediaTypes)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			m.done[u] = ""
			m.job.Sink.Bad(&archive.InputError{Source: u, Err: fmt.Errorf("media not downloaded: %w", err), Media: true})
			continue
		}
		err = m.job.Sink.PutMediaFile(ctx, dl)
		dl.Close()
		if err != nil {
			return fmt.Errorf("store media %s: %w", u, err)
		}
		m.done[u] = dl.Digest.String()
		ms[i].Digest = m.done[u]
	}
	return nil
}
