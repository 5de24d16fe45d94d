// Package memstore is an in-memory archive.BlobStore for unit tests. It
// keeps the whole contract, create-only writes and digest checks included,
// so tests that use it see the same behaviour as the real stores.
//
// With WithObjectLock it also keeps the archive.Locker contract the way an
// S3 bucket with Object Lock does: a retained object (legal hold, or a
// retain-until date its injected clock has not reached) cannot be deleted,
// and retention is only ever extended. Tests move the clock to let dates
// pass. The locking code is in lock.go.
package memstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/osmarc/osmarc/archive"
)

var (
	_ archive.BlobStore = (*Store)(nil)
	_ archive.Locker    = (*Store)(nil)
)

// Store holds objects in a map.
type Store struct {
	mu      sync.RWMutex
	objects map[string]object
	name    string
	now     func() time.Time
	// lockMode is the Object Lock mode; "" means no Object Lock.
	lockMode archive.LockMode
}

type object struct {
	data    []byte
	modTime time.Time
	lock    archive.ObjectLock
}

// Option configures a store.
type Option func(*Store)

// New returns an empty store; name appears in Location.
func New(name string, opts ...Option) *Store {
	s := &Store{objects: map[string]object{}, name: name, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Put implements archive.BlobStore.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64, sum archive.Digest) error {
	if err := archive.CheckPut(key, sum); err != nil {
		return fmt.Errorf("memstore: put %s: %w", key, err)
	}
	h := sha256.New()
	var buf bytes.Buffer
	n, err := io.Copy(io.MultiWriter(&buf, h), io.LimitReader(r, size+1))
	if err != nil {
		return fmt.Errorf("memstore: put %s: %w", key, err)
	}
	if n != size {
		return fmt.Errorf("memstore: put %s: read %d bytes, want %d", key, n, size)
	}
	if archive.Digest(h.Sum(nil)) != sum {
		return fmt.Errorf("memstore: put %s: %w", key, archive.ErrDigestMismatch)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.objects[key]; ok {
		if archive.IsBlobKey(key) {
			return nil
		}
		return fmt.Errorf("memstore: put %s: %w", key, archive.ErrExists)
	}
	s.objects[key] = object{data: buf.Bytes(), modTime: s.now().UTC()}
	return nil
}

// Open implements archive.BlobStore.
func (s *Store) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	o, err := s.get(key)
	if err != nil {
		return nil, err
	}
	return io.NopCloser(bytes.NewReader(o.data)), nil
}

func (s *Store) get(key string) (object, error) {
	if err := archive.CheckKey(key); err != nil {
		return object{}, fmt.Errorf("memstore: %w", err)
	}
	s.mu.RLock()
	o, ok := s.objects[key]
	s.mu.RUnlock()
	if !ok {
		return object{}, fmt.Errorf("memstore: %s: %w", key, archive.ErrNotFound)
	}
	return o, nil
}

// Stat implements archive.BlobStore.
func (s *Store) Stat(ctx context.Context, key string) (archive.ObjectInfo, error) {
	o, err := s.get(key)
	if err != nil {
		return archive.ObjectInfo{}, err
	}
	return archive.ObjectInfo{Key: key, Size: int64(len(o.data)), ModTime: o.modTime}, nil
}

// List implements archive.BlobStore.
func (s *Store) List(ctx context.Context, prefix, startAfter string, fn func(archive.ObjectInfo) error) error {
	s.mu.RLock()
	var infos []archive.ObjectInfo
	for k, o := range s.objects {
		if strings.HasPrefix(k, prefix) && k > startAfter {
			infos = append(infos, archive.ObjectInfo{Key: k, Size: int64(len(o.data)), ModTime: o.modTime})
		}
	}
	s.mu.RUnlock()
	sort.Slice(infos, func(i, j int) bool { return infos[i].Key < infos[j].Key })
	for _, oi := range infos {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(oi); err != nil {
			return err
		}
	}
	return nil
}

// Delete implements archive.BlobStore.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := archive.CheckKey(key); err != nil {
		return fmt.Errorf("memstore: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if o, ok := s.objects[key]; ok && o.lock.Retained(s.now()) {
		return fmt.Errorf("memstore: delete %s: %w: %s", key, archive.ErrRetained, o.lock)
	}
	delete(s.objects, key)
	return nil
}

// Sync implements archive.BlobStore; memory has nothing to flush.
func (s *Store) Sync(ctx context.Context) error { return nil }

// Location implements archive.BlobStore.
func (s *Store) Location() string { return "mem://" + s.name }

// Close implements archive.BlobStore.
func (s *Store) Close() error { return nil }

// Corrupt replaces an object's bytes in place, for damage tests.
func (s *Store) Corrupt(key string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.objects[key] = object{data: data, modTime: s.now().UTC(), lock: s.objects[key].lock}
}
