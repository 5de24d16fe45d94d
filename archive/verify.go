package archive

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/osmarc/osmarc/archive/journal"
)

// Problem is one piece of damage verify found.
type Problem struct {
	// Kind: "journal", "manifest", "missing-blob", "corrupt-blob".
	Kind string `json:"kind"`
	// Object is the store key of what is damaged.
	Object string `json:"object"`
	// Items are the keys of items the damage touches (at most MaxItems;
	// ItemCount says how many in all).
	Items     []string `json:"items,omitempty"`
	ItemCount int      `json:"item_count,omitempty"`
	Message   string   `json:"message"`
}

func (p Problem) String() string {
	s := p.Kind + ": " + p.Message
	if p.ItemCount > 0 {
		s += fmt.Sprintf(" (affects %d item(s): %s", p.ItemCount, joinMax(p.Items, 5))
		if p.ItemCount > len(p.Items) || len(p.Items) > 5 {
			s += ", …"
		}
		s += ")"
	}
	return s
}

func joinMax(s []string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ", "
		}
		out += x
	}
	return out
}

// MaxItems bounds how many affected item keys a Problem lists.
const MaxItems = 100

// Unreferenced is an object nothing names: what a crash between writing
// content and writing the manifest or event that names it leaves behind.
// It is not damage.
type Unreferenced struct {
	Key  string `json:"key"`
	Size int64  `json:"size"`
}

// VerifyReport is what verify found.
type VerifyReport struct {
	OK           bool           `json:"ok"`
	Problems     []Problem      `json:"problems"`
	Unreferenced []Unreferenced `json:"unreferenced"`
	Events       uint64         `json:"events"`
	JournalHead  string         `json:"journal_head"`
	Captures     int            `json:"captures"`
	Items        int64          `json:"item_lines"`
	Blobs        int            `json:"blobs"`
	Bytes        int64          `json:"bytes"`
	Deep         bool           `json:"deep"`
	// Destroyed counts the items certificates of destruction record.
	Destroyed   int `json:"destroyed"`
	BlobsHashed int `json:"blobs_hashed,omitempty"`
}

// VerifyOptions tunes Verify.
type VerifyOptions struct {
	// Concurrency bounds the blobs read at once in a deep check.
	Concurrency int
	// Deep re-reads and re-hashes every blob.
	Deep bool
	// OnProgress is told what is being checked.
	OnProgress func(stage string, done, total int)
}

type blobState struct {
	size       int64
	referenced bool
}

// Verify checks the store: the journal's hash chain from its first event;
// that every capture event's manifest exists, is whole and has the digest
// the event recorded; that every blob a manifest names exists (and, deep,
// hashes to its name). It reads the store, not the catalog, except to
// compare the journal's end with what the catalog last applied, which
// catches the removal or change of the newest events. It returns an error
// only when it could not check; damage goes in the report.
func (a *Archive) Verify(ctx context.Context, opt VerifyOptions) (*VerifyReport, error) {
	h, err := a.cat.Head()
	if err != nil {
		return nil, err
	}
	if opt.Concurrency == 0 {
		opt.Concurrency = a.opts.Concurrency
	}
	return VerifyStore(ctx, a.store, &journal.Head{Seq: h.Seq, Hash: h.Hash}, opt)
}

// VerifyStore checks a store on its own. witness, when known, is the
// journal head a catalog last applied.
func VerifyStore(ctx context.Context, store BlobStore, witness *journal.Head, opt VerifyOptions) (*VerifyReport, error) {
	a := &verifier{store: store, concurrency: max(opt.Concurrency, 4)}
	rep := &VerifyReport{Deep: opt.Deep}
	progress := func(stage string, done, total int) {
		if opt.OnProgress != nil {
			opt.OnProgress(stage, done, total)
		}
	}
	problem := func(p Problem) { rep.Problems = append(rep.Problems, p) }

	// 1. What blobs and manifests exist.
	blobs := map[Digest]*blobState{}
	manifests := map[string]int64{}
	err := a.store.List(ctx, "", "", func(oi ObjectInfo) error {
		switch {
		case IsBlobKey(oi.Key):
			d, err := ParseBlobKey(oi.Key)
			if err != nil {
				// Not a name osmarc writes: reported with what nothing names.
				rep.Unreferenced = append(rep.Unreferenced, Unreferenced{Key: oi.Key, Size: oi.Size})
				return nil
			}
			blobs[d] = &blobState{size: oi.Size}
			rep.Blobs++
			rep.Bytes += oi.Size
			if rep.Blobs%10000 == 0 {
				progress("listing", rep.Blobs, 0)
			}
		case len(oi.Key) > len(CapturePrefix) && oi.Key[:len(CapturePrefix)] == CapturePrefix:
			manifests[oi.Key] = oi.Size
		case len(oi.Key) > len(journal.Prefix) && oi.Key[:len(journal.Prefix)] == journal.Prefix:
		default:
			// Outside the archive's layout (another tool sharing the
			// bucket prefix?): not part of the archive, so not damage.
			rep.Unreferenced = append(rep.Unreferenced, Unreferenced{Key: oi.Key, Size: oi.Size})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("verify: list store: %w", err)
	}

	// 2. The journal, and each capture it records.
	missing := map[Digest]*Problem{}
	refer := func(d Digest, item, manifest string) {
		if st, ok := blobs[d]; ok {
			st.referenced = true
			return
		}
		p, ok := missing[d]
		if !ok {
			p = &Problem{Kind: "missing-blob", Object: BlobKey(d), Message: fmt.Sprintf("blob %s named by %s is missing", d, manifest)}
			missing[d] = p
		}
		if item != "" {
			p.ItemCount++
			if len(p.Items) < MaxItems {
				p.Items = append(p.Items, item)
			}
		}
	}
	destroyed := map[Digest]string{} // blobs certificates say were destroyed, by plan
	v := journal.NewVerifier()
	chainBroken := false
	recorded := map[string]bool{}
	err = a.store.List(ctx, journal.Prefix, "", func(oi ObjectInfo) error {
		b, err := ReadAll(ctx, a.store, oi.Key)
		if err != nil {
			return err
		}
		rep.Events++
		ev, cerr := v.Check(oi.Key, b)
		if cerr != nil {
			if !chainBroken {
				chainBroken = true
				problem(Problem{Kind: "journal", Object: oi.Key, Message: cerr.Error()})
			}
			// Keep reading what can be read, to check the blobs it names.
			if ev, err = journal.Decode(b); err != nil {
				return nil
			}
		}
		if ev.Type == EventDispositionExecuted {
			var d dispositionEventData
			json.Unmarshal(ev.Data, &d)
			cert, err := readCertificate(ctx, a.store, d.Certificate)
			if err != nil {
				problem(Problem{Kind: "certificate", Object: oi.Key, Message: fmt.Sprintf("event %d: %v", ev.Seq, err)})
				return nil
			}
			if dg, err := ParseDigest(d.Certificate); err == nil {
				refer(dg, "", oi.Key)
			}
			for _, b := range cert.BlobsDeleted {
				if dg, err := ParseDigest(b.Digest); err == nil {
					destroyed[dg] = cert.Plan
				}
			}
			rep.Destroyed += len(cert.Items)
			return nil
		}
		if ev.Type != journal.TypeCapture {
			return nil
		}
		var d captureEventData
		if err := json.Unmarshal(ev.Data, &d); err != nil {
			problem(Problem{Kind: "journal", Object: oi.Key, Message: fmt.Sprintf("event %d: capture data does not parse: %v", ev.Seq, err)})
			return nil
		}
		recorded[d.Manifest] = true
		rep.Captures++
		progress("captures", rep.Captures, 0)
		return a.verifyManifest(ctx, ev.Seq, d, manifests, refer, problem, rep)
	})
	if err != nil {
		return nil, fmt.Errorf("verify: journal: %w", err)
	}
	head := v.Head()
	rep.JournalHead = head.Hash
	// The catalog witnesses how far the journal went when it last applied
	// it: fewer events now, or a different newest one, is damage.
	if ch := witness; ch != nil && !chainBroken {
		switch {
		case ch.Seq > head.Seq:
			problem(Problem{Kind: "journal", Object: journal.Key(head.Seq + 1), Message: fmt.Sprintf("journal ends at event %d but the catalog applied events up to %d: event %d was removed", head.Seq, ch.Seq, head.Seq+1)})
		case ch.Seq == head.Seq && ch.Hash != head.Hash:
			problem(Problem{Kind: "journal", Object: journal.Key(head.Seq), Message: fmt.Sprintf("event %d differs from the one the catalog applied: event %d was changed", head.Seq, head.Seq)})
		}
	}
	var missingKeys []Digest
	for d := range missing {
		if _, ok := destroyed[d]; ok {
			continue // lawfully destroyed, with its certificate
		}
		missingKeys = append(missingKeys, d)
	}
	var lingering []string
	for d, plan := range destroyed {
		if st, ok := blobs[d]; ok {
			st.referenced = true
			lingering = append(lingering, fmt.Sprintf("%s (plan %s)", d, plan))
		}
	}
	sort.Strings(lingering)
	if len(lingering) > 0 {
		problem(Problem{Kind: "destruction-incomplete", Object: BlobKey(mustDigest(lingering[0][:64])),
			Message: fmt.Sprintf("%d blob(s) a certificate of destruction lists are still in the store, first %s: run osmarc disposition execute again to finish", len(lingering), lingering[0])})
	}
	sort.Slice(missingKeys, func(i, j int) bool { return missingKeys[i].String() < missingKeys[j].String() })
	for _, d := range missingKeys {
		problem(*missing[d])
	}

	// 3. Deep: every blob re-read and re-hashed.
	if opt.Deep {
		corrupt, err := a.hashAll(ctx, blobs, rep, progress)
		if err != nil {
			return nil, err
		}
		if len(corrupt) > 0 {
			affected, err := a.itemsNaming(ctx, corrupt)
			if err != nil {
				return nil, err
			}
			var ds []Digest
			for d := range corrupt {
				ds = append(ds, d)
			}
			sort.Slice(ds, func(i, j int) bool { return ds[i].String() < ds[j].String() })
			for _, d := range ds {
				msg := corrupt[d]
				p := Problem{Kind: "corrupt-blob", Object: BlobKey(d), Message: msg}
				if ks := affected[d]; len(ks) > 0 {
					p.ItemCount = len(ks)
					p.Items = ks[:min(len(ks), MaxItems)]
				}
				problem(p)
			}
		}
	}

	// 4. What nothing names.
	for d, st := range blobs {
		if !st.referenced {
			rep.Unreferenced = append(rep.Unreferenced, Unreferenced{Key: BlobKey(d), Size: st.size})
		}
	}
	for k, size := range manifests {
		if !recorded[k] {
			rep.Unreferenced = append(rep.Unreferenced, Unreferenced{Key: k, Size: size})
		}
	}
	sort.Slice(rep.Unreferenced, func(i, j int) bool { return rep.Unreferenced[i].Key < rep.Unreferenced[j].Key })
	sort.SliceStable(rep.Problems, func(i, j int) bool {
		return kindOrder(rep.Problems[i].Kind) < kindOrder(rep.Problems[j].Kind)
	})
	if rep.Problems == nil {
		rep.Problems = []Problem{}
	}
	if rep.Unreferenced == nil {
		rep.Unreferenced = []Unreferenced{}
	}
	rep.OK = len(rep.Problems) == 0
	return rep, nil
}

func kindOrder(k string) int {
	switch k {
	case "journal":
		return 0
	case "manifest":
		return 1
	case "missing-blob":
		return 2
	case "corrupt-blob":
		return 3
	case "certificate", "destruction-incomplete":
		return 4
	}
	return 4
}

type verifier struct {
	store       BlobStore
	concurrency int
}

func (a *verifier) verifyManifest(ctx context.Context, seq uint64, d captureEventData, manifests map[string]int64,
	refer func(Digest, string, string), problem func(Problem), rep *VerifyReport) error {
	if _, ok := manifests[d.Manifest]; !ok {
		problem(Problem{Kind: "manifest", Object: d.Manifest, Message: fmt.Sprintf("manifest of capture %s (event %d) is missing; its items cannot be rebuilt", d.Capture, seq)})
		return nil
	}
	rc, err := a.store.Open(ctx, d.Manifest)
	if err != nil {
		return err
	}
	defer rc.Close()
	hr := newHashingReader(rc)
	var items []string
	for ml, err := range ReadManifest(hr, d.Manifest) {
		if err != nil {
			var me *ManifestError
			if !errors.As(err, &me) {
				return err
			}
			problem(Problem{Kind: "manifest", Object: d.Manifest, Items: items[:min(len(items), MaxItems)], ItemCount: len(items),
				Message: fmt.Sprintf("manifest of capture %s (event %d), line %d: %s", d.Capture, seq, me.Line, me.Msg)})
			return nil
		}
		switch {
		case ml.Blob != nil:
			refer(ml.Blob.Digest, "", d.Manifest)
		case ml.Item != nil:
			rep.Items++
			refer(ml.Item.Version, ml.Item.Key, d.Manifest)
			if ml.Item.Raw != nil {
				refer(*ml.Item.Raw, ml.Item.Key, d.Manifest)
			}
			for _, m := range ml.Item.Media {
				refer(m, ml.Item.Key, d.Manifest)
			}
			if len(items) < MaxItems {
				items = append(items, ml.Item.Key)
			}
		}
	}
	io.Copy(io.Discard, hr)
	if got := hr.Sum(); got != d.SHA256 {
		problem(Problem{Kind: "manifest", Object: d.Manifest, Items: items, ItemCount: len(items),
			Message: fmt.Sprintf("manifest of capture %s hashes to %s but event %d recorded %s: it was altered", d.Capture, got, seq, d.SHA256)})
	}
	return nil
}

// hashAll re-reads every blob and returns those whose content does not
// hash to their name.
func (a *verifier) hashAll(ctx context.Context, blobs map[Digest]*blobState, rep *VerifyReport, progress func(string, int, int)) (map[Digest]string, error) {
	corrupt := map[Digest]string{}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(min(a.concurrency, 32))
	total := len(blobs)
	done := 0
	for d := range blobs {
		g.Go(func() error {
			rc, err := a.store.Open(gctx, BlobKey(d))
			var msg string
			if err != nil {
				if !errors.Is(err, ErrNotFound) {
					return err
				}
				msg = fmt.Sprintf("blob %s vanished while it was checked", d)
			} else {
				h := sha256.New()
				_, err = io.Copy(h, rc)
				rc.Close()
				if err != nil {
					return fmt.Errorf("read blob %s: %w", d, err)
				}
				if got := Digest(h.Sum(nil)); got != d {
					msg = fmt.Sprintf("blob %s is corrupt: its content hashes to %s", d, got)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if msg != "" {
				corrupt[d] = msg
			}
			done++
			rep.BlobsHashed++
			if done%5000 == 0 {
				progress("hashing", done, total)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	return corrupt, nil
}

// itemsNaming finds, for each digest, the items whose manifest lines name it.
func (a *verifier) itemsNaming(ctx context.Context, ds map[Digest]string) (map[Digest][]string, error) {
	out := map[Digest][]string{}
	seen := map[string]bool{}
	add := func(d Digest, key string) {
		if _, ok := ds[d]; ok && !seen[d.String()+key] {
			seen[d.String()+key] = true
			out[d] = append(out[d], key)
		}
	}
	err := a.store.List(ctx, CapturePrefix, "", func(oi ObjectInfo) error {
		rc, err := a.store.Open(ctx, oi.Key)
		if err != nil {
			return err
		}
		defer rc.Close()
		for ml, err := range ReadManifest(rc, oi.Key) {
			if err != nil {
				break
			}
			if it := ml.Item; it != nil {
				add(it.Version, it.Key)
				if it.Raw != nil {
					add(*it.Raw, it.Key)
				}
				for _, m := range it.Media {
					add(m, it.Key)
				}
			}
		}
		return nil
	})
	return out, err
}

func mustDigest(s string) Digest {
	d, _ := ParseDigest(s)
	return d
}
