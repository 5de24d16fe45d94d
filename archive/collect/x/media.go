package x

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
	"strings"

	"github.com/osmarc/osmarc/archive/collect"
)

// Media limits: what a collector downloads and an import stores.
const (
	MediaLimit = 100 << 20
)

// MediaTypes are the content types accepted for media.
var MediaTypes = []string{"image/", "video/"}

// fileDownload copies a media file of an account archive to a temporary
// file, hashing it, and checks its size and type as a download is checked.
// The caller closes it (which removes the copy).
func fileDownload(fsys fs.FS, name, url string) (*collect.Download, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tmp, err := os.CreateTemp("", "osmarc-media-*")
	if err != nil {
		return nil, err
	}
	d := &collect.Download{URL: url, File: tmp}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(f, MediaLimit+1))
	if err == nil && n > MediaLimit {
		err = fmt.Errorf("%s: %w (over %d bytes)", name, collect.ErrTooLarge, MediaLimit)
	}
	if err != nil {
		d.Close()
		return nil, err
	}
	d.Size = n
	copy(d.Digest[:], h.Sum(nil))
	var head [512]byte
	k, _ := tmp.ReadAt(head[:], 0)
	d.ContentType = mime.TypeByExtension(strings.ToLower(path.Ext(name)))
	if sniffed := http.DetectContentType(head[:k]); d.ContentType == "" || (!strings.HasPrefix(sniffed, "application/octet-stream") && !strings.HasPrefix(sniffed, "text/plain") && !sameTop(d.ContentType, sniffed)) {
		d.ContentType = sniffed
	}
	if !acceptable(d.ContentType) {
		d.Close()
		return nil, fmt.Errorf("%s: %w (%s)", name, collect.ErrContentType, d.ContentType)
	}
	return d, nil
}

func sameTop(a, b string) bool {
	ta, _, _ := strings.Cut(a, "/")
	tb, _, _ := strings.Cut(b, "/")
	return ta == tb
}

func acceptable(ct string) bool {
	for _, p := range MediaTypes {
		if strings.HasPrefix(ct, p) {
			return true
		}
	}
	return false
}

// storeMedia puts a download into the sink and closes it.
func storeMedia(ctx context.Context, sink collect.MediaSink, d *collect.Download) (string, error) {
	defer d.Close()
	if err := sink.PutMediaFile(ctx, d); err != nil {
		return "", err
	}
	return d.Digest.String(), nil
}
