package archive

import "errors"

// Errors callers test with errors.Is. Stores translate their own errors
// (syscall errors, SDK errors) into these at their edge, wrapping them so
// the message still says what happened.
var (
	// ErrNotFound: the object, item, capture or event does not exist.
	ErrNotFound = errors.New("not found")

	// ErrExists: a create-only write found the key already taken.
	ErrExists = errors.New("already exists")

	// ErrDigestMismatch: the bytes written or read do not hash to the
	// digest that was claimed for them.
	ErrDigestMismatch = errors.New("digest mismatch")

	// ErrInvalidKey: a store key that is not a clean relative path.
	ErrInvalidKey = errors.New("invalid store key")

	// ErrPermission: the store refused the credentials or the operation.
	ErrPermission = errors.New("permission denied")

	// ErrUnavailable: the store could not be reached.
	ErrUnavailable = errors.New("store unavailable")

	// ErrLocked: another process holds the data directory.
	ErrLocked = errors.New("data directory in use")

	// ErrNotInitialized: the data directory holds no archive yet.
	ErrNotInitialized = errors.New("no archive here")

	// ErrBadInput: an input record was malformed; the message says where.
	ErrBadInput = errors.New("bad input")

	// ErrDamaged: verify found damage in the store.
	ErrDamaged = errors.New("archive damaged")
)
