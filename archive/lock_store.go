package archive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Errors of Object Lock, tested with errors.Is.
var (
	// ErrRetained: the store refused to delete an object because Object
	// Lock retains it (a retain-until date not yet reached, or a legal
	// hold). The message names the key and the date or the hold.
	ErrRetained = errors.New("retained by object lock")

	// ErrRetentionShortened: a retention change would have shortened an
	// object's retention, which a Locker always refuses.
	ErrRetentionShortened = errors.New("retention can only be extended")

	// ErrNoObjectLock: a locking operation on a store (or bucket) that has
	// no Object Lock.
	ErrNoObjectLock = errors.New("store has no object lock")
)

// LockMode is the Object Lock retention mode a store writes.
type LockMode string

// Retention modes, named as S3 names them. In both, an object cannot be
// deleted before its retain-until date and the date cannot be brought
// forward; in governance mode a user with a special permission (on S3,
// s3:BypassGovernanceRetention) can still override that, which osmarc
// never does; in compliance mode nobody can, the account's root included.
const (
	LockGovernance LockMode = "GOVERNANCE"
	LockCompliance LockMode = "COMPLIANCE"
)

// ParseLockMode reads "governance" or "compliance", in any case.
func ParseLockMode(s string) (LockMode, error) {
	switch m := LockMode(strings.ToUpper(s)); m {
	case LockGovernance, LockCompliance:
		return m, nil
	}
	return "", fmt.Errorf("lock mode %q: want governance or compliance", s)
}

// LockConfig is what a store says of its Object Lock.
type LockConfig struct {
	// Enabled: the store (on S3, the bucket) has Object Lock, so the
	// other Locker methods work. When false they return ErrNoObjectLock.
	Enabled bool `json:"enabled"`
	// Mode is the retention mode the store writes.
	Mode LockMode `json:"mode,omitempty"`
}

// ObjectLock is the lock on one object.
type ObjectLock struct {
	// Mode and RetainUntil are the object's retention; RetainUntil is
	// zero when it has none.
	Mode        LockMode  `json:"mode,omitempty"`
	RetainUntil time.Time `json:"retain_until,omitzero"`
	// LegalHold is the legal-hold flag: while it is on the object cannot
	// be deleted, whatever its retention.
	LegalHold bool `json:"legal_hold,omitempty"`
}

// Retained reports whether the lock forbids deleting the object at now.
func (l ObjectLock) Retained(now time.Time) bool {
	return l.LegalHold || now.Before(l.RetainUntil)
}

// String says what retains the object, for messages.
func (l ObjectLock) String() string {
	var parts []string
	if l.LegalHold {
		parts = append(parts, "under legal hold")
	}
	if !l.RetainUntil.IsZero() {
		parts = append(parts, fmt.Sprintf("retained until %s (%s)", l.RetainUntil.UTC().Format(time.RFC3339), strings.ToLower(string(l.Mode))))
	}
	if len(parts) == 0 {
		return "not locked"
	}
	return strings.Join(parts, " and ")
}

// Locker is the optional extension of a BlobStore with Object Lock (WORM
// retention and legal holds), modelled on S3 Object Lock. Callers find it
// with a type assertion, or with LockerOf, which also checks that the lock
// is enabled.
//
// Contract, which archive/storetest checks for every store implementing
// it (the checks run only when LockInfo says Enabled):
//
//   - LockInfo says whether the store has Object Lock and the mode it
//     writes retention with (configured on the store; on S3 the URL's
//     lock_mode=). When Enabled is false every other method below except
//     LockState returns an error wrapping ErrNoObjectLock.
//   - PutLocked is Put, then the object is retained at least until until
//     in the store's mode. For a blob key that exists already it extends
//     the existing object's retention to until when that is later, and
//     leaves it when it is not (the object is retained at least until
//     until either way). until must be in the future.
//   - ExtendRetention sets an existing object's retain-until date to
//     until. A date earlier than the object's current one is refused with
//     ErrRetentionShortened, naming both dates; the same date is a no-op.
//     until must be in the future.
//   - SetLegalHold turns the object's legal-hold flag on or off; setting
//     it to what it is already is a no-op.
//   - LockState returns the object's lock (zero on a store without Object
//     Lock). All four of these return ErrNotFound for a missing key.
//   - Delete (of BlobStore) of an object that is retained — a retain-until
//     date not yet reached, or a legal hold — deletes nothing and returns
//     an error wrapping ErrRetained whose message names the key and the
//     date or the hold. A store whose objects have versions (S3 with
//     versioning, which Object Lock implies) deletes every version of the
//     key, so that deleting really destroys; a retained version refuses.
//   - The store's clock decides whether a date has passed (on S3 the
//     service's clock; in memory an injected one).
type Locker interface {
	LockInfo(ctx context.Context) (LockConfig, error)
	PutLocked(ctx context.Context, key string, r io.Reader, size int64, sum Digest, until time.Time) error
	ExtendRetention(ctx context.Context, key string, until time.Time) error
	SetLegalHold(ctx context.Context, key string, on bool) error
	LockState(ctx context.Context, key string) (ObjectLock, error)
}

// LockerOf returns s as a Locker when it implements one and its Object Lock
// is enabled; otherwise nil (and nil error).
func LockerOf(ctx context.Context, s BlobStore) (Locker, LockConfig, error) {
	l, ok := s.(Locker)
	if !ok {
		return nil, LockConfig{}, nil
	}
	cfg, err := l.LockInfo(ctx)
	if err != nil {
		return nil, cfg, err
	}
	if !cfg.Enabled {
		return nil, cfg, nil
	}
	return l, cfg, nil
}
