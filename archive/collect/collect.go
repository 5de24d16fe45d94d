// Package collect captures what official accounts post and receive: the
// Collector interface that each platform's live collector implements, the
// Importer interface for account exports and saved API responses, the
// shared HTTP client they reach platforms through (timeouts, retries with
// backoff, rate limits, an SSRF guard, checked media downloads), and the
// runner that turns one collector run into one capture.
//
// Collectors and importers live one package per platform or format under
// this one; the lists of them are written out in Collectors and Importers
// (archive/collect/registry), not registered from init functions.
package collect

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"time"

	"github.com/osmarc/osmarc/archive"
)

// Sink is where a collector or importer puts what it captures: the
// archive's CaptureWriter, or a fake in unit tests.
type Sink interface {
	// PutRaw keeps a raw API response or a piece of an export byte for
	// byte; the items in it name its digest in ItemOptions.Raw.
	PutRaw(ctx context.Context, body []byte, source, lines, mediaType string) (archive.Digest, error)
	// AddItem records one item; an error wrapping archive.ErrBadInput
	// says the item was refused (report it with Bad and go on); any other
	// error ends the run.
	AddItem(ctx context.Context, it archive.Item, o archive.ItemOptions) error
	// Bad reports a bad record (a malformed page, an unreadable entry):
	// the capture goes on but can no longer be complete.
	Bad(e *archive.InputError)
	// Complete says the run listed the scope completely; call it only
	// when every page was read without error.
	Complete(s archive.Scope)
	// SetState records where the collector got to, for the next run.
	SetState(state json.RawMessage)
	// MediaSink stores downloaded media.
	MediaSink
}

// MediaSink stores media files.
type MediaSink interface {
	PutMediaFile(ctx context.Context, d *Download) error
}

// Collector speaks one platform's API.
type Collector interface {
	// Platform is the platform name accounts are registered under.
	Platform() string
	// Version changes when what the collector records changes.
	Version() string
	// Collect captures the account's posts and the comments and replies
	// on them into job.Sink. It returns an error (wrapping one of this
	// package's sentinels where one fits) when the run could not finish;
	// what it captured before stays, as an incomplete capture.
	Collect(ctx context.Context, job *Job) error
}

// Job is one run of a collector for one account.
type Job struct {
	Account archive.Account
	// Secret is the account's token, read from where Account.Credentials
	// says at run time. Never log it, never put it in an error or the store.
	Secret string
	// State is what the last successful run recorded (SetState); nil on
	// the first run.
	State json.RawMessage
	// Full asks for a complete listing (and Sink.Complete at its end);
	// otherwise the collector may stop where the last run got to.
	Full bool
	// Media: download media into the store.
	Media bool
	// HTTP reaches the platform.
	HTTP Fetcher
	Sink Sink
	Now  func() time.Time
	Log  *slog.Logger
}

// BaseURL is the account's base URL, or def.
func (j *Job) BaseURL(def string) string {
	if j.Account.BaseURL != "" {
		return j.Account.BaseURL
	}
	return def
}

// Importer reads an account export or saved API responses.
type Importer interface {
	// Format is the --format name.
	Format() string
	// Platform is the platform its items belong to.
	Platform() string
	// Sniff says whether src looks like this format, reading as little as
	// it can; import uses it to say what a file looks like when --format
	// is wrong.
	Sniff(src Source) bool
	// Import streams src into sink (a 1 GB export must not need 1 GB of
	// memory). Items go under account (its Platform and Handle).
	Import(ctx context.Context, src Source, account archive.Account, sink Sink) error
}

// Source is an import's input: a file, a directory, or a zip, seen as a
// file system. Path is the file within FS ("." for the root of a folder
// or zip). Name is what messages call it.
type Source struct {
	Name string
	FS   fs.FS
	Path string
}

// Errors collectors return, which the runner and coverage report name.
var (
	// ErrAuth: the token is missing, expired or refused.
	ErrAuth = errors.New("credentials refused or expired")
	// ErrRateLimited: the platform kept saying to slow down.
	ErrRateLimited = errors.New("rate limited")
	// ErrUnavailable: the platform failed (5xx, timeouts) past the retries.
	ErrUnavailable = errors.New("platform unavailable")
	// ErrMalformed: a response did not parse as the platform documents.
	ErrMalformed = errors.New("malformed response")
	// ErrForbiddenAddress: the SSRF guard refused an address.
	ErrForbiddenAddress = errors.New("address not allowed")
	// ErrTooLarge: a download exceeded its size limit.
	ErrTooLarge = errors.New("too large")
	// ErrContentType: a download's content type was not one accepted.
	ErrContentType = errors.New("content type not accepted")
	// ErrNotFound: the platform says there is no such object.
	ErrNotFound = errors.New("not found at the platform")
)
