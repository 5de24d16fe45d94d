package s3store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/s3store/s3test"
	"github.com/osmarc/osmarc/archive/storetest"
)

func TestParseURLLockMode(t *testing.T) {
	for raw, want := range map[string]archive.LockMode{
		"s3://bkt":                      "",
		"s3://bkt?lock_mode=compliance": archive.LockCompliance,
		"s3://bkt?lock_mode=GOVERNANCE": archive.LockGovernance,
		"s3://bkt?lock_mode=":           "", // empty: as if not given
	} {
		su, err := parseURL(raw)
		if err != nil || su.lockMode != want {
			t.Errorf("parseURL(%q): lock mode %q, %v; want %q", raw, su.lockMode, err, want)
		}
	}
	for _, raw := range []string{"s3://bkt?lock_mode=strict", "s3://bkt?lock_mode=compliance&lock_mode=governance"} {
		if _, err := parseURL(raw); err == nil || !strings.Contains(err.Error(), "lock_mode") {
			t.Errorf("parseURL(%q): %v, want an error about lock_mode", raw, err)
		}
	}
}

// TestS3ObjectLock runs the store against a versitygw with versioning, on
// buckets created with Object Lock: the retention and legal holds are the
// service's, and so is the clock that decides when a date has passed.
func TestS3ObjectLock(t *testing.T) {
	srv := s3test.Start(t, s3test.WithVersioning())
	ctx := context.Background()
	var seq atomic.Int64
	bucket := func(t *testing.T, locked bool) string {
		t.Helper()
		name := fmt.Sprintf("osmarc-lock-%04d", seq.Add(1))
		mk := srv.NewBucket
		if locked {
			mk = srv.NewLockedBucket
		}
		if err := mk(ctx, name); err != nil {
			t.Fatal(err)
		}
		return name
	}
	open := func(t *testing.T, url string) *Store {
		t.Helper()
		s, err := Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}

	for _, mode := range []string{"compliance", "governance"} {
		t.Run("Conformance/"+mode, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) archive.BlobStore {
				return open(t, srv.URL(bucket(t, true), "arc")+"&lock_mode="+mode)
			})
		})
	}

	t.Run("ConformanceVersionedWithoutLock", func(t *testing.T) {
		// Versioning alone: Delete must still destroy, not add a marker.
		storetest.Run(t, func(t *testing.T) archive.BlobStore {
			b := bucket(t, false)
			if _, err := srv.Client().PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(b),
				VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
				t.Fatal(err)
			}
			return open(t, srv.URL(b, ""))
		})
	})

	t.Run("LockModeNeedsObjectLock", func(t *testing.T) {
		b := bucket(t, false)
		_, err := Open(ctx, srv.URL(b, "")+"&lock_mode=compliance")
		if !errors.Is(err, archive.ErrNoObjectLock) {
			t.Fatalf("Open with lock_mode on a bucket without Object Lock: %v, want ErrNoObjectLock", err)
		}
		t.Log(err)
		if msg := err.Error(); !strings.Contains(msg, `"`+b+`"`) || !strings.Contains(msg, "Object Lock") || strings.ContainsAny(msg, "\r\n") {
			t.Errorf("message %q does not say, on one line, that the bucket has no Object Lock", msg)
		}
		// Without lock_mode it opens, and says it cannot lock.
		s := open(t, srv.URL(b, ""))
		if cfg, err := s.LockInfo(ctx); err != nil || cfg.Enabled {
			t.Fatalf("LockInfo = %+v, %v", cfg, err)
		}
	})

	t.Run("ModeFromBucketDefault", func(t *testing.T) {
		b := bucket(t, true)
		if s := open(t, srv.URL(b, "")); mustLockInfo(t, s).Mode != archive.LockGovernance {
			t.Errorf("mode without lock_mode or a default rule: %q, want governance", mustLockInfo(t, s).Mode)
		}
		_, err := srv.Client().PutObjectLockConfiguration(ctx, &s3.PutObjectLockConfigurationInput{Bucket: aws.String(b),
			ObjectLockConfiguration: &types.ObjectLockConfiguration{ObjectLockEnabled: types.ObjectLockEnabledEnabled,
				Rule: &types.ObjectLockRule{DefaultRetention: &types.DefaultRetention{Mode: types.ObjectLockRetentionModeCompliance, Days: aws.Int32(1)}}}})
		if err != nil {
			t.Fatal(err)
		}
		if got := mustLockInfo(t, open(t, srv.URL(b, ""))).Mode; got != archive.LockCompliance {
			t.Errorf("mode from the bucket's default rule: %q, want compliance", got)
		}
		if got := mustLockInfo(t, open(t, srv.URL(b, "")+"&lock_mode=governance")).Mode; got != archive.LockGovernance {
			t.Errorf("lock_mode=governance: %q", got)
		}
	})

	t.Run("RefusedDeleteLeavesNoMarker", func(t *testing.T) {
		// The refusal comes from the service, and the failed destruction
		// leaves the bucket as it was: no delete marker hides the blob.
		b := bucket(t, true)
		s := open(t, srv.URL(b, "arc")+"&lock_mode=compliance")
		data := []byte("a record kept for a while")
		key := archive.BlobKey(archive.Sum(data))
		until := time.Now().Add(time.Hour)
		if err := s.PutLocked(ctx, key, strings.NewReader(string(data)), int64(len(data)), archive.Sum(data), until); err != nil {
			t.Fatal(err)
		}
		err := s.Delete(ctx, key)
		t.Log(err)
		want := fmt.Sprintf("s3store: delete %s: retained by object lock: retained until %s (compliance)", key, ceilSecond(until).Format(time.RFC3339))
		if !errors.Is(err, archive.ErrRetained) || err.Error() != want {
			t.Fatalf("delete: %v\nwant %s", err, want)
		}
		out, err := srv.Client().ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(b), Prefix: aws.String("arc/")})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Versions) != 1 || len(out.DeleteMarkers) != 0 {
			t.Fatalf("after the refused delete: %d versions, %d delete markers; want 1 and 0", len(out.Versions), len(out.DeleteMarkers))
		}
		// A delete marker put there behind the store's back is no way round
		// it either: Delete removes markers only after the versions.
		if _, err := srv.Client().DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("arc/" + key)}); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, key); !errors.Is(err, archive.ErrRetained) {
			t.Fatalf("delete behind a marker: %v, want ErrRetained", err)
		}
	})
}

func mustLockInfo(t *testing.T, s *Store) archive.LockConfig {
	t.Helper()
	cfg, err := s.LockInfo(context.Background())
	if err != nil || !cfg.Enabled {
		t.Fatalf("LockInfo = %+v, %v", cfg, err)
	}
	return cfg
}
