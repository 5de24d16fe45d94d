package s3store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/osmarc/osmarc/archive"
)

var (
	_ archive.BlobStore = (*Store)(nil)
	_ archive.Locker    = (*Store)(nil)
)

const (
	// probeTimeout bounds the whole bucket probe of Open, credentials
	// included; probeAttempts is how often HeadBucket is tried within it.
	probeTimeout  = 10 * time.Second
	probeAttempts = 2

	// memSpoolLimit: a Put body that is not an io.ReadSeeker is buffered in
	// memory up to this size and spooled to a temporary file above it.
	memSpoolLimit = 8 << 20

	// maxIdleConnsPerHost keeps enough connections open for many small
	// concurrent PUTs to one endpoint without reconnecting.
	maxIdleConnsPerHost = 64
)

// Store is an archive.BlobStore on one bucket and key prefix. It is safe
// for concurrent use.
type Store struct {
	client   *s3.Client
	http     aws.HTTPClient
	bucket   string
	prefix   string // "" or ending in "/"
	endpoint string // for messages
	location string
	// lockMode is the URL's lock_mode=, "" when not given; bucketInfo
	// holds what the store has learnt of its bucket's versioning and
	// Object Lock (lock.go).
	lockMode archive.LockMode
	bucketInfo
}

// storeURL is a parsed store URL.
type storeURL struct {
	bucket    string
	prefix    string // "" or ending in "/"
	endpoint  string // "" for AWS
	region    string // "" for the AWS chain's
	profile   string
	pathStyle bool
	lockMode  archive.LockMode // lock_mode=, "" when not given
	location  string           // the canonical URL, for people
}

// parseURL reads s3://BUCKET/PREFIX?endpoint=URL&region=R&path_style=B&profile=NAME&lock_mode=M.
// Its errors never repeat user information or the query (which could hold
// secrets).
func parseURL(raw string) (storeURL, error) {
	var su storeURL
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the whole URL
		}
		return su, fmt.Errorf("s3store: malformed store URL: %v", err)
	}
	if u.Scheme != "s3" || u.Opaque != "" {
		return su, fmt.Errorf("s3store: malformed store URL: want s3://BUCKET/PREFIX, got scheme %q", u.Scheme)
	}
	shown := "s3://" + u.Host + u.EscapedPath()
	if u.User != nil {
		return su, fmt.Errorf("s3store: %s: credentials in the store URL are refused: give them through the AWS chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, the shared credentials file, or profile=NAME)", shown)
	}
	if u.Host == "" {
		return su, fmt.Errorf("s3store: malformed store URL %s: no bucket", shown)
	}
	if strings.ContainsAny(u.Host, ":[]%") {
		return su, fmt.Errorf("s3store: malformed store URL %s: %q is not a bucket name", shown, u.Host)
	}
	if u.Fragment != "" {
		return su, fmt.Errorf("s3store: malformed store URL %s: unexpected fragment", shown)
	}
	su.bucket = u.Host
	if p := strings.Trim(u.Path, "/"); p != "" {
		if err := archive.CheckKey(p); err != nil || strings.HasPrefix(u.Path, "//") {
			return su, fmt.Errorf("s3store: malformed store URL %s: bad prefix %q", shown, u.Path)
		}
		su.prefix = p + "/"
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return su, fmt.Errorf("s3store: malformed store URL %s: query: %v", shown, err)
	}
	for k, v := range q {
		switch k {
		case "endpoint", "region", "path_style", "profile", "lock_mode":
			if len(v) != 1 {
				return su, fmt.Errorf("s3store: malformed store URL %s: %s given %d times", shown, k, len(v))
			}
		default:
			return su, fmt.Errorf("s3store: malformed store URL %s: unknown parameter %q (want endpoint, region, path_style, profile, lock_mode)", shown, k)
		}
	}
	if ep := q.Get("endpoint"); ep != "" {
		e, err := url.Parse(ep)
		switch {
		case err != nil:
			return su, fmt.Errorf("s3store: malformed store URL %s: endpoint is not a URL", shown)
		case e.User != nil:
			return su, fmt.Errorf("s3store: %s: credentials in the endpoint URL are refused: give them through the AWS chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, the shared credentials file, or profile=NAME)", shown)
		case e.Scheme != "http" && e.Scheme != "https", e.Host == "":
			return su, fmt.Errorf("s3store: malformed store URL %s: endpoint %q: want http://HOST[:PORT] or https://HOST[:PORT]", shown, ep)
		case strings.Trim(e.Path, "/") != "" || e.RawQuery != "" || e.Fragment != "":
			return su, fmt.Errorf("s3store: malformed store URL %s: endpoint %q: want no path or query", shown, ep)
		}
		su.endpoint = e.Scheme + "://" + e.Host
	}
	su.region = q.Get("region")
	su.profile = q.Get("profile")
	if m := q.Get("lock_mode"); m != "" {
		mode, err := archive.ParseLockMode(m)
		if err != nil {
			return su, fmt.Errorf("s3store: malformed store URL %s: lock_mode=%q: want compliance or governance", shown, m)
		}
		su.lockMode = mode
	}
	su.pathStyle = su.endpoint != ""
	if ps := q.Get("path_style"); ps != "" {
		b, err := strconv.ParseBool(ps)
		if err != nil {
			return su, fmt.Errorf("s3store: malformed store URL %s: path_style=%q: want true or false", shown, ps)
		}
		su.pathStyle = b
	}
	loc := url.URL{Scheme: "s3", Host: su.bucket}
	if su.prefix != "" {
		loc.Path = "/" + su.prefix
	}
	lq := url.Values{}
	for k, v := range q {
		lq[k] = v
	}
	if su.endpoint != "" {
		lq.Set("endpoint", su.endpoint)
	}
	loc.RawQuery = lq.Encode()
	su.location = loc.String()
	return su, nil
}

// Open connects to the store rawURL names and probes its bucket. Its
// errors are one line saying what is wrong: the endpoint cannot be reached
// (archive.ErrUnavailable), the credentials are missing or refused
// (archive.ErrPermission), the bucket does not exist (archive.ErrNotFound),
// or the URL is malformed.
func Open(ctx context.Context, rawURL string) (*Store, error) {
	su, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	// A BuildableClient, so the configuration can still add a CA bundle
	// (AWS_CA_BUNDLE) to it; frozen below so Close can drop idle
	// connections.
	bc := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.MaxIdleConnsPerHost = maxIdleConnsPerHost
		if tr.MaxIdleConns < 4*maxIdleConnsPerHost {
			tr.MaxIdleConns = 4 * maxIdleConnsPerHost
		}
	})
	opts := []func(*config.LoadOptions) error{config.WithHTTPClient(bc)}
	if su.region != "" {
		opts = append(opts, config.WithRegion(su.region))
	}
	if su.profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(su.profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		var pe config.SharedConfigProfileNotExistError
		if errors.As(err, &pe) {
			return nil, newError(fmt.Sprintf("s3store: open %s: %v: AWS profile %q not found: check profile= and the AWS config and credentials files", su.location, archive.ErrPermission, pe.Profile), archive.ErrPermission, err)
		}
		return nil, newError(fmt.Sprintf("s3store: open %s: load AWS configuration: %v", su.location, err), nil, err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if b, ok := cfg.HTTPClient.(*awshttp.BuildableClient); ok {
		cfg.HTTPClient = b.Freeze()
	}
	s := &Store{
		http:     cfg.HTTPClient,
		bucket:   su.bucket,
		prefix:   su.prefix,
		endpoint: su.endpoint,
		location: su.location,
		lockMode: su.lockMode,
	}
	if s.endpoint == "" {
		s.endpoint = "the AWS S3 endpoint of region " + cfg.Region
	}
	s.client = s3.NewFromConfig(cfg, func(o *s3.Options) {
		if su.endpoint != "" {
			o.BaseEndpoint = aws.String(su.endpoint)
		}
		o.UsePathStyle = su.pathStyle
		// Objects without a stored checksum are normal; do not log it.
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	if err := s.probe(ctx, cfg); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.probeLock(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// probe checks that credentials exist and that the bucket answers.
func (s *Store) probe(ctx context.Context, cfg aws.Config) error {
	pctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	const checkCreds = "check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or the profile"
	if cfg.Credentials == nil {
		return newError(fmt.Sprintf("s3store: open %s: %v: no AWS credentials found: %s", s.location, archive.ErrPermission, checkCreds), archive.ErrPermission, nil)
	}
	if _, err := cfg.Credentials.Retrieve(pctx); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("s3store: open %s: %w", s.location, ctx.Err())
		}
		return newError(fmt.Sprintf("s3store: open %s: %v: no usable AWS credentials (%s): %s", s.location, archive.ErrPermission, checkCreds, detail(err)), archive.ErrPermission, err)
	}
	_, err := s.client.HeadBucket(pctx, &s3.HeadBucketInput{Bucket: aws.String(s.bucket)}, func(o *s3.Options) {
		o.Retryer = retry.AddWithMaxAttempts(o.Retryer, probeAttempts)
	})
	if err == nil {
		return nil
	}
	if st := httpStatus(err); st == http.StatusNotFound || st == http.StatusForbidden {
		// A HEAD answer has no body, so a 403 or 404 does not say what is
		// wrong (versitygw even answers 404 XAdminUserNotFound to an
		// unknown access key). A GET's error body does.
		_, err = s.client.ListObjectsV2(pctx, &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket), MaxKeys: aws.Int32(1)}, func(o *s3.Options) {
			o.Retryer = retry.AddWithMaxAttempts(o.Retryer, probeAttempts)
		})
		if err == nil {
			return nil
		}
	}
	if ctx.Err() != nil {
		return fmt.Errorf("s3store: open %s: %w", s.location, ctx.Err())
	}
	st := httpStatus(err)
	kind := classify(err)
	switch {
	case kind == archive.ErrUnavailable && st == 0, errors.Is(err, context.DeadlineExceeded):
		return newError(fmt.Sprintf("s3store: open %s: endpoint %s unreachable: %v: %s", s.location, s.endpoint, archive.ErrUnavailable, detail(err)), archive.ErrUnavailable, err)
	case kind == archive.ErrPermission:
		return newError(fmt.Sprintf("s3store: open %s: access to bucket %q refused: %v: %s (%s)", s.location, s.bucket, archive.ErrPermission, detail(err), checkCreds), archive.ErrPermission, err)
	case kind == archive.ErrNotFound:
		return newError(fmt.Sprintf("s3store: open %s: bucket %q does not exist at %s: %v", s.location, s.bucket, s.endpoint, archive.ErrNotFound), archive.ErrNotFound, err)
	case st == http.StatusMovedPermanently:
		if r := responseHeader(err, "X-Amz-Bucket-Region"); r != "" {
			return newError(fmt.Sprintf("s3store: open %s: bucket %q is in region %s, not %s: add region=%s to the URL", s.location, s.bucket, r, cfg.Region, r), nil, err)
		}
	}
	if kind != nil {
		return newError(fmt.Sprintf("s3store: open %s: probe bucket %q at %s: %v: %s", s.location, s.bucket, s.endpoint, kind, detail(err)), kind, err)
	}
	return newError(fmt.Sprintf("s3store: open %s: probe bucket %q at %s: %s", s.location, s.bucket, s.endpoint, detail(err)), nil, err)
}

// Prefix is the key prefix inside the bucket that the store's keys are
// relative to: "" or a path ending in "/".
func (s *Store) Prefix() string { return s.prefix }

// Put implements archive.BlobStore.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64, sum archive.Digest) error {
	return s.put(ctx, key, r, size, sum, putHooks{})
}

// putHooks lets tests send what Put never would, to prove the service
// checks the bytes itself.
type putHooks struct {
	skipLocalCheck bool   // send even when the bytes do not hash to sum
	payloadHash    string // sign this x-amz-content-sha256 instead of the bytes' own
}

func (s *Store) put(ctx context.Context, key string, r io.Reader, size int64, sum archive.Digest, h putHooks) error {
	_, err := s.putObject(ctx, key, r, size, sum, nil, h)
	return err
}

// putObject writes key, retained as lk says when it is not nil. existed
// reports a blob key that was there already (and so was not written).
func (s *Store) putObject(ctx context.Context, key string, r io.Reader, size int64, sum archive.Digest, lk *lockRequest, h putHooks) (existed bool, err error) {
	if err := archive.CheckPut(key, sum); err != nil {
		return false, fmt.Errorf("s3store: put %s: %w", key, err)
	}
	if size < 0 {
		return false, fmt.Errorf("s3store: put %s: negative size %d", key, size)
	}
	body, actual, cleanup, err := prepareBody(ctx, r, size)
	if err != nil {
		return false, fmt.Errorf("s3store: put %s: %w", key, err)
	}
	defer cleanup()
	if actual != sum && !h.skipLocalCheck {
		return false, fmt.Errorf("s3store: put %s: %w: the bytes hash to %s, the claimed digest is %s", key, archive.ErrDigestMismatch, actual, sum)
	}
	payloadHash := hex.EncodeToString(actual[:])
	if h.payloadHash != "" {
		payloadHash = h.payloadHash
	}
	in := &s3.PutObjectInput{
		Bucket:         aws.String(s.bucket),
		Key:            aws.String(s.prefix + key),
		Body:           body,
		ContentLength:  aws.Int64(size),
		ChecksumSHA256: aws.String(base64.StdEncoding.EncodeToString(sum[:])),
		// Create-only, decided by the service: AWS and versitygw v1.8.0
		// answer 412 PreconditionFailed when the key exists (versitygw
		// serializes racing writers: one wins, the rest get 412), so no
		// HeadObject check is needed, and none races. A service that
		// ignored If-None-Match would silently replace the object.
		IfNoneMatch: aws.String("*"),
	}
	if lk != nil {
		in.ObjectLockMode = types.ObjectLockMode(lk.mode)
		in.ObjectLockRetainUntilDate = aws.Time(lk.until)
	}
	_, err = s.client.PutObject(ctx, in, withPayloadHash(payloadHash), func(o *s3.Options) {
		// A conditional write racing another on the same key gets 409
		// ConditionalRequestConflict; trying again settles it (201 or 412).
		o.Retryer = retry.AddWithErrorCodes(o.Retryer, "ConditionalRequestConflict")
	})
	if err == nil {
		return false, nil
	}
	if keyTaken(err) {
		if archive.IsBlobKey(key) {
			return true, nil // same name, same bytes
		}
		return false, newError(fmt.Sprintf("s3store: put %s: %v", key, archive.ErrExists), archive.ErrExists, err)
	}
	return false, s.fail("put", key, err)
}

// withPayloadHash gives the signer the body's SHA-256, which Put has
// already computed: the SDK then neither reads the body a second time nor
// (over TLS) sends UNSIGNED-PAYLOAD, and the service checks the hash.
func withPayloadHash(hexSum string) func(*s3.Options) {
	return func(o *s3.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Finalize.Add(middleware.FinalizeMiddlewareFunc("s3store:PayloadHash",
				func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
					return next.HandleFinalize(v4.SetPayloadHash(ctx, hexSum), in)
				}), middleware.Before)
		})
	}
}

// prepareBody reads exactly size bytes from r, hashing them, and returns a
// seekable body holding them. An io.ReadSeeker is read in place and rewound;
// anything else is buffered in memory (small) or spooled to a temporary
// file (large). cleanup releases the spool.
func prepareBody(ctx context.Context, r io.Reader, size int64) (body io.ReadSeeker, sum archive.Digest, cleanup func(), err error) {
	cleanup = func() {}
	if err := ctx.Err(); err != nil {
		return nil, sum, cleanup, err
	}
	h := sha256.New()
	if rs, ok := r.(io.ReadSeeker); ok {
		start, err := rs.Seek(0, io.SeekCurrent)
		if err != nil {
			return nil, sum, cleanup, fmt.Errorf("read body: %w", err)
		}
		if err := copyExactly(h, rs, size); err != nil {
			return nil, sum, cleanup, err
		}
		if _, err := rs.Seek(start, io.SeekStart); err != nil {
			return nil, sum, cleanup, fmt.Errorf("rewind body: %w", err)
		}
		return &boundedSeeker{rs: rs, start: start, size: size}, archive.Digest(h.Sum(nil)), cleanup, nil
	}
	if size <= memSpoolLimit {
		var buf bytes.Buffer
		buf.Grow(int(size))
		if err := copyExactly(io.MultiWriter(&buf, h), r, size); err != nil {
			return nil, sum, cleanup, err
		}
		return bytes.NewReader(buf.Bytes()), archive.Digest(h.Sum(nil)), cleanup, nil
	}
	f, err := os.CreateTemp("", "s3store-put-*")
	if err != nil {
		return nil, sum, cleanup, fmt.Errorf("spool body: %w", err)
	}
	cleanup = func() {
		f.Close()
		os.Remove(f.Name())
	}
	if err := copyExactly(io.MultiWriter(f, h), r, size); err != nil {
		cleanup()
		return nil, sum, func() {}, err
	}
	if err := ctx.Err(); err != nil {
		cleanup()
		return nil, sum, func() {}, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		cleanup()
		return nil, sum, func() {}, fmt.Errorf("spool body: %w", err)
	}
	return f, archive.Digest(h.Sum(nil)), cleanup, nil
}

// copyExactly copies r to w and fails unless r holds exactly size bytes.
func copyExactly(w io.Writer, r io.Reader, size int64) error {
	n, err := io.Copy(w, io.LimitReader(r, size+1))
	if err != nil {
		return fmt.Errorf("read body: %w", err)
	}
	if n != size {
		return fmt.Errorf("read body: got %d bytes, want %d", n, size)
	}
	return nil
}

// boundedSeeker shows the size bytes of rs from start as a stream of its
// own, so the SDK rewinds to start and never reads past the end.
type boundedSeeker struct {
	rs          io.ReadSeeker
	start, size int64
	pos         int64 // relative to start
}

func (b *boundedSeeker) Read(p []byte) (int, error) {
	if b.pos >= b.size {
		return 0, io.EOF
	}
	if rest := b.size - b.pos; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := b.rs.Read(p)
	b.pos += int64(n)
	if err == io.EOF && b.pos < b.size {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func (b *boundedSeeker) Seek(offset int64, whence int) (int64, error) {
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = b.pos + offset
	case io.SeekEnd:
		abs = b.size + offset
	default:
		return 0, errors.New("seek: bad whence")
	}
	if abs < 0 {
		return 0, errors.New("seek: negative position")
	}
	if _, err := b.rs.Seek(b.start+min(abs, b.size), io.SeekStart); err != nil {
		return 0, err
	}
	b.pos = abs
	return abs, nil
}

// Open implements archive.BlobStore. The object is streamed; read errors
// are translated like the others.
func (s *Store) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := archive.CheckKey(key); err != nil {
		return nil, fmt.Errorf("s3store: open %s: %w", key, err)
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(s.prefix + key),
	})
	if err != nil {
		return nil, s.fail("open", key, err)
	}
	return &objectReader{body: out.Body, s: s, key: key}, nil
}

// objectReader translates the errors of a streamed object body.
type objectReader struct {
	body io.ReadCloser
	s    *Store
	key  string
}

func (o *objectReader) Read(p []byte) (int, error) {
	n, err := o.body.Read(p)
	if err != nil && err != io.EOF {
		err = o.s.fail("read", o.key, err)
	}
	return n, err
}

func (o *objectReader) Close() error { return o.body.Close() }

// Stat implements archive.BlobStore.
func (s *Store) Stat(ctx context.Context, key string) (archive.ObjectInfo, error) {
	if err := archive.CheckKey(key); err != nil {
		return archive.ObjectInfo{}, fmt.Errorf("s3store: stat %s: %w", key, err)
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(s.prefix + key),
	})
	if err != nil {
		return archive.ObjectInfo{}, s.fail("stat", key, err)
	}
	return archive.ObjectInfo{
		Key:     key,
		Size:    aws.ToInt64(out.ContentLength),
		ModTime: aws.ToTime(out.LastModified).UTC(),
	}, nil
}

// List implements archive.BlobStore. Keys come back relative to the store
// prefix, in the service's order, which S3 defines as lexical (UTF-8 byte)
// order.
func (s *Store) List(ctx context.Context, prefix, startAfter string, fn func(archive.ObjectInfo) error) error {
	in := &s3.ListObjectsV2Input{
		Bucket: aws.String(s.bucket),
		Prefix: aws.String(s.prefix + prefix),
	}
	if startAfter != "" {
		in.StartAfter = aws.String(s.prefix + startAfter)
	}
	pages := s3.NewListObjectsV2Paginator(s.client, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return s.fail("list", strconv.Quote(prefix), err)
		}
		for _, obj := range page.Contents {
			full := aws.ToString(obj.Key)
			key, ok := strings.CutPrefix(full, s.prefix)
			// Directory markers ("a/b/") are not objects of the store.
			if !ok || key == "" || strings.HasSuffix(key, "/") || key <= startAfter {
				continue
			}
			oi := archive.ObjectInfo{
				Key:     key,
				Size:    aws.ToInt64(obj.Size),
				ModTime: aws.ToTime(obj.LastModified).UTC(),
			}
			if err := fn(oi); err != nil {
				return err
			}
		}
	}
	return nil
}

// Delete implements archive.BlobStore. Deleting a missing key succeeds. On
// a bucket with versioning (which Object Lock implies) it deletes every
// version of the key, delete markers included, so the bytes are really
// gone; a version that Object Lock retains refuses with
// archive.ErrRetained (see deleteVersions).
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := archive.CheckKey(key); err != nil {
		return fmt.Errorf("s3store: delete %s: %w", key, err)
	}
	versioned, err := s.versioned(ctx)
	if err != nil {
		return fmt.Errorf("s3store: delete %s: %w", key, err)
	}
	if versioned {
		return s.deleteVersions(ctx, key)
	}
	_, err = s.client.DeleteObject(ctx, &s3.DeleteObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(s.prefix + key),
	})
	if err != nil && errorCode(err) != "NoSuchKey" {
		return s.fail("delete", key, err)
	}
	return nil
}

// Sync implements archive.BlobStore. S3 writes are durable when they are
// acknowledged, so there is nothing to flush.
func (s *Store) Sync(ctx context.Context) error { return nil }

// Location implements archive.BlobStore: the store URL, which never holds
// credentials.
func (s *Store) Location() string { return s.location }

// Close implements archive.BlobStore; it releases idle connections.
func (s *Store) Close() error {
	if c, ok := s.http.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
	return nil
}

// storeError is a translated SDK error: a short message, the archive
// sentinel it stands for (if any), and the SDK error for errors.As.
type storeError struct {
	msg  string
	errs []error
}

func newError(msg string, kind, err error) error {
	e := &storeError{msg: oneLine(msg)}
	for _, x := range []error{kind, err} {
		if x != nil {
			e.errs = append(e.errs, x)
		}
	}
	return e
}

func (e *storeError) Error() string   { return e.msg }
func (e *storeError) Unwrap() []error { return e.errs }

// fail translates err from operation op on key.
func (s *Store) fail(op, key string, err error) error {
	kind := classify(err)
	if kind == nil {
		return newError(fmt.Sprintf("s3store: %s %s: %s", op, key, detail(err)), nil, err)
	}
	msg := fmt.Sprintf("s3store: %s %s: %v: %s", op, key, kind, detail(err))
	if kind == archive.ErrNotFound && errorCode(err) == "NoSuchBucket" {
		msg = fmt.Sprintf("s3store: %s %s: %v: bucket %q does not exist", op, key, kind, s.bucket)
	}
	return newError(msg, kind, err)
}

// classify maps an SDK error to the archive sentinel it stands for, or nil.
func classify(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil // the caller's context, not the store
	}
	var rse *smithyhttp.RequestSendError
	if errors.As(err, &rse) {
		return archive.ErrUnavailable
	}
	switch errorCode(err) {
	case "NoSuchKey", "NotFound", "NoSuchBucket":
		return archive.ErrNotFound
	case "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "Forbidden",
		"AllAccessDisabled", "AccountProblem", "InvalidToken", "ExpiredToken", "TokenRefreshRequired",
		"XAdminUserNotFound": // versitygw's answer (HTTP 404) to an unknown access key
		return archive.ErrPermission
	case "BadDigest", "XAmzContentSHA256Mismatch", "InvalidDigest":
		return archive.ErrDigestMismatch
	case "ServiceUnavailable", "SlowDown", "InternalError", "RequestTimeout":
		return archive.ErrUnavailable
	}
	switch st := httpStatus(err); {
	case st == http.StatusForbidden || st == http.StatusUnauthorized:
		return archive.ErrPermission
	case st == http.StatusNotFound:
		return archive.ErrNotFound
	case st >= 500:
		return archive.ErrUnavailable
	case st != 0:
		return nil
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) {
		return archive.ErrUnavailable
	}
	return nil
}

// keyTaken reports whether a conditional put failed because the key exists.
func keyTaken(err error) bool {
	switch errorCode(err) {
	case "PreconditionFailed", "ConditionalRequestConflict":
		return true
	}
	return httpStatus(err) == http.StatusPreconditionFailed
}

func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func httpStatus(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.Response != nil && re.Response.Response != nil {
		return re.Response.StatusCode
	}
	return 0
}

func responseHeader(err error, name string) string {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.Response != nil && re.Response.Response != nil {
		return re.Response.Header.Get(name)
	}
	return ""
}

// detail says briefly what went wrong, without the SDK's framing.
func detail(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		d := ae.ErrorCode()
		if m := ae.ErrorMessage(); m != "" && m != d {
			d += ": " + m
		}
		if st := httpStatus(err); st != 0 {
			d += " (HTTP " + strconv.Itoa(st) + ")"
		}
		return d
	}
	var oe *net.OpError
	switch {
	case errors.As(err, &oe):
		return oe.Error()
	case errors.Is(err, context.DeadlineExceeded):
		return "no answer in time"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	if st := httpStatus(err); st != 0 {
		return "HTTP " + strconv.Itoa(st) + " " + http.StatusText(st)
	}
	return err.Error()
}

var newlines = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ")

// oneLine keeps a message on one line whatever the service sent.
func oneLine(s string) string { return newlines.Replace(s) }
