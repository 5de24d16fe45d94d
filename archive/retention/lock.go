package retention

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/catalog"
	"github.com/osmarc/osmarc/archive/request"
)

// Object Lock. On a store whose bucket has Object Lock (an archive.Locker
// whose LockInfo says Enabled) records management is also enforced by the
// store itself, so that nobody — osmarc included — can destroy a record
// early by going round osmarc:
//
//   - Holds. Placing a hold records the hold.placed event, then sets the
//     legal-hold flag on every blob of every item in its scope (versions,
//     raw input, media). Releasing a hold first removes the flag from the
//     blobs of the items in its scope that no other active hold covers,
//     then records hold.released; a blob shared with an item another hold
//     covers keeps its flag. So osmarc's holds are the truth and the flags
//     follow them: a crash or error after placing leaves flags missing
//     (ApplyObjectLock adds them), a failed release leaves the hold in
//     place (release it again), and osmarc never leaves a flag behind that
//     no hold of its own explains.
//   - Retention. ApplyObjectLock (osmarc lock apply) gives every blob of
//     every record a retain-until date no earlier than the latest
//     disposition date of the items that use it, and sets the flag on the
//     blobs of held items captured since their hold was placed. Retention
//     is only extended: a schedule shortened later leaves the blobs locked
//     until the earlier, longer date. Permanent records and records whose
//     cutoff event has not happened have no date yet and get none.
//   - Disposition. Execute checks, before it writes anything, that the
//     store would let it delete every blob it is about to delete (its
//     retain-until date passed, no legal hold): the certificate of
//     destruction is written only when that holds, so no certificate
//     claims a destruction the store refuses. Only a lock set between that
//     check and the deletion (by someone else) can still stop a deletion;
//     then execute says which blob, and running it again finishes once the
//     lock has gone.
//
// Why a pass rather than a retain-until date on every write: the capture
// writer stores raw input and media before it sees the items they belong
// to, a blob is shared by items under different schedules, it is not
// written again when it is already stored, and an account's schedule can
// be set or lengthened after capture. A date at write time would cover
// only versions, and only the schedule known then; the pass covers every
// blob with the dates that hold now, and is run after capture (the daemon
// or cron) and before disposition.

// lockConcurrency bounds the store requests a lock pass has in flight.
const lockConcurrency = 16

// LockResult says what ApplyObjectLock did.
type LockResult struct {
	Mode archive.LockMode `json:"mode"`
	// Blobs is how many blobs archived items use; Locked how many of
	// them should be locked (a date to retain them to, or a hold).
	Blobs  int `json:"blobs"`
	Locked int `json:"locked"`
	// Extended had their retain-until date set or extended; HoldsSet got
	// the legal-hold flag; Missing are named by the catalog but absent
	// from the store.
	Extended int `json:"extended"`
	HoldsSet int `json:"legal_holds_set"`
	Missing  int `json:"missing"`
}

// ApplyObjectLock extends the retention of every blob of every record to
// its disposition date and sets the legal-hold flag on the blobs of held
// items. It is idempotent; it never shortens a retention nor removes a
// flag. On a store without Object Lock it returns an error wrapping
// archive.ErrNoObjectLock.
func (r *Records) ApplyObjectLock(ctx context.Context) (LockResult, error) {
	var res LockResult
	l, cfg, err := archive.LockerOf(ctx, r.a.Store())
	if err != nil {
		return res, err
	}
	if l == nil {
		return res, fmt.Errorf("store %s: %w: Object Lock needs an S3 bucket created with Object Lock enabled", r.a.Store().Location(), archive.ErrNoObjectLock)
	}
	res.Mode = cfg.Mode
	dateOf, err := r.dispositionDates(ctx)
	if err != nil {
		return res, err
	}
	hc, err := r.holdChecker()
	if err != nil {
		return res, err
	}
	now := r.now()
	dates := map[string]time.Time{}
	held := map[string]bool{}
	err = r.eachBatch(func(batch []catalog.Item) error {
		for i := range batch {
			d, ok, err := dateOf(&batch[i])
			if err != nil {
				return err
			}
			if ok && d.After(now) {
				dates[batch[i].Key] = d
			}
		}
		h, err := hc.held(ctx, batch)
		for k := range h {
			held[k] = true
		}
		return err
	})
	if err != nil {
		return res, err
	}
	type want struct {
		until time.Time
		hold  bool
	}
	blobs := map[string]*want{}
	err = r.a.Catalog().BlobRefs(func(key string, digests []string) error {
		d, h := dates[key], held[key]
		for _, dg := range digests {
			w := blobs[dg]
			if w == nil {
				w = &want{}
				blobs[dg] = w
			}
			if d.After(w.until) {
				w.until = d
			}
			w.hold = w.hold || h
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	res.Blobs = len(blobs)
	var todo []string
	for dg, w := range blobs {
		if !w.until.IsZero() || w.hold {
			todo = append(todo, dg)
		}
	}
	res.Locked = len(todo)
	var mu sync.Mutex
	err = eachBlob(ctx, todo, func(ctx context.Context, dg, key string) error {
		w := blobs[dg]
		st, err := l.LockState(ctx, key)
		if errors.Is(err, archive.ErrNotFound) {
			mu.Lock()
			res.Missing++
			mu.Unlock()
			return nil
		}
		if err != nil {
			return err
		}
		if w.until.After(st.RetainUntil) {
			if err := l.ExtendRetention(ctx, key, w.until); err != nil {
				return err
			}
			mu.Lock()
			res.Extended++
			mu.Unlock()
		}
		if w.hold && !st.LegalHold {
			if err := l.SetLegalHold(ctx, key, true); err != nil {
				return err
			}
			mu.Lock()
			res.HoldsSet++
			mu.Unlock()
		}
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("object lock: %w", err)
	}
	return res, nil
}

// dispositionDates returns a function giving an item's disposition date
// under its schedule, ok false when it has none (no schedule, permanent, a
// cutoff event that has not happened).
func (r *Records) dispositionDates(ctx context.Context) (func(*catalog.Item) (time.Time, bool, error), error) {
	sched, err := r.scheduleOf(ctx)
	if err != nil {
		return nil, err
	}
	all, err := r.Schedules()
	if err != nil {
		return nil, err
	}
	schedules := map[string]*Schedule{}
	for i := range all {
		schedules[all[i].ID] = &all[i]
	}
	accts, err := r.a.Accounts()
	if err != nil {
		return nil, err
	}
	deactivated := map[string]*time.Time{}
	for _, a := range accts {
		deactivated[a.Key] = a.DeactivatedAt
	}
	cuts, err := request.LoadCutoffs(r.a)
	if err != nil {
		return nil, err
	}
	return func(it *catalog.Item) (time.Time, bool, error) {
		id, _ := sched(it)
		s := schedules[id]
		if s == nil {
			return time.Time{}, false, nil
		}
		disp, err := s.Compute(it.CreatedAt, itemEvents(it.Key, deactivated[archive.AccountKey(it.Platform, it.Account)], cuts), r.Loc)
		if err != nil || disp.Permanent || disp.Pending != "" || disp.Date.IsZero() {
			return time.Time{}, false, err
		}
		return disp.Date, true, nil
	}, nil
}

// flagHold sets the legal-hold flag on the blobs of every item in h's
// scope. It is called after the hold is recorded.
func (r *Records) flagHold(ctx context.Context, h Hold) error {
	l, _, err := archive.LockerOf(ctx, r.a.Store())
	if err != nil || l == nil {
		return err
	}
	scope, err := r.heldKeys(ctx, []Hold{h})
	if err != nil {
		return err
	}
	digests, _, err := r.blobsOfKeys(scope, nil)
	if err != nil {
		return err
	}
	return eachBlob(ctx, digests, func(ctx context.Context, dg, key string) error {
		err := l.SetLegalHold(ctx, key, true)
		if errors.Is(err, archive.ErrNotFound) {
			return nil
		}
		return err
	})
}

// unflagHold removes the legal-hold flag from the blobs of the items in
// h's scope that no other active hold needs. It is called before the
// release is recorded.
func (r *Records) unflagHold(ctx context.Context, h Hold) error {
	l, _, err := archive.LockerOf(ctx, r.a.Store())
	if err != nil || l == nil {
		return err
	}
	hs, err := r.Holds()
	if err != nil {
		return err
	}
	var others []Hold
	for _, o := range hs {
		if o.Status == HoldActive && o.Name != h.Name {
			others = append(others, o)
		}
	}
	h.Status = HoldActive // its scope, as it was while in force
	scope, err := r.heldKeys(ctx, []Hold{h})
	if err != nil {
		return err
	}
	still, err := r.heldKeys(ctx, others)
	if err != nil {
		return err
	}
	digests, keep, err := r.blobsOfKeys(scope, still)
	if err != nil {
		return err
	}
	var free []string
	for _, dg := range digests {
		if !keep[dg] {
			free = append(free, dg)
		}
	}
	return eachBlob(ctx, free, func(ctx context.Context, dg, key string) error {
		err := l.SetLegalHold(ctx, key, false)
		if errors.Is(err, archive.ErrNotFound) {
			return nil
		}
		return err
	})
}

// heldKeys lists the archived items the holds cover.
func (r *Records) heldKeys(ctx context.Context, holds []Hold) (map[string]bool, error) {
	keys := map[string]bool{}
	if len(holds) == 0 {
		return keys, nil
	}
	hc := &holdChecker{r: r, holds: holds}
	err := r.eachBatch(func(batch []catalog.Item) error {
		m, err := hc.held(ctx, batch)
		for k := range m {
			keys[k] = true
		}
		return err
	})
	return keys, err
}

// blobsOfKeys returns, sorted, the blobs the items in keys use, and the set
// of blobs the items in also use.
func (r *Records) blobsOfKeys(keys, also map[string]bool) ([]string, map[string]bool, error) {
	mine, other := map[string]bool{}, map[string]bool{}
	err := r.a.Catalog().BlobRefs(func(key string, digests []string) error {
		for _, dg := range digests {
			if keys[key] {
				mine[dg] = true
			}
			if also[key] {
				other[dg] = true
			}
		}
		return nil
	})
	out := make([]string, 0, len(mine))
	for dg := range mine {
		out = append(out, dg)
	}
	sort.Strings(out)
	return out, other, err
}

// checkDeletable makes sure, before a certificate of destruction is
// written, that the store's Object Lock lets every blob the certificate
// deletes be deleted now. It errs with archive.ErrRetained, naming a blob,
// its item and its date or hold.
func (r *Records) checkDeletable(ctx context.Context, planID string, cert *archive.Certificate) error {
	l, _, err := archive.LockerOf(ctx, r.a.Store())
	if err != nil || l == nil {
		return err
	}
	digests := make([]string, 0, len(cert.BlobsDeleted))
	for _, b := range cert.BlobsDeleted {
		digests = append(digests, b.Digest)
	}
	var mu sync.Mutex
	locked := map[string]archive.ObjectLock{}
	err = eachBlob(ctx, digests, func(ctx context.Context, dg, key string) error {
		st, err := l.LockState(ctx, key)
		if errors.Is(err, archive.ErrNotFound) {
			return nil // gone already
		}
		if err != nil {
			return err
		}
		if st.Retained(cert.ExecutedAt) {
			mu.Lock()
			locked[dg] = st
			mu.Unlock()
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("plan %s: check the store's Object Lock before destroying: %w", planID, err)
	}
	if len(locked) == 0 {
		return nil
	}
	// Name one locked blob, the one that decides when the plan can run:
	// one under legal hold (no date will free it), else the latest date.
	var ds []string
	for dg := range locked {
		ds = append(ds, dg)
	}
	sort.Strings(ds)
	first := ds[0]
	for _, dg := range ds[1:] {
		a, b := locked[dg], locked[first]
		if a.LegalHold && !b.LegalHold || a.LegalHold == b.LegalHold && a.RetainUntil.After(b.RetainUntil) {
			first = dg
		}
	}
	items := map[string]bool{}
	for _, it := range cert.Items {
		items[it.Key] = true
	}
	item := ""
	r.a.Catalog().BlobRefs(func(key string, ds []string) error {
		for _, dg := range ds {
			if dg == first && items[key] && (item == "" || key < item) {
				item = key
			}
		}
		return nil
	})
	return fmt.Errorf("plan %s: %w: blob %s (of %s) is %s in the store, so it cannot be destroyed yet; %d blob(s) of the plan are locked; nothing was done",
		planID, archive.ErrRetained, first, item, locked[first], len(locked))
}

// eachBlob runs fn for each digest's blob key, a few at a time; the first
// error stops it.
func eachBlob(ctx context.Context, digests []string, fn func(ctx context.Context, digest, key string) error) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(lockConcurrency)
	for _, dg := range digests {
		d, err := archive.ParseDigest(dg)
		if err != nil {
			return err
		}
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error { return fn(gctx, dg, archive.BlobKey(d)) })
	}
	return g.Wait()
}
