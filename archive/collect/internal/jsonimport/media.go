package jsonimport

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/collect"
	"github.com/osmarc/osmarc/archive/collect/internal/graph"
)

// storeFile copies file name of fsys to a temporary file, hashing it, and
// hands it to the sink as media named uri.
func storeFile(ctx context.Context, sink collect.Sink, fsys fs.FS, name, uri string) (archive.Digest, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return archive.Digest{}, fmt.Errorf("media %s: %w", uri, err)
	}
	defer f.Close()
	tmp, err := os.CreateTemp("", "osmarc-export-media-*")
	if err != nil {
		return archive.Digest{}, err
	}
	d := &collect.Download{URL: uri, File: tmp}
	defer d.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(f, graph.MediaLimit+1))
	if err != nil {
		return archive.Digest{}, fmt.Errorf("media %s: %w", uri, err)
	}
	if n > graph.MediaLimit {
		return archive.Digest{}, fmt.Errorf("media %s: %w (over %d bytes)", uri, collect.ErrTooLarge, graph.MediaLimit)
	}
	d.Size = n
	copy(d.Digest[:], h.Sum(nil))
	d.ContentType = mime.TypeByExtension(path.Ext(name))
	if d.ContentType == "" {
		head := make([]byte, 512)
		k, _ := tmp.ReadAt(head, 0)
		d.ContentType = http.DetectContentType(head[:k])
	}
	if err := sink.PutMediaFile(ctx, d); err != nil {
		return archive.Digest{}, &storeError{err}
	}
	return d.Digest, nil
}

// storeError is a failure of the store, which ends an import (unlike a
// media file that cannot be read, which is a bad record).
type storeError struct{ err error }

func (e *storeError) Error() string { return e.err.Error() }
func (e *storeError) Unwrap() error { return e.err }

// IsStoreError says whether err came from the sink, not the input.
func IsStoreError(err error) bool {
	_, ok := err.(*storeError)
	return ok
}
