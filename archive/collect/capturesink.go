package collect

import (
	"context"
	"fmt"

	"github.com/osmarc/osmarc/archive"
)

// CaptureSink adapts an archive.CaptureWriter to Sink.
type CaptureSink struct {
	*archive.CaptureWriter
}

var _ Sink = CaptureSink{}

// PutMediaFile stores a downloaded media file.
func (c CaptureSink) PutMediaFile(ctx context.Context, d *Download) error {
	if _, err := d.File.Seek(0, 0); err != nil {
		return fmt.Errorf("media %s: %w", d.URL, err)
	}
	return c.PutMedia(ctx, d.File, d.Size, d.Digest, d.ContentType, d.URL)
}
