package s3store

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/smithy-go"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/s3store/s3test"
	"github.com/osmarc/osmarc/archive/storetest"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		raw  string
		want storeURL // location is checked only when set
	}{
		{"s3://bkt", storeURL{bucket: "bkt", location: "s3://bkt"}},
		{"s3://bkt/", storeURL{bucket: "bkt", location: "s3://bkt"}},
		{"s3://bkt/arc/main", storeURL{bucket: "bkt", prefix: "arc/main/", location: "s3://bkt/arc/main/"}},
		{"s3://bkt/arc/?region=eu-west-1&profile=work", storeURL{bucket: "bkt", prefix: "arc/", region: "eu-west-1", profile: "work",
			location: "s3://bkt/arc/?profile=work&region=eu-west-1"}},
		{"s3://bkt?endpoint=http://127.0.0.1:9000", storeURL{bucket: "bkt", endpoint: "http://127.0.0.1:9000", pathStyle: true}},
		{"s3://bkt?endpoint=https://s3.example.net/&path_style=false", storeURL{bucket: "bkt", endpoint: "https://s3.example.net"}},
		{"s3://bkt?path_style=1", storeURL{bucket: "bkt", pathStyle: true}},
	}
	for _, tc := range tests {
		t.Run(tc.raw, func(t *testing.T) {
			got, err := parseURL(tc.raw)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want.location == "" {
				got.location = ""
			}
			if got != tc.want {
				t.Fatalf("parseURL(%q)\n got %+v\nwant %+v", tc.raw, got, tc.want)
			}
		})
	}
}

func TestParseURLRefused(t *testing.T) {
	tests := []struct {
		raw, want string
	}{
		{"s3://AKIAEXAMPLE:sekr3t@bkt/arc", "credentials in the store URL are refused"},
		{"s3://AKIAEXAMPLE@bkt/arc", "credentials in the store URL are refused"},
		{"s3://bkt?endpoint=http://AKIAEXAMPLE:sekr3t@127.0.0.1:9000", "credentials in the endpoint URL are refused"},
		{"https://bkt/arc", "malformed"},
		{"s3:bkt", "malformed"},
		{"s3:///arc", "no bucket"},
		{"s3://bkt:9000/arc", "not a bucket name"},
		{"s3://bkt/a/../b", "bad prefix"},
		{"s3://bkt//a", "bad prefix"},
		{"s3://bkt/a?secret=sekr3t", "unknown parameter"},
		{"s3://bkt/a?region=x&region=y", "given 2 times"},
		{"s3://bkt?endpoint=127.0.0.1:9000", "endpoint"},
		{"s3://bkt?endpoint=ftp://h", "endpoint"},
		{"s3://bkt?endpoint=http://h/path", "endpoint"},
		{"s3://bkt?path_style=maybe", "path_style"},
		{"s3://AKIAEXAMPLE:sekr3t@bkt/%zz", "malformed"},
		{"s3://bkt/a#frag", "fragment"},
	}
	for _, tc := range tests {
		t.Run(tc.raw, func(t *testing.T) {
			_, err := parseURL(tc.raw)
			if err == nil {
				t.Fatalf("parseURL(%q) succeeded", tc.raw)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.want) {
				t.Errorf("error %q does not say %q", msg, tc.want)
			}
			if strings.Contains(msg, "sekr3t") {
				t.Errorf("error prints the secret: %q", msg)
			}
			// Open refuses it the same way, before any network traffic.
			if _, err := Open(context.Background(), tc.raw); err == nil || err.Error() != msg {
				t.Errorf("Open: %v, want %q", err, msg)
			}
		})
	}
}

// TestS3 runs everything that needs a service against one versitygw.
func TestS3(t *testing.T) {
	srv := s3test.Start(t)
	ctx := context.Background()
	var seq atomic.Int64
	newBucket := func(t *testing.T) string {
		t.Helper()
		name := fmt.Sprintf("osmarc-test-%04d", seq.Add(1))
		if err := srv.NewBucket(ctx, name); err != nil {
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

	t.Run("Conformance", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) archive.BlobStore {
			return open(t, srv.URL(newBucket(t), ""))
		})
	})

	t.Run("ConformanceUnderPrefix", func(t *testing.T) {
		// All stores share one bucket, each under its own prefix, next to
		// objects a prefix bug would let them see.
		bucket := newBucket(t)
		root := open(t, srv.URL(bucket, ""))
		storetest.Run(t, func(t *testing.T) archive.BlobStore {
			p := fmt.Sprintf("runs/%04d", seq.Add(1))
			for _, k := range []string{p + "-sibling/journal/00000000000000000001.json", "journal/00000000000000000001.json"} {
				if err := archive.PutBytes(ctx, root, k, []byte("neighbour")); err != nil && !errors.Is(err, archive.ErrExists) {
					t.Fatal(err)
				}
			}
			return open(t, srv.URL(bucket, p))
		})
	})

	t.Run("PrefixIsolation", func(t *testing.T) {
		bucket := newBucket(t)
		root := open(t, srv.URL(bucket, ""))
		a := open(t, srv.URL(bucket, "a"))
		ab := open(t, srv.URL(bucket, "a-b/"))
		if a.Prefix() != "a/" || ab.Prefix() != "a-b/" || root.Prefix() != "" {
			t.Fatalf("prefixes %q %q %q", a.Prefix(), ab.Prefix(), root.Prefix())
		}
		for s, keys := range map[*Store][]string{
			a:    {"journal/00000000000000000001.json", "captures/2024/01/02/x.jsonl"},
			ab:   {"journal/00000000000000000001.json"},
			root: {"journal/00000000000000000002.json"},
		} {
			for _, k := range keys {
				if err := archive.PutBytes(ctx, s, k, []byte(s.Location()+" "+k)); err != nil {
					t.Fatal(err)
				}
			}
		}
		list := func(s *Store, prefix string) []string {
			var keys []string
			if err := s.List(ctx, prefix, "", func(oi archive.ObjectInfo) error {
				keys = append(keys, oi.Key)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			return keys
		}
		tests := []struct {
			name   string
			s      *Store
			prefix string
			want   []string
		}{
			{"a", a, "", []string{"captures/2024/01/02/x.jsonl", "journal/00000000000000000001.json"}},
			{"a journal", a, "journal/", []string{"journal/00000000000000000001.json"}},
			{"a-b", ab, "", []string{"journal/00000000000000000001.json"}},
			{"root", root, "", []string{"a-b/journal/00000000000000000001.json", "a/captures/2024/01/02/x.jsonl", "a/journal/00000000000000000001.json", "journal/00000000000000000002.json"}},
			{"root a", root, "a", []string{"a-b/journal/00000000000000000001.json", "a/captures/2024/01/02/x.jsonl", "a/journal/00000000000000000001.json"}},
		}
		for _, tc := range tests {
			if got := list(tc.s, tc.prefix); !slices.Equal(got, tc.want) {
				t.Errorf("%s: list %q = %q, want %q", tc.name, tc.prefix, got, tc.want)
			}
		}
		// The same key names different objects in different stores.
		if _, err := a.Stat(ctx, "journal/00000000000000000002.json"); !errors.Is(err, archive.ErrNotFound) {
			t.Errorf("store a sees the root's journal/…2: %v", err)
		}
		b, err := archive.ReadAll(ctx, root, "a/journal/00000000000000000001.json")
		if err != nil || string(b) != a.Location()+" journal/00000000000000000001.json" {
			t.Errorf("root reads a's object: %q, %v", b, err)
		}
	})

	t.Run("OpenErrors", func(t *testing.T) {
		bucket := newBucket(t)
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		closed := "http://" + l.Addr().String()
		l.Close()
		tests := []struct {
			name  string
			url   string
			env   map[string]string
			want  error
			names string // the message must name this
		}{
			{"closed port", fmt.Sprintf("s3://%s?endpoint=%s", bucket, closed), nil, archive.ErrUnavailable, closed},
			{"wrong secret", srv.URL(bucket, ""), map[string]string{"AWS_SECRET_ACCESS_KEY": "wrong-" + srv.Secret}, archive.ErrPermission, "AWS_ACCESS_KEY_ID"},
			{"unknown access key", srv.URL(bucket, ""), map[string]string{"AWS_ACCESS_KEY_ID": "nobody"}, archive.ErrPermission, "AWS_ACCESS_KEY_ID"},
			{"no credentials", srv.URL(bucket, ""), map[string]string{"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}, archive.ErrPermission, "AWS_ACCESS_KEY_ID"},
			{"missing profile", srv.URL(bucket, "") + "&profile=nosuch", nil, archive.ErrPermission, `"nosuch"`},
			{"missing bucket", srv.URL("no-such-bucket", "arc"), nil, archive.ErrNotFound, `"no-such-bucket"`},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				for k, v := range tc.env {
					t.Setenv(k, v)
				}
				start := time.Now()
				s, err := Open(ctx, tc.url)
				if err == nil {
					s.Close()
					t.Fatal("Open succeeded")
				}
				t.Logf("%v (after %v)", err, time.Since(start).Round(time.Millisecond))
				msg := err.Error()
				if !errors.Is(err, tc.want) {
					t.Errorf("err = %v, want %v", err, tc.want)
				}
				if !strings.Contains(msg, tc.names) {
					t.Errorf("message does not name %s", tc.names)
				}
				if strings.ContainsAny(msg, "\r\n") {
					t.Errorf("message is not one line")
				}
				if strings.Contains(msg, srv.Secret) {
					t.Errorf("message prints the secret")
				}
				if d := time.Since(start); d > probeTimeout+time.Second {
					t.Errorf("Open took %v", d)
				}
			})
		}
	})

	t.Run("ServiceChecksDigest", func(t *testing.T) {
		// Put normally refuses bad bytes itself; these bypass that check to
		// prove that the service checks them too and stores nothing.
		s := open(t, srv.URL(newBucket(t), ""))
		data, other := []byte("the bytes that were meant"), []byte("the bytes that were sent")
		tests := []struct {
			name     string
			key      string
			sum      archive.Digest
			hooks    putHooks
			wantCode string
		}{
			{"wrong x-amz-checksum-sha256", "journal/00000000000000000001.json", archive.Sum(data),
				putHooks{skipLocalCheck: true}, "BadDigest"},
			{"wrong x-amz-checksum-sha256 on a blob key", archive.BlobKey(archive.Sum(data)), archive.Sum(data),
				putHooks{skipLocalCheck: true}, "BadDigest"},
			{"wrong x-amz-content-sha256", "journal/00000000000000000002.json", archive.Sum(other),
				putHooks{payloadHash: archive.Sum(data).String()}, "XAmzContentSHA256Mismatch"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				err := s.put(ctx, tc.key, bytes.NewReader(other), int64(len(other)), tc.sum, tc.hooks)
				t.Logf("%v", err)
				if !errors.Is(err, archive.ErrDigestMismatch) {
					t.Fatalf("err = %v, want ErrDigestMismatch", err)
				}
				var ae smithy.APIError
				if !errors.As(err, &ae) {
					t.Fatalf("the refusal did not come from the service: %v", err)
				}
				if ae.ErrorCode() != tc.wantCode {
					t.Errorf("service error code %s, want %s", ae.ErrorCode(), tc.wantCode)
				}
				if _, err := s.Stat(ctx, tc.key); !errors.Is(err, archive.ErrNotFound) {
					t.Errorf("after the refused put, stat = %v, want ErrNotFound", err)
				}
			})
		}
	})

	t.Run("CreateOnlyIsConditional", func(t *testing.T) {
		// ErrExists comes from the service's 412 to If-None-Match, not from
		// a check before the write.
		s := open(t, srv.URL(newBucket(t), ""))
		key := "journal/00000000000000000001.json"
		if err := archive.PutBytes(ctx, s, key, []byte("first")); err != nil {
			t.Fatal(err)
		}
		err := archive.PutBytes(ctx, s, key, []byte("second"))
		var ae smithy.APIError
		if !errors.Is(err, archive.ErrExists) || !errors.As(err, &ae) || ae.ErrorCode() != "PreconditionFailed" {
			t.Fatalf("second put: %v, want ErrExists from a PreconditionFailed", err)
		}
	})

	t.Run("ConcurrentCreateOnly", func(t *testing.T) {
		// Writers racing on one key: for a journal key exactly one wins and
		// the others get ErrExists; for a blob key every writer succeeds.
		s := open(t, srv.URL(newBucket(t), ""))
		blob := []byte("raced blob")
		tests := []struct {
			name    string
			key     string
			body    func(w int) []byte
			winners int
		}{
			{"journal", "journal/00000000000000000009.json", func(w int) []byte { return fmt.Appendf(nil, `{"writer":%d}`, w) }, 1},
			{"blob", archive.BlobKey(archive.Sum(blob)), func(int) []byte { return blob }, 16},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				errs := make(chan error, 16)
				for w := range 16 {
					go func() { errs <- archive.PutBytes(ctx, s, tc.key, tc.body(w)) }()
				}
				winners := 0
				for range 16 {
					switch err := <-errs; {
					case err == nil:
						winners++
					case !errors.Is(err, archive.ErrExists):
						t.Errorf("put: %v", err)
					}
				}
				if winners != tc.winners {
					t.Errorf("%d puts succeeded, want %d", winners, tc.winners)
				}
			})
		}
	})

	t.Run("PutReaders", func(t *testing.T) {
		s := open(t, srv.URL(newBucket(t), ""))
		big := make([]byte, memSpoolLimit+4321) // spooled to a temporary file
		rand.Read(big)
		small := []byte("small object body")
		offset := bytes.NewReader(append([]byte("skip me:"), small...))
		offset.Seek(8, io.SeekStart)
		tests := []struct {
			name    string
			r       io.Reader
			size    int64
			data    []byte
			wantErr bool
		}{
			{"seeker", bytes.NewReader(small), int64(len(small)), small, false},
			{"seeker not at its start", offset, int64(len(small)), small, false},
			{"seeker short", bytes.NewReader(small[:3]), int64(len(small)), small, true},
			{"seeker long", bytes.NewReader(append(small, '!')), int64(len(small)), small, true},
			{"stream", io.MultiReader(bytes.NewReader(small)), int64(len(small)), small, false},
			{"stream short", io.MultiReader(bytes.NewReader(small[:3])), int64(len(small)), small, true},
			{"stream spooled", io.MultiReader(bytes.NewReader(big)), int64(len(big)), big, false},
			{"stream spooled short", io.MultiReader(bytes.NewReader(big[:memSpoolLimit+1])), int64(len(big)), big, true},
		}
		for i, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				key := fmt.Sprintf("captures/2024/01/02/%02d.jsonl", i)
				err := s.Put(ctx, key, tc.r, tc.size, archive.Sum(tc.data))
				if tc.wantErr {
					if err == nil {
						t.Fatal("put succeeded")
					}
					if _, err := s.Stat(ctx, key); !errors.Is(err, archive.ErrNotFound) {
						t.Fatalf("after a failed put, stat = %v, want ErrNotFound", err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				got, err := archive.ReadAll(ctx, s, key)
				if err != nil || !bytes.Equal(got, tc.data) {
					t.Fatalf("read back %d bytes (%v), want %d", len(got), err, len(tc.data))
				}
			})
		}
	})

	t.Run("ErrorsNameTheOperation", func(t *testing.T) {
		s := open(t, srv.URL(newBucket(t), "p"))
		key := archive.BlobKey(archive.Sum([]byte("absent")))
		_, err := s.Stat(ctx, key)
		if want := "s3store: stat " + key + ": not found"; err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("stat error %q, want it to start with %q", err, want)
		}
		_, err = s.Open(ctx, key)
		if want := "s3store: open " + key + ": not found"; err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("open error %q, want it to start with %q", err, want)
		}
	})

	t.Run("Location", func(t *testing.T) {
		bucket := newBucket(t)
		s := open(t, srv.URL(bucket, "arc"))
		if got := s.Location(); got != srv.URL(bucket, "arc/") {
			t.Errorf("Location = %q, want %q", got, srv.URL(bucket, "arc/"))
		}
		if strings.Contains(s.Location(), srv.Secret) || strings.Contains(s.Location(), srv.AccessKey) {
			t.Errorf("Location holds credentials: %q", s.Location())
		}
	})
}
