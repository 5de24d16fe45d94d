//go:build unix

// Package s3test runs a real S3 service for tests and benchmarks: versitygw
// v1.8.0 with its posix backend, on 127.0.0.1 on a free port, with fresh
// random credentials and a root directory of its own.
//
// Start (for tests) finds the binary, starts the server, stops it in the
// test's Cleanup and points the standard AWS credential chain of the test
// process at it, isolated from the developer's ~/.aws. StartServer is the
// same without the testing package, for benchmark programs.
//
// WithVersioning starts the server with a versioning directory, so buckets
// can have versioning and Object Lock (NewLockedBucket).
//
// The binary is $OSMARC_VERSITYGW, else .bin/versitygw in the module root
// (the directory holding go.mod, found by walking up from the working
// directory), else versitygw on $PATH. `make test` installs it into .bin/.
package s3test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Region is the region the server answers for.
const Region = "us-east-1"

// readyTimeout bounds how long StartServer waits for the server to answer.
const readyTimeout = 20 * time.Second

// ErrNoBinary: the versitygw binary was not found.
var ErrNoBinary = errors.New("versitygw not found: set OSMARC_VERSITYGW or run `make test`, which installs it into .bin/")

// Server is a running versitygw.
type Server struct {
	Endpoint  string // http://127.0.0.1:PORT
	AccessKey string
	Secret    string
	Region    string

	cmd    *exec.Cmd
	done   chan struct{} // closed when the process has exited
	output *tailBuffer
	client *s3.Client
	rmDir  string // removed on Stop when StartServer made it
	// versioning: started with --versioning-dir, so buckets can have
	// versioning and Object Lock.
	versioning bool
	stopped    sync.Once
}

// Start starts a server for the test and stops it in tb's Cleanup. It sets
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION for the test
// process, so stores opened through the standard AWS chain reach it, and
// keeps the developer's AWS configuration out (shared config and
// credentials files pointed at nonexistent paths, instance metadata off,
// profile, session token and endpoint overrides cleared). Because it uses
// tb.Setenv it cannot be called from a parallel test.
//
// Without the binary it skips the test, or fails it when CI is "true".
func Start(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	bin, err := FindBinary()
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("s3test: %v", err)
		}
		tb.Skipf("s3test: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout+5*time.Second)
	defer cancel()
	s, err := StartServer(ctx, bin, tb.TempDir(), opts...)
	if err != nil {
		tb.Fatalf("s3test: %v", err)
	}
	tb.Cleanup(s.Stop)
	noAWS := tb.TempDir()
	for k, v := range map[string]string{
		"AWS_CONFIG_FILE":             filepath.Join(noAWS, "no-config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(noAWS, "no-credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_PROFILE":                 "",
		"AWS_DEFAULT_PROFILE":         "",
		"AWS_SESSION_TOKEN":           "",
		"AWS_ENDPOINT_URL":            "",
		"AWS_ENDPOINT_URL_S3":         "",
		"AWS_DEFAULT_REGION":          "",
	} {
		tb.Setenv(k, v)
	}
	for k, v := range s.envMap() {
		tb.Setenv(k, v)
	}
	return s
}

// FindBinary returns the versitygw to run: $OSMARC_VERSITYGW, else
// .bin/versitygw in the module root, else versitygw on $PATH. Its error
// wraps ErrNoBinary.
func FindBinary() (string, error) {
	if p := os.Getenv("OSMARC_VERSITYGW"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%w (OSMARC_VERSITYGW: %v)", ErrNoBinary, err)
		}
		return p, nil
	}
	if dir, err := os.Getwd(); err == nil {
		for {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				p := filepath.Join(dir, ".bin", "versitygw")
				if _, err := os.Stat(p); err == nil {
					return p, nil
				}
				break
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	return "", ErrNoBinary
}

// Option changes how a server is started.
type Option func(*startConfig)

type startConfig struct {
	versioning bool
}

// WithVersioning gives the server a versioning directory (versitygw's
// --versioning-dir), without which it supports neither bucket versioning
// nor Object Lock. Buckets made with NewLockedBucket need it.
func WithVersioning() Option { return func(c *startConfig) { c.versioning = true } }

// StartServer starts binary (FindBinary's when "") serving the directory
// dir (a fresh temporary directory, removed by Stop, when ""), and waits
// until it answers. The caller must call Stop.
func StartServer(ctx context.Context, binary, dir string, opts ...Option) (*Server, error) {
	var sc startConfig
	for _, o := range opts {
		o(&sc)
	}
	if binary == "" {
		var err error
		if binary, err = FindBinary(); err != nil {
			return nil, err
		}
	}
	var rmDir string
	if dir == "" {
		d, err := os.MkdirTemp("", "s3test-*")
		if err != nil {
			return nil, fmt.Errorf("start versitygw: %w", err)
		}
		dir, rmDir = d, d
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("start versitygw: %w", err)
	}
	root := filepath.Join(dir, "gw")
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("start versitygw: %w", err)
	}
	var versions string
	if sc.versioning {
		versions = filepath.Join(dir, "versions")
		if err := os.MkdirAll(versions, 0o755); err != nil {
			return nil, fmt.Errorf("start versitygw: %w", err)
		}
	}
	// The free port is found by binding and releasing it, so another
	// process may take it first: then versitygw exits and we try again.
	var err error
	for range 3 {
		var s *Server
		s, err = start(ctx, binary, root, versions)
		if err == nil {
			s.rmDir = rmDir
			return s, nil
		}
		if ctx.Err() != nil {
			break
		}
	}
	if rmDir != "" {
		os.RemoveAll(rmDir)
	}
	return nil, err
}

func start(ctx context.Context, binary, root, versions string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("start versitygw: %w", err)
	}
	addr := net.JoinHostPort("127.0.0.1", port)
	s := &Server{
		Endpoint:  "http://" + addr,
		AccessKey: "osmarc" + randomHex(7),
		Secret:    randomHex(20),
		Region:    Region,
		done:      make(chan struct{}),
		output:    &tailBuffer{max: 8 << 10},
	}
	args := []string{"--access", s.AccessKey, "--secret", s.Secret,
		"--port", addr, "--keep-alive", "--quiet",
		"posix"}
	if versions != "" {
		args = append(args, "--versioning-dir", versions)
		s.versioning = true
	}
	s.cmd = exec.Command(binary, append(args, root)...)
	s.cmd.Stdout = s.output
	s.cmd.Stderr = s.output
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start versitygw: %w", err)
	}
	go func() {
		s.cmd.Wait()
		close(s.done)
	}()
	s.client = s3.New(s3.Options{
		Region:       s.Region,
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKey, s.Secret, ""),
	})
	if err := s.waitReady(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// waitReady polls ListBuckets until the server answers, it exits, or the
// time is up.
func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var lastErr error
	for {
		actx, acancel := context.WithTimeout(ctx, time.Second)
		_, err := s.client.ListBuckets(actx, &s3.ListBucketsInput{}, func(o *s3.Options) { o.RetryMaxAttempts = 1 })
		acancel()
		if err == nil {
			return nil
		}
		lastErr = err
		select {
		case <-s.done:
			return fmt.Errorf("start versitygw on %s: it exited (%v): %s", s.Endpoint, s.cmd.ProcessState, s.output.String())
		case <-ctx.Done():
			return fmt.Errorf("start versitygw on %s: no answer within %v: %v; output: %s", s.Endpoint, readyTimeout, lastErr, s.output.String())
		case <-tick.C:
		}
	}
}

// NewBucket creates a bucket.
func (s *Server) NewBucket(ctx context.Context, name string) error {
	if _, err := s.client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		return fmt.Errorf("create bucket %s: %w", name, err)
	}
	return nil
}

// NewLockedBucket creates a bucket with Object Lock enabled (and so
// versioning). The server must have been started WithVersioning.
func (s *Server) NewLockedBucket(ctx context.Context, name string) error {
	if !s.versioning {
		return fmt.Errorf("create bucket %s with Object Lock: start the server with s3test.WithVersioning()", name)
	}
	_, err := s.client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name), ObjectLockEnabledForBucket: aws.Bool(true)})
	if err != nil {
		return fmt.Errorf("create bucket %s with Object Lock: %w", name, err)
	}
	return nil
}

// Client is an S3 client with the server's credentials, for tests that
// look at or change a bucket behind a store's back.
func (s *Server) Client() *s3.Client { return s.client }

// URL is the store URL of prefix in bucket on this server.
func (s *Server) URL(bucket, prefix string) string {
	u := url.URL{Scheme: "s3", Host: bucket, Path: "/" + prefix}
	u.RawQuery = url.Values{
		"endpoint":   {s.Endpoint},
		"region":     {s.Region},
		"path_style": {"true"},
	}.Encode()
	return u.String()
}

// Env holds the environment variables that give a process this server's
// credentials through the standard AWS chain.
func (s *Server) Env() []string {
	var env []string
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"} {
		env = append(env, k+"="+s.envMap()[k])
	}
	return env
}

func (s *Server) envMap() map[string]string {
	return map[string]string{
		"AWS_ACCESS_KEY_ID":     s.AccessKey,
		"AWS_SECRET_ACCESS_KEY": s.Secret,
		"AWS_REGION":            s.Region,
	}
}

// Stop kills the server's process group and waits for it to exit; it
// removes the directory StartServer made. It is safe to call more than
// once.
func (s *Server) Stop() {
	s.stopped.Do(func() {
		if s.cmd != nil && s.cmd.Process != nil {
			syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
			select {
			case <-s.done:
			case <-time.After(10 * time.Second):
			}
		}
		if s.rmDir != "" {
			os.RemoveAll(s.rmDir)
		}
	})
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	_, port, err := net.SplitHostPort(l.Addr().String())
	return port, err
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(p)
	if extra := t.buf.Len() - t.max; extra > 0 {
		t.buf.Next(extra)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
}
