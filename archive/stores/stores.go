// Package stores opens the archive.BlobStore a store URL names. The list of
// kinds is written out here, not registered from init functions:
//
//	store (or any relative path)   a directory inside the data directory
//	file:///abs/path               a directory anywhere
//	s3://BUCKET/PREFIX?endpoint=URL&region=R&path_style=true&profile=P&lock_mode=M
//	                               any S3-compatible service (lock_mode:
//	                               compliance or governance, for a bucket
//	                               with Object Lock)
package stores

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/diskstore"
	"github.com/osmarc/osmarc/archive/s3store"
)

// Open opens the store raw names; relative paths are inside dataDir.
func Open(ctx context.Context, raw, dataDir string) (archive.BlobStore, error) {
	scheme, _, hasScheme := strings.Cut(raw, "://")
	if !hasScheme {
		if filepath.IsAbs(raw) {
			return open(diskstore.Open(raw))
		}
		return open(diskstore.Open(filepath.Join(dataDir, raw)))
	}
	switch scheme {
	case "file":
		u, err := url.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("store URL %q: %v", raw, err)
		}
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("store URL %q: a file URL names a local path: file:///path", raw)
		}
		if u.Path == "" || !strings.HasPrefix(u.Path, "/") {
			return nil, fmt.Errorf("store URL %q: want an absolute path: file:///path", raw)
		}
		return open(diskstore.Open(u.Path))
	case "s3":
		return open(s3store.Open(ctx, raw))
	}
	return nil, fmt.Errorf("store URL %q: unknown scheme %q (want a path, file:///path or s3://bucket/prefix)", raw, scheme)
}

func open[S archive.BlobStore](s S, err error) (archive.BlobStore, error) {
	if err != nil {
		return nil, err
	}
	return s, nil
}
