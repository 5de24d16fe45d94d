// Package s3store is an archive.BlobStore on an S3-compatible object store
// (AWS S3, versitygw, MinIO, …), written with aws-sdk-go-v2.
//
// A store is named by a URL:
//
//	s3://BUCKET/PREFIX?endpoint=URL&region=R&path_style=true|false&profile=NAME&lock_mode=compliance|governance
//
// PREFIX (optional) is a key prefix inside the bucket; the store's keys are
// relative to it, and a store sees only the objects under its own prefix.
// endpoint is the service's base URL (omit it for AWS). path_style defaults
// to true when an endpoint is given and to false otherwise. region defaults
// to the one the AWS configuration names, else us-east-1. Credentials come
// only from the standard AWS chain (environment variables, shared config and
// credentials files, the profile named by profile=, instance roles); a URL
// that carries credentials is refused, and no error message prints one.
//
// What the store guarantees, beyond the archive.BlobStore contract:
//
//   - Open probes the bucket and fails with one line saying what is wrong:
//     the endpoint cannot be reached (archive.ErrUnavailable), the
//     credentials are refused (archive.ErrPermission), the bucket does not
//     exist (archive.ErrNotFound), or the URL is malformed.
//   - Put hashes the bytes locally and refuses a digest mismatch before
//     sending anything; it sends the SHA-256 as x-amz-checksum-sha256 and as
//     the signed payload hash, so the service checks the bytes again on
//     arrival and stores nothing if they differ (archive.ErrDigestMismatch).
//   - Put is create-only through a conditional write (If-None-Match: *),
//     decided by the service, so it holds between concurrent writers and
//     processes. S3 writes are atomic: an object is visible whole or not at
//     all, and durable once acknowledged, so Sync is a no-op.
//   - Delete on a bucket with versioning deletes every version of the key
//     by its version id (the content first, then any delete markers): a
//     DeleteObject without a version id would only add a delete marker,
//     hiding the object while its bytes stay, which is not destruction.
//   - The store is an archive.Locker (lock.go). On a bucket created with
//     Object Lock, PutLocked sends ObjectLockMode and
//     ObjectLockRetainUntilDate with the PutObject (versitygw, unlike AWS,
//     does not apply a bucket's default retention, so every locked write
//     says its date), ExtendRetention uses PutObjectRetention after reading
//     the current date (a shorter one is refused with
//     archive.ErrRetentionShortened), SetLegalHold uses PutObjectLegalHold,
//     and LockInfo reads GetObjectLockConfiguration. The mode is lock_mode=,
//     else the mode of the bucket's default retention rule, else
//     governance; lock_mode= on a bucket without Object Lock fails Open
//     (archive.ErrNoObjectLock). Dates are rounded up to the second, as S3
//     keeps them. A version the service refuses to delete because Object
//     Lock retains it gives archive.ErrRetained, naming the key and the
//     date or the legal hold. The store never sends
//     x-amz-bypass-governance-retention.
//   - SDK errors are translated at the edge into the archive's sentinel
//     errors (ErrNotFound, ErrPermission, ErrDigestMismatch, ErrUnavailable)
//     and wrapped with the operation and key; the SDK error stays in the
//     chain for errors.As.
package s3store
