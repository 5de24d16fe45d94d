package archive

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"path"
	"strings"
	"time"
)

// BlobStore is where the truth lives: a flat namespace of immutable objects
// named by slash-separated keys relative to the store's root (a directory or
// a bucket prefix). The archive writes three families of keys:
//
//	blobs/sha256/<aa>/<bb>/<64 hex>      content-addressed: the name is the digest
//	captures/<yyyy>/<mm>/<dd>/<id>.jsonl  one manifest per capture
//	journal/<20-digit seq>.json           one event each
//
// Contract, which archive/storetest checks for every implementation:
//
//   - Put writes the size bytes read from r under key. sum is the SHA-256
//     the caller claims for those bytes; the store checks it while writing
//     and refuses with ErrDigestMismatch (writing nothing) when the bytes
//     differ. For keys under blobs/ the key's digest must equal sum, or Put
//     returns ErrDigestMismatch.
//   - Put is atomic: a reader sees no object or the whole object, never
//     part of one, even if the process dies mid-write.
//   - Objects are never replaced. Put of a key under blobs/ that already
//     exists succeeds without writing (same name, same bytes). Put of any
//     other key that already exists returns ErrExists.
//   - Read-after-write: once Put returns, Open, Stat and List see the object.
//   - Durability: once Put returns the object survives a crash of the
//     process; it survives a crash of the machine once Sync returns (stores
//     whose writes are durable when acknowledged implement Sync as a no-op).
//     The archive calls Sync before writing anything that names the object.
//   - Open and Stat of a missing key return an error wrapping ErrNotFound.
//   - List calls fn for every object whose key starts with prefix and sorts
//     after startAfter (empty: from the first), in lexical key order; it
//     never reports partial or temporary objects. An error from fn stops the
//     listing and is returned.
//   - Delete removes the object; deleting a missing key is not an error.
//     Only disposition deletes (DESIGN.md); the archive never calls it
//     otherwise. A store with Object Lock also implements Locker
//     (lock_store.go): there Delete refuses a retained object with
//     ErrRetained.
//   - Keys are validated: empty, absolute, "." or ".." elements, backslashes
//     or control characters give ErrInvalidKey.
//
// Implementations are safe for concurrent use.
//
// A store may also implement ObjectSyncer.
type BlobStore interface {
	Put(ctx context.Context, key string, r io.Reader, size int64, sum Digest) error
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	Stat(ctx context.Context, key string) (ObjectInfo, error)
	List(ctx context.Context, prefix, startAfter string, fn func(ObjectInfo) error) error
	Delete(ctx context.Context, key string) error
	Sync(ctx context.Context) error
	// Location names the store for people: a URL without credentials.
	Location() string
	Close() error
}

// ObjectInfo describes one stored object.
type ObjectInfo struct {
	Key     string
	Size    int64
	ModTime time.Time
}

// Digest is a SHA-256.
type Digest [32]byte

// Sum returns the SHA-256 of b.
func Sum(b []byte) Digest { return Digest(sha256.Sum256(b)) }

// String is the lower-case hex form.
func (d Digest) String() string { return hex.EncodeToString(d[:]) }

// IsZero reports whether d is unset.
func (d Digest) IsZero() bool { return d == Digest{} }

// ParseDigest reads a 64-character lower-case hex digest.
func ParseDigest(s string) (Digest, error) {
	var d Digest
	if len(s) != 64 || strings.ToLower(s) != s {
		return d, fmt.Errorf("digest %q: want 64 lower-case hex characters", s)
	}
	if _, err := hex.Decode(d[:], []byte(s)); err != nil {
		return d, fmt.Errorf("digest %q: %w", s, err)
	}
	return d, nil
}

// MarshalText writes the hex form, so digests read well in JSON.
func (d Digest) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads the hex form.
func (d *Digest) UnmarshalText(b []byte) error {
	v, err := ParseDigest(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Key prefixes of the store layout.
const (
	BlobPrefix    = "blobs/sha256/"
	CapturePrefix = "captures/"
	JournalPrefix = "journal/"
)

// BlobKey is the store key of the blob with digest d.
func BlobKey(d Digest) string {
	h := d.String()
	return BlobPrefix + h[0:2] + "/" + h[2:4] + "/" + h
}

// ParseBlobKey returns the digest a blob key names.
func ParseBlobKey(key string) (Digest, error) {
	rest, ok := strings.CutPrefix(key, BlobPrefix)
	if !ok || len(rest) != 2+1+2+1+64 || rest[2] != '/' || rest[5] != '/' {
		return Digest{}, fmt.Errorf("%w: %q is not a blob key", ErrInvalidKey, key)
	}
	d, err := ParseDigest(rest[6:])
	if err != nil {
		return Digest{}, fmt.Errorf("%w: %q: %v", ErrInvalidKey, key, err)
	}
	if rest[0:2] != rest[6:8] || rest[3:5] != rest[8:10] {
		return Digest{}, fmt.Errorf("%w: %q: fan-out does not match digest", ErrInvalidKey, key)
	}
	return d, nil
}

// IsBlobKey reports whether key lies in the content-addressed namespace.
func IsBlobKey(key string) bool { return strings.HasPrefix(key, BlobPrefix) }

// CheckKey validates a store key as the BlobStore contract requires.
func CheckKey(key string) error {
	if key == "" || strings.HasPrefix(key, "/") || strings.HasSuffix(key, "/") {
		return fmt.Errorf("%w: %q", ErrInvalidKey, key)
	}
	for _, r := range key {
		if r < 0x20 || r == 0x7f || r == '\\' {
			return fmt.Errorf("%w: %q", ErrInvalidKey, key)
		}
	}
	for _, el := range strings.Split(key, "/") {
		if el == "" || el == "." || el == ".." {
			return fmt.Errorf("%w: %q", ErrInvalidKey, key)
		}
	}
	if path.Clean(key) != key {
		return fmt.Errorf("%w: %q", ErrInvalidKey, key)
	}
	return nil
}

// CheckPut validates the arguments of a Put: the key, and for a blob key
// that it names sum.
func CheckPut(key string, sum Digest) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	if IsBlobKey(key) {
		d, err := ParseBlobKey(key)
		if err != nil {
			return err
		}
		if d != sum {
			return fmt.Errorf("%w: key %s names %s but the claimed digest is %s", ErrDigestMismatch, key, d, sum)
		}
	}
	return nil
}

// PutBytes stores b under key with its digest.
func PutBytes(ctx context.Context, s BlobStore, key string, b []byte) error {
	return s.Put(ctx, key, bytesReader(b), int64(len(b)), Sum(b))
}

// ReadAll reads a whole object. Use it only for objects known to be small
// (events, version blobs); stream everything else.
func ReadAll(ctx context.Context, s BlobStore, key string) ([]byte, error) {
	rc, err := s.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	return b, nil
}

// ReadBlob reads a whole blob and checks that it hashes to its name.
func ReadBlob(ctx context.Context, s BlobStore, d Digest) ([]byte, error) {
	b, err := ReadAll(ctx, s, BlobKey(d))
	if err != nil {
		return nil, err
	}
	if Sum(b) != d {
		return nil, fmt.Errorf("blob %s: %w: content hashes to %s", d, ErrDigestMismatch, Sum(b))
	}
	return b, nil
}

// ObjectSyncer is a store that can make one object durable by itself,
// cheaper than Sync when nothing else written needs to be: a journal
// event, whose blobs the caller synced before writing it. On a disk store
// Sync waits for every dirty page of the whole filesystem (the other
// programs' writes too), where one object costs an fsync of the file and
// of the directories that name it.
type ObjectSyncer interface {
	SyncObject(ctx context.Context, key string) error
}

// syncObject makes the object at key durable: by itself when the store
// can, else with everything (Sync).
func syncObject(ctx context.Context, s BlobStore, key string) error {
	if os, ok := s.(ObjectSyncer); ok {
		return os.SyncObject(ctx, key)
	}
	return s.Sync(ctx)
}
