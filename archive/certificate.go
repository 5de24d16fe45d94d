package archive

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/osmarc/osmarc/archive/catalog"
	"github.com/osmarc/osmarc/archive/journal"
)

// EventDispositionExecuted is the journal event of a disposition carried
// out. Its data names the certificate of destruction, a blob that is kept
// for ever: what was destroyed, under what authority, approved by whom.
const EventDispositionExecuted = "disposition.executed"

// CertificateFormat names the version of the certificate format.
const CertificateFormat = "osmarc-certificate/1"

// Certificate is a certificate of destruction.
type Certificate struct {
	Format      string          `json:"format"`
	Plan        string          `json:"plan"`
	PlanDigest  string          `json:"plan_digest"`
	Action      string          `json:"action"`
	AsOf        time.Time       `json:"as_of"`
	PlannedAt   time.Time       `json:"planned_at"`
	PlannedBy   string          `json:"planned_by"`
	Approvals   []CertApproval  `json:"approvals"`
	ExecutedAt  time.Time       `json:"executed_at"`
	ExecutedBy  string          `json:"executed_by"`
	JournalHead string          `json:"journal_head"`
	Schedules   json.RawMessage `json:"schedules"`
	Items       []CertItem      `json:"items"`
	// BlobsDeleted are the blobs whose last reference went with the items.
	BlobsDeleted []CertBlob `json:"blobs_deleted"`
	// BlobsKept are blobs the items used that kept items use too (a raw
	// page or input chunk holding several items): they stay, and with them
	// the raw input of the destroyed items they hold.
	BlobsKept []CertBlob `json:"blobs_kept"`
}

// CertApproval is one approval of the plan.
type CertApproval struct {
	By string    `json:"by"`
	At time.Time `json:"at"`
}

// CertItem is one destroyed item.
type CertItem struct {
	Key             string    `json:"key"`
	CreatedAt       time.Time `json:"created_at"`
	Schedule        string    `json:"schedule"`
	DispositionDate time.Time `json:"disposition_date"`
	Versions        []string  `json:"versions"`
}

// CertBlob is a blob and its size.
type CertBlob struct {
	Digest string `json:"digest"`
	Size   int64  `json:"size"`
}

// dispositionEventData is what the event records.
type dispositionEventData struct {
	Certificate string `json:"certificate"`
	Items       int    `json:"items"`
}

// RecordDestruction writes the certificate as a blob, then the journal
// event naming it, then applies it to the catalog: the items leave it (a
// residual entry stays for each) and so do the deleted blobs' entries. The
// caller deletes the blobs from the store afterwards (DeleteDestroyed), so
// a crash leaves, at worst, blobs the certificate says are gone and that a
// second run deletes; never a deletion without its certificate.
func (a *Archive) RecordDestruction(ctx context.Context, cert *Certificate, plan any) (Digest, error) {
	cert.Format = CertificateFormat
	h, err := a.cat.Head()
	if err != nil {
		return Digest{}, err
	}
	cert.JournalHead = h.Hash
	b, err := json.Marshal(cert)
	if err != nil {
		return Digest{}, err
	}
	d := Sum(b)
	if err := PutBytes(ctx, a.store, BlobKey(d), b); err != nil {
		return d, fmt.Errorf("write certificate: %w", err)
	}
	if err := a.store.Sync(ctx); err != nil {
		return d, err
	}
	ev, eb, err := a.writeEvent(ctx, EventDispositionExecuted, map[string]any{"plan": plan, "certificate": d.String(), "items": len(cert.Items)})
	if err != nil {
		return d, err
	}
	return d, a.applyStored(ctx, ev, eb, nil, nil)
}

// applyDestruction applies a disposition event: it reads its certificate.
func (a *Archive) applyDestruction(ctx context.Context, ev journal.Event, cev catalog.Event) error {
	var d dispositionEventData
	if err := json.Unmarshal(ev.Data, &d); err != nil {
		return fmt.Errorf("event %d: %w", ev.Seq, err)
	}
	cert, err := a.ReadCertificate(ctx, d.Certificate)
	if err != nil {
		return fmt.Errorf("event %d: %w", ev.Seq, err)
	}
	dest := catalog.Destruction{Certificate: d.Certificate, At: cert.ExecutedAt, Items: map[string]string{}}
	for _, it := range cert.Items {
		dest.Items[it.Key] = it.Schedule
	}
	for _, b := range cert.BlobsDeleted {
		dest.Blobs = append(dest.Blobs, b.Digest)
	}
	return a.cat.Destroy(cev, dest)
}

// ReadCertificate reads a certificate of destruction from the store.
func (a *Archive) ReadCertificate(ctx context.Context, digest string) (*Certificate, error) {
	return readCertificate(ctx, a.store, digest)
}

func readCertificate(ctx context.Context, s BlobStore, digest string) (*Certificate, error) {
	dg, err := ParseDigest(digest)
	if err != nil {
		return nil, fmt.Errorf("certificate: %w", err)
	}
	b, err := ReadBlob(ctx, s, dg)
	if err != nil {
		return nil, fmt.Errorf("certificate %s: %w", digest, err)
	}
	var c Certificate
	if err := json.Unmarshal(b, &c); err != nil || c.Format != CertificateFormat {
		return nil, fmt.Errorf("certificate %s: not a certificate of destruction", digest)
	}
	return &c, nil
}

// DeleteDestroyed deletes from the store the blobs a certificate says were
// destroyed. Only disposition calls it; deleting what is already gone is
// not an error, so a second run finishes an interrupted one.
func (a *Archive) DeleteDestroyed(ctx context.Context, cert *Certificate) (int, error) {
	n := 0
	for _, b := range cert.BlobsDeleted {
		d, err := ParseDigest(b.Digest)
		if err != nil {
			return n, err
		}
		if err := a.store.Delete(ctx, BlobKey(d)); err != nil {
			return n, fmt.Errorf("delete blob %s: %w", d, err)
		}
		n++
	}
	return n, a.store.Sync(ctx)
}
