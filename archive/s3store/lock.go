package s3store

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/osmarc/osmarc/archive"
)

// bucketInfo is what a store has learnt of its bucket: whether it has
// versioning and Object Lock. Each is asked once, on first need, and kept
// once known.
type bucketInfo struct {
	infoMu       sync.Mutex
	lockKnown    bool
	lock         archive.LockConfig
	versionKnown bool
	isVersioned  bool
}

// lockRequest asks putObject to retain what it writes.
type lockRequest struct {
	mode  archive.LockMode
	until time.Time
}

// clockSlack is how far the service's clock may be behind ours when a
// refused delete is put down to a retain-until date.
const clockSlack = time.Minute

// probeLock checks, when the URL asks for a lock mode, that the bucket has
// Object Lock: a store that was asked to lock and cannot must not open.
func (s *Store) probeLock(ctx context.Context) error {
	if s.lockMode == "" {
		return nil
	}
	cfg, err := s.LockInfo(ctx)
	if err != nil {
		return fmt.Errorf("s3store: open %s: %w", s.location, err)
	}
	if !cfg.Enabled {
		return newError(fmt.Sprintf("s3store: open %s: lock_mode=%s, but bucket %q has no Object Lock: %v (use a bucket created with Object Lock enabled, or remove lock_mode)",
			s.location, lower(s.lockMode), s.bucket, archive.ErrNoObjectLock), archive.ErrNoObjectLock, nil)
	}
	return nil
}

// LockInfo implements archive.Locker. The bucket has Object Lock when its
// Object Lock configuration says Enabled. The mode is the URL's lock_mode=,
// else the mode of the bucket's default retention rule, else governance.
func (s *Store) LockInfo(ctx context.Context) (archive.LockConfig, error) {
	s.infoMu.Lock()
	defer s.infoMu.Unlock()
	if s.lockKnown {
		return s.lock, nil
	}
	var cfg archive.LockConfig
	out, err := s.client.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: aws.String(s.bucket)})
	switch {
	case err == nil:
		olc := out.ObjectLockConfiguration
		if olc != nil && olc.ObjectLockEnabled == types.ObjectLockEnabledEnabled {
			cfg.Enabled = true
			cfg.Mode = s.lockMode
			if cfg.Mode == "" && olc.Rule != nil && olc.Rule.DefaultRetention != nil {
				cfg.Mode, _ = archive.ParseLockMode(string(olc.Rule.DefaultRetention.Mode))
			}
			if cfg.Mode == "" {
				cfg.Mode = archive.LockGovernance
			}
		}
	case noFeature(err, "ObjectLockConfigurationNotFoundError"):
		// No Object Lock: cfg stays disabled.
	default:
		return cfg, s.fail("read Object Lock configuration of bucket", strconv.Quote(s.bucket), err)
	}
	s.lock, s.lockKnown = cfg, true
	if cfg.Enabled {
		s.isVersioned, s.versionKnown = true, true // Object Lock needs versioning
	}
	return cfg, nil
}

// versioned reports whether the bucket has (or had) versioning, so that a
// delete must remove versions rather than add a delete marker.
func (s *Store) versioned(ctx context.Context) (bool, error) {
	s.infoMu.Lock()
	defer s.infoMu.Unlock()
	if s.versionKnown {
		return s.isVersioned, nil
	}
	out, err := s.client.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(s.bucket)})
	switch {
	case err == nil:
		// Suspended still keeps the versions written before.
		s.isVersioned = out.Status == types.BucketVersioningStatusEnabled || out.Status == types.BucketVersioningStatusSuspended
	case noFeature(err):
		s.isVersioned = false
	default:
		return false, s.fail("read versioning of bucket", strconv.Quote(s.bucket), err)
	}
	s.versionKnown = true
	return s.isVersioned, nil
}

// noFeature reports an answer saying the service or bucket lacks a
// feature: one of codes, or the service does not implement the call.
func noFeature(err error, codes ...string) bool {
	code := errorCode(err)
	for _, c := range codes {
		if code == c {
			return true
		}
	}
	switch code {
	case "NotImplemented", "MethodNotAllowed", "XNotImplemented":
		return true
	}
	st := httpStatus(err)
	return st == http.StatusNotImplemented || st == http.StatusMethodNotAllowed
}

// enabled returns the store's lock configuration, or an error wrapping
// archive.ErrNoObjectLock when the bucket has none.
func (s *Store) enabled(ctx context.Context, op, key string) (archive.LockConfig, error) {
	cfg, err := s.LockInfo(ctx)
	if err != nil {
		return cfg, err
	}
	if !cfg.Enabled {
		return cfg, newError(fmt.Sprintf("s3store: %s %s: %v: bucket %q was not created with Object Lock", op, key, archive.ErrNoObjectLock, s.bucket), archive.ErrNoObjectLock, nil)
	}
	return cfg, nil
}

// PutLocked implements archive.Locker: PutObject with the store's mode and
// until (rounded up to the second, as S3 keeps it). A blob that exists
// already has its retention extended to until when that is later.
func (s *Store) PutLocked(ctx context.Context, key string, r io.Reader, size int64, sum archive.Digest, until time.Time) error {
	cfg, err := s.enabled(ctx, "put", key)
	if err != nil {
		return err
	}
	until = ceilSecond(until)
	existed, err := s.putObject(ctx, key, r, size, sum, &lockRequest{mode: cfg.Mode, until: until}, putHooks{})
	if err != nil || !existed {
		return err
	}
	st, err := s.lockState(ctx, "put", key)
	if err != nil {
		return err
	}
	if !st.RetainUntil.Before(until) {
		return nil // retained at least that long already
	}
	return s.putRetention(ctx, "put", key, strongest(st.Mode, cfg.Mode), until)
}

// ExtendRetention implements archive.Locker. It reads the object's
// retention first and refuses a shorter date itself; the service would
// refuse it too (compliance always, governance without the bypass header,
// which the store never sends).
func (s *Store) ExtendRetention(ctx context.Context, key string, until time.Time) error {
	const op = "extend retention of"
	cfg, err := s.enabled(ctx, op, key)
	if err != nil {
		return err
	}
	if err := archive.CheckKey(key); err != nil {
		return fmt.Errorf("s3store: %s %s: %w", op, key, err)
	}
	until = ceilSecond(until)
	st, err := s.lockState(ctx, op, key)
	if err != nil {
		return err
	}
	switch {
	case until.Before(st.RetainUntil):
		return newError(fmt.Sprintf("s3store: %s %s: %v: it is retained until %s, later than the %s asked for",
			op, key, archive.ErrRetentionShortened, rfc3339(st.RetainUntil), rfc3339(until)), archive.ErrRetentionShortened, nil)
	case until.Equal(st.RetainUntil):
		return nil
	}
	return s.putRetention(ctx, op, key, strongest(st.Mode, cfg.Mode), until)
}

func (s *Store) putRetention(ctx context.Context, op, key string, mode archive.LockMode, until time.Time) error {
	_, err := s.client.PutObjectRetention(ctx, &s3.PutObjectRetentionInput{
		Bucket:    aws.String(s.bucket),
		Key:       aws.String(s.prefix + key),
		Retention: &types.ObjectLockRetention{Mode: types.ObjectLockRetentionMode(mode), RetainUntilDate: aws.Time(until)},
	})
	if err != nil {
		return s.fail(op, key, err)
	}
	return nil
}

// SetLegalHold implements archive.Locker.
func (s *Store) SetLegalHold(ctx context.Context, key string, on bool) error {
	const op = "set legal hold on"
	if _, err := s.enabled(ctx, op, key); err != nil {
		return err
	}
	if err := archive.CheckKey(key); err != nil {
		return fmt.Errorf("s3store: %s %s: %w", op, key, err)
	}
	st, err := s.lockState(ctx, op, key)
	if err != nil {
		return err
	}
	if st.LegalHold == on {
		return nil
	}
	status := types.ObjectLockLegalHoldStatusOff
	if on {
		status = types.ObjectLockLegalHoldStatusOn
	}
	_, err = s.client.PutObjectLegalHold(ctx, &s3.PutObjectLegalHoldInput{
		Bucket:    aws.String(s.bucket),
		Key:       aws.String(s.prefix + key),
		LegalHold: &types.ObjectLockLegalHold{Status: status},
	})
	if err != nil {
		return s.fail(op, key, err)
	}
	return nil
}

// LockState implements archive.Locker, from HeadObject's Object Lock
// headers. (On AWS the caller needs s3:GetObjectRetention and
// s3:GetObjectLegalHold for HEAD to send them.)
func (s *Store) LockState(ctx context.Context, key string) (archive.ObjectLock, error) {
	if err := archive.CheckKey(key); err != nil {
		return archive.ObjectLock{}, fmt.Errorf("s3store: lock state of %s: %w", key, err)
	}
	return s.lockState(ctx, "lock state of", key)
}

// lockState reads the lock of key's current version.
func (s *Store) lockState(ctx context.Context, op, key string) (archive.ObjectLock, error) {
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.prefix + key)})
	if err != nil {
		return archive.ObjectLock{}, s.fail(op, key, err)
	}
	var l archive.ObjectLock
	if out.ObjectLockRetainUntilDate != nil {
		l.RetainUntil = out.ObjectLockRetainUntilDate.UTC()
		l.Mode = archive.LockMode(out.ObjectLockMode)
	}
	l.LegalHold = out.ObjectLockLegalHoldStatus == types.ObjectLockLegalHoldStatusOn
	return l, nil
}

// refusedLock reads the lock of one version of key whose deletion was
// refused, to say why. It asks GetObjectRetention and GetObjectLegalHold
// for the version: versitygw's HEAD of a version that is not the current
// one (behind a delete marker) leaves the lock headers out.
func (s *Store) refusedLock(ctx context.Context, key, version string) (archive.ObjectLock, error) {
	var l archive.ObjectLock
	rt, err := s.client.GetObjectRetention(ctx, &s3.GetObjectRetentionInput{Bucket: aws.String(s.bucket), Key: aws.String(s.prefix + key), VersionId: aws.String(version)})
	switch {
	case err == nil && rt.Retention != nil && rt.Retention.RetainUntilDate != nil:
		l.RetainUntil, l.Mode = rt.Retention.RetainUntilDate.UTC(), archive.LockMode(rt.Retention.Mode)
	case err != nil && errorCode(err) != "NoSuchObjectLockConfiguration":
		return l, err
	}
	lh, err := s.client.GetObjectLegalHold(ctx, &s3.GetObjectLegalHoldInput{Bucket: aws.String(s.bucket), Key: aws.String(s.prefix + key), VersionId: aws.String(version)})
	switch {
	case err == nil && lh.LegalHold != nil:
		l.LegalHold = lh.LegalHold.Status == types.ObjectLockLegalHoldStatusOn
	case err != nil && errorCode(err) != "NoSuchObjectLockConfiguration":
		return l, err
	}
	return l, nil
}

// deleteVersions is Delete on a versioned bucket. A DeleteObject without a
// version id would only add a delete marker: the object would look gone
// while its bytes stayed, which is not destruction, and Object Lock does
// not even stop it. So Delete lists the key's versions and deletes each by
// its id: the versions with content first (newest first), then the delete
// markers. The service refuses a version that Object Lock retains; Delete
// then stops and returns archive.ErrRetained, naming the date or the hold.
// With create-only writes a key has one version, so a refusal leaves the
// object as it was.
func (s *Store) deleteVersions(ctx context.Context, key string) error {
	full := s.prefix + key
	var versions, markers []string
	pages := s3.NewListObjectVersionsPaginator(s.client, &s3.ListObjectVersionsInput{Bucket: aws.String(s.bucket), Prefix: aws.String(full)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return s.fail("delete", key, err)
		}
		for _, v := range page.Versions {
			if aws.ToString(v.Key) == full {
				versions = append(versions, aws.ToString(v.VersionId))
			}
		}
		for _, m := range page.DeleteMarkers {
			if aws.ToString(m.Key) == full {
				markers = append(markers, aws.ToString(m.VersionId))
			}
		}
	}
	for _, v := range versions {
		if err := s.deleteVersion(ctx, key, v); err != nil {
			if kind := classify(err); kind == archive.ErrPermission {
				if l, lerr := s.refusedLock(ctx, key, v); lerr == nil && l.Retained(time.Now().Add(-clockSlack)) {
					return newError(fmt.Sprintf("s3store: delete %s: %v: %s", key, archive.ErrRetained, l), archive.ErrRetained, err)
				}
			}
			return s.fail("delete", key, err)
		}
	}
	for _, m := range markers {
		if err := s.deleteVersion(ctx, key, m); err != nil {
			return s.fail("delete", key, err)
		}
	}
	return nil
}

func (s *Store) deleteVersion(ctx context.Context, key, version string) error {
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{
		Bucket:    aws.String(s.bucket),
		Key:       aws.String(s.prefix + key),
		VersionId: aws.String(version),
	})
	if err != nil && (errorCode(err) == "NoSuchKey" || errorCode(err) == "NoSuchVersion") {
		return nil // gone already
	}
	return err
}

// strongest keeps compliance once an object has it: retention is never
// weakened to governance.
func strongest(a, b archive.LockMode) archive.LockMode {
	if a == archive.LockCompliance || b == archive.LockCompliance {
		return archive.LockCompliance
	}
	return b
}

// ceilSecond rounds t up to the second: S3 keeps retain-until dates to
// the second, and rounding down would retain for less than was asked.
func ceilSecond(t time.Time) time.Time {
	t = t.UTC()
	if tr := t.Truncate(time.Second); !tr.Equal(t) {
		return tr.Add(time.Second)
	}
	return t
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func lower(m archive.LockMode) string {
	if m == archive.LockCompliance {
		return "compliance"
	}
	return "governance"
}
