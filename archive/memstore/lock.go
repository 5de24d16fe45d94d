package memstore

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/osmarc/osmarc/archive"
)

// WithObjectLock gives the store Object Lock in mode, deciding with now
// whether a retain-until date has passed (nil: time.Now). Tests pass the
// clock they move.
func WithObjectLock(mode archive.LockMode, now func() time.Time) Option {
	return func(s *Store) {
		s.lockMode = mode
		if now != nil {
			s.now = now
		}
	}
}

// LockInfo implements archive.Locker.
func (s *Store) LockInfo(ctx context.Context) (archive.LockConfig, error) {
	return archive.LockConfig{Enabled: s.lockMode != "", Mode: s.lockMode}, nil
}

// PutLocked implements archive.Locker.
func (s *Store) PutLocked(ctx context.Context, key string, r io.Reader, size int64, sum archive.Digest, until time.Time) error {
	if err := s.checkLock("put", key, until); err != nil {
		return err
	}
	if err := s.Put(ctx, key, r, size, sum); err != nil {
		return err
	}
	// A blob that was there already keeps the later of its date and until.
	return s.retain("put", key, until, false)
}

// ExtendRetention implements archive.Locker.
func (s *Store) ExtendRetention(ctx context.Context, key string, until time.Time) error {
	if err := s.checkLock("extend retention of", key, until); err != nil {
		return err
	}
	return s.retain("extend retention of", key, until, true)
}

// SetLegalHold implements archive.Locker.
func (s *Store) SetLegalHold(ctx context.Context, key string, on bool) error {
	if err := s.checkLock("set legal hold on", key, time.Time{}); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objects[key]
	if !ok {
		return fmt.Errorf("memstore: set legal hold on %s: %w", key, archive.ErrNotFound)
	}
	o.lock.LegalHold = on
	s.objects[key] = o
	return nil
}

// LockState implements archive.Locker.
func (s *Store) LockState(ctx context.Context, key string) (archive.ObjectLock, error) {
	o, err := s.get(key)
	if err != nil {
		return archive.ObjectLock{}, err
	}
	return o.lock, nil
}

// checkLock refuses locking on a store without Object Lock, bad keys, and
// (when set) a date that is not in the future.
func (s *Store) checkLock(op, key string, until time.Time) error {
	if s.lockMode == "" {
		return fmt.Errorf("memstore: %s %s: %w", op, key, archive.ErrNoObjectLock)
	}
	if err := archive.CheckKey(key); err != nil {
		return fmt.Errorf("memstore: %s %s: %w", op, key, err)
	}
	if !until.IsZero() && !until.After(s.now()) {
		return fmt.Errorf("memstore: %s %s: retain-until date %s is not in the future", op, key, until.UTC().Format(time.RFC3339))
	}
	return nil
}

// retain sets key's retain-until date to until when that is later. An
// earlier date is refused when strict, and ignored otherwise. The mode is
// never weakened: compliance stays compliance.
func (s *Store) retain(op, key string, until time.Time, strict bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objects[key]
	if !ok {
		return fmt.Errorf("memstore: %s %s: %w", op, key, archive.ErrNotFound)
	}
	cur := o.lock.RetainUntil
	if until.Before(cur) {
		if strict {
			return fmt.Errorf("memstore: %s %s: %w: it is retained until %s, later than the %s asked for",
				op, key, archive.ErrRetentionShortened, cur.UTC().Format(time.RFC3339), until.UTC().Format(time.RFC3339))
		}
		return nil
	}
	o.lock.RetainUntil = until.UTC()
	if o.lock.Mode != archive.LockCompliance {
		o.lock.Mode = s.lockMode
	}
	s.objects[key] = o
	return nil
}
