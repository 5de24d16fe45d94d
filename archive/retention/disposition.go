package retention

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/catalog"
	"github.com/osmarc/osmarc/archive/request"
)

// Journal event types of disposition.
const (
	EventPlanned  = "disposition.planned"
	EventApproved = "disposition.approved"
	EventExecuted = archive.EventDispositionExecuted
)

// Plan statuses.
const (
	PlanPlanned  = "planned"
	PlanApproved = "approved"
	PlanExecuted = "executed"
)

// Plan is a disposition plan: what is eligible at AsOf and not held,
// grouped by schedule and action. Its items are a blob in the store
// (Content), so the plan cannot change after it is approved: execution
// checks the digest.
type Plan struct {
	ID        string    `json:"id"`
	AsOf      time.Time `json:"as_of"`
	Schedule  string    `json:"schedule,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by"`
	Items     int       `json:"items"`
	Held      int       `json:"held"`
	// Requested counts the eligible items kept because an open-records
	// request still open holds them.
	Requested int     `json:"requested,omitempty"`
	Groups    []Group `json:"groups"`
	Content   string  `json:"content"`
	Status    string  `json:"status"`
	// Required is how many distinct people must approve.
	Required   int            `json:"required"`
	Approvals  []Approval     `json:"approvals,omitempty"`
	ExecutedAt *time.Time     `json:"executed_at,omitempty"`
	Result     *PlanExecution `json:"result,omitempty"`
}

// Group counts a plan's items under one schedule.
type Group struct {
	Schedule  string `json:"schedule"`
	Authority string `json:"authority"`
	Action    string `json:"action"`
	Items     int    `json:"items"`
}

// Approval is one person's approval.
type Approval struct {
	By string    `json:"by"`
	At time.Time `json:"at"`
}

// PlanExecution is what executing a plan did.
type PlanExecution struct {
	Certificate  string   `json:"certificate,omitempty"`
	Destroyed    int      `json:"destroyed"`
	BlobsDeleted int      `json:"blobs_deleted"`
	BlobsKept    int      `json:"blobs_kept"`
	Transfer     []string `json:"transfer,omitempty"`
	Review       []string `json:"review,omitempty"`
	// Package is what was written for the receiving archive of the
	// transferred items.
	Package *TransferPackage `json:"package,omitempty"`
}

// TransferPackage is the package a transfer wrote for the receiving
// archive.
type TransferPackage struct {
	Format string `json:"format"` // bagit
	Dir    string `json:"dir"`
	Items  int    `json:"items"`
	Files  int    `json:"files"`
	Bytes  int64  `json:"bytes"`
	// TagManifestSHA256 identifies the whole bag.
	TagManifestSHA256 string `json:"tagmanifest_sha256"`
}

// TransferItem is one item a transfer hands over.
type TransferItem struct {
	Key             string    `json:"key"`
	CreatedAt       time.Time `json:"created_at"`
	Schedule        Schedule  `json:"schedule"`
	DispositionDate time.Time `json:"disposition_date"`
	Versions        []string  `json:"versions"`
	// Class and Exemptions are the item's classification.
	Class      string   `json:"class"`
	Exemptions []string `json:"exemptions,omitempty"`
}

// Transferer writes the package of a plan's transfer items for the
// receiving archive (the command line writes a BagIt bag). It must write
// nothing it cannot finish: on error, no package.
type Transferer func(ctx context.Context, p Plan, items []TransferItem) (*TransferPackage, error)

// planLine is one item of a plan's content.
type planLine struct {
	Key      string    `json:"key"`
	Created  time.Time `json:"created_at"`
	Schedule string    `json:"schedule"`
	Action   string    `json:"action"`
	Date     time.Time `json:"disposition_date"`
	Versions []string  `json:"versions"`
}

// Approvers is how many distinct approvals a plan needs: Default, or
// Transfer when it transfers records.
type Approvers struct {
	Default  int
	Transfer int
}

// DefaultApprovers: one person, two for a transfer of permanent records.
var DefaultApprovers = Approvers{Default: 1, Transfer: 2}

// ErrPlanChanged: the plan no longer matches what is eligible, or its
// content is not what was approved.
var ErrPlanChanged = errors.New("plan no longer matches")

// Plan lists what is eligible at asOf (past its disposition date, under no
// hold), for one schedule or all, and records the plan.
func (r *Records) Plan(ctx context.Context, asOf time.Time, scheduleID string, approvers Approvers, actor string) (Plan, error) {
	if scheduleID != "" {
		if _, err := r.Schedule(scheduleID); err != nil {
			return Plan{}, err
		}
	}
	lines, kept, err := r.eligible(ctx, asOf, scheduleID)
	if err != nil {
		return Plan{}, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	groups := map[string]*Group{}
	for _, l := range lines {
		enc.Encode(l)
		g := groups[l.Schedule]
		if g == nil {
			s, _ := r.Schedule(l.Schedule)
			g = &Group{Schedule: l.Schedule, Authority: s.Authority, Action: l.Action}
			groups[l.Schedule] = g
		}
		g.Items++
	}
	content := buf.Bytes()
	d := archive.Sum(content)
	if err := archive.PutBytes(ctx, r.a.Store(), archive.BlobKey(d), content); err != nil {
		return Plan{}, fmt.Errorf("write plan: %w", err)
	}
	if err := r.a.Store().Sync(ctx); err != nil {
		return Plan{}, err
	}
	now := r.now()
	p := Plan{ID: planID(now, d), AsOf: asOf.UTC(), Schedule: scheduleID, CreatedAt: now, CreatedBy: actor, Items: len(lines), Held: kept.held, Requested: kept.requested,
		Content: d.String(), Status: PlanPlanned, Required: max(approvers.Default, 1)}
	for _, g := range groups {
		p.Groups = append(p.Groups, *g)
		if g.Action == ActionTransfer {
			p.Required = max(p.Required, approvers.Transfer)
		}
	}
	sort.Slice(p.Groups, func(i, j int) bool { return p.Groups[i].Schedule < p.Groups[j].Schedule })
	_, err = r.a.RecordEvent(ctx, EventPlanned, map[string]any{"plan": p})
	return p, err
}

func planID(at time.Time, d archive.Digest) string {
	return "DP-" + at.Format("20060102-150405") + "-" + d.String()[:8]
}

// eligible lists the items eligible at asOf, and counts those a hold keeps.
// It reads the catalog in one pass, decoding only the fields it needs, on
// as many cores as there are (a plan over a million items is a pass over a
// million records).
func (r *Records) eligible(ctx context.Context, asOf time.Time, scheduleID string) ([]planLine, keptCounts, error) {
	hc, err := r.holdChecker()
	if err != nil {
		return nil, keptCounts{}, err
	}
	schedules := map[string]*Schedule{}
	all, err := r.Schedules()
	if err != nil {
		return nil, keptCounts{}, err
	}
	for i := range all {
		schedules[all[i].ID] = &all[i]
	}
	accts, err := r.a.Accounts()
	if err != nil {
		return nil, keptCounts{}, err
	}
	// What each account's items are kept under, by the item's raw
	// platform and account (no key escaping per item).
	type acctInfo struct {
		sched       *Schedule
		deactivated *time.Time
	}
	byAcct := map[[2]string]acctInfo{}
	for _, a := range accts {
		byAcct[[2]string{a.Platform, a.Handle}] = acctInfo{schedules[a.Schedule], a.DeactivatedAt}
	}
	// A person's classification or a rule may put an item under another
	// schedule than its account's.
	cl, err := r.Classifier(ctx)
	if err != nil {
		return nil, keptCounts{}, err
	}
	// Items an executed plan transferred are not planned again.
	transferred, err := r.transferred()
	if err != nil {
		return nil, keptCounts{}, err
	}
	// Open-records requests: an item a request still open holds is kept;
	// a request's closing is the request-closed cutoff event.
	cuts, err := request.LoadCutoffs(r.a)
	if err != nil {
		return nil, keptCounts{}, err
	}
	scheduleFor := func(key string, info acctInfo) *Schedule {
		if a := cl.Of(key); a.Schedule != "" {
			return schedules[a.Schedule]
		}
		return info.sched
	}
	type batch struct {
		keys, vals [][]byte
	}
	type result struct {
		lines []planLine
		held  int
		reqd  int
		err   error
	}
	work := make(chan batch, 4)
	results := make(chan result, 4)
	var wg sync.WaitGroup
	for range max(1, runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				var res result
				var cand []catalog.Item
				var lines []planLine
				for i, v := range b.vals {
					var it catalog.ItemHead
					if err := catalog.DecodeItemHead(b.keys[i], v, &it); err != nil {
						res.err = err
						break
					}
					info := byAcct[[2]string{it.Platform, it.Account}]
					sched := scheduleFor(it.Key, info)
					if sched == nil || (scheduleID != "" && sched.ID != scheduleID) {
						continue
					}
					disp, err := sched.Compute(it.CreatedAt, itemEvents(it.Key, info.deactivated, cuts), r.Loc)
					if err != nil {
						res.err = err
						break
					}
					if !disp.Eligible(asOf) || transferred[it.Key] {
						continue
					}
					if len(cuts.Open(it.Key)) > 0 {
						res.reqd++
						continue
					}
					var full catalog.Item
					if err := catalog.DecodeItem(b.keys[i], v, &full); err != nil {
						res.err = err
						break
					}
					l := planLine{Key: full.Key, Created: full.CreatedAt, Schedule: sched.ID, Action: sched.Action, Date: disp.Date}
					for _, ver := range full.Versions {
						l.Versions = append(l.Versions, ver.Digest)
					}
					cand = append(cand, full)
					lines = append(lines, l)
				}
				if res.err == nil {
					h, err := hc.held(ctx, cand)
					res.err = err
					for _, l := range lines {
						if len(h[l.Key]) > 0 {
							res.held++
						} else {
							res.lines = append(res.lines, l)
						}
					}
				}
				results <- res
			}
		}()
	}
	var out []planLine
	held, reqd := 0, 0
	var firstErr error
	collected := make(chan struct{})
	go func() {
		for res := range results {
			if res.err != nil && firstErr == nil {
				firstErr = res.err
			}
			out = append(out, res.lines...)
			held += res.held
			reqd += res.reqd
		}
		close(collected)
	}()
	var cur batch
	scanErr := r.a.Catalog().ScanItems(func(k, v []byte) error {
		cur.keys = append(cur.keys, append([]byte(nil), k...))
		cur.vals = append(cur.vals, append([]byte(nil), v...))
		if len(cur.vals) == 1000 {
			work <- cur
			cur = batch{}
		}
		return ctx.Err()
	})
	if len(cur.vals) > 0 {
		work <- cur
	}
	close(work)
	wg.Wait()
	close(results)
	<-collected
	if scanErr != nil {
		return nil, keptCounts{}, scanErr
	}
	if firstErr != nil {
		return nil, keptCounts{}, firstErr
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, keptCounts{held, reqd}, nil
}

// transferred is the set of items executed plans transferred.
func (r *Records) transferred() (map[string]bool, error) {
	out := map[string]bool{}
	ps, err := r.Plans()
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		if p.Status == PlanExecuted && p.Result != nil {
			for _, k := range p.Result.Transfer {
				out[k] = true
			}
		}
	}
	return out, nil
}

// Transferred says whether an executed plan transferred an item, and
// which.
func (r *Records) Transferred(key string) (Plan, bool, error) {
	ps, err := r.Plans()
	if err != nil {
		return Plan{}, false, err
	}
	for _, p := range ps {
		if p.Status == PlanExecuted && p.Result != nil && slices.Contains(p.Result.Transfer, key) {
			return p, true, nil
		}
	}
	return Plan{}, false, nil
}

// keptCounts are the eligible items a plan leaves out: under a hold, or in
// an open request.
type keptCounts struct{ held, requested int }

// PlanByID returns a recorded plan.
func (r *Records) PlanByID(id string) (Plan, error) {
	var p Plan
	b, err := r.a.Catalog().State("plans", id)
	if errors.Is(err, catalog.ErrNotFound) {
		return p, fmt.Errorf("disposition plan %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return p, err
	}
	return p, json.Unmarshal(b, &p)
}

// Plans lists recorded plans.
func (r *Records) Plans() ([]Plan, error) {
	var out []Plan
	for b, err := range r.a.Catalog().States("plans") {
		if err != nil {
			return nil, err
		}
		var p Plan
		if err := json.Unmarshal(b, &p); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// Approve records by's approval of a plan. The same person cannot approve
// twice, and the person who planned it cannot approve it alone when more
// than one approval is required.
func (r *Records) Approve(ctx context.Context, id, by string) (Plan, error) {
	p, err := r.PlanByID(id)
	if err != nil {
		return p, err
	}
	by = strings.TrimSpace(by)
	switch {
	case by == "":
		return p, fmt.Errorf("plan %s: --by names who approves", id)
	case p.Status == PlanExecuted:
		return p, fmt.Errorf("plan %s was already executed", id)
	case strings.EqualFold(by, p.CreatedBy):
		return p, fmt.Errorf("plan %s: %s made the plan and cannot approve it; approval must come from a second person", id, by)
	}
	for _, a := range p.Approvals {
		if strings.EqualFold(a.By, by) {
			return p, fmt.Errorf("plan %s: %s has already approved it; a second approval must come from someone else", id, by)
		}
	}
	if _, err := r.planContent(ctx, p); err != nil {
		return p, err
	}
	p.Approvals = append(p.Approvals, Approval{By: by, At: r.now()})
	if len(p.Approvals) >= p.Required {
		p.Status = PlanApproved
	}
	_, err = r.a.RecordEvent(ctx, EventApproved, map[string]any{"plan": p, "by": by})
	return p, err
}

// planContent reads a plan's items and checks they are what was planned.
func (r *Records) planContent(ctx context.Context, p Plan) ([]planLine, error) {
	d, err := archive.ParseDigest(p.Content)
	if err != nil {
		return nil, err
	}
	b, err := archive.ReadBlob(ctx, r.a.Store(), d)
	if err != nil {
		return nil, fmt.Errorf("plan %s: %w: its content cannot be read as planned: %v", p.ID, ErrPlanChanged, err)
	}
	var out []planLine
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var l planLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return nil, fmt.Errorf("plan %s: %w", p.ID, err)
		}
		out = append(out, l)
	}
	return out, sc.Err()
}

// Execute carries out an approved plan. It checks again, at this moment,
// that every item is still eligible, under no hold, and unchanged since it
// was planned; if any is not, nothing is done and the error says which.
// Then, for "destroy": a certificate of destruction goes to the journal,
// the items leave the catalog (a residual entry stays) and the index, and
// the blobs only they used are deleted from the store. "transfer" items
// go into a package for the receiving archive (Transfer), written before
// anything is disposed of; "review" items are listed for the person.
func (r *Records) Execute(ctx context.Context, id, actor string) (Plan, error) {
	p, err := r.PlanByID(id)
	if err != nil {
		return p, err
	}
	switch {
	case p.Status == PlanExecuted:
		return p, r.finish(ctx, p)
	case p.Status != PlanApproved:
		return p, fmt.Errorf("plan %s has %d of the %d approvals it needs (osmarc disposition approve %s --by NAME)", id, len(p.Approvals), p.Required, id)
	}
	lines, err := r.planContent(ctx, p)
	if err != nil {
		return p, err
	}
	now := r.now()
	// Check again, now.
	nowLines, _, err := r.eligible(ctx, now, p.Schedule)
	if err != nil {
		return p, err
	}
	still := map[string]planLine{}
	for _, l := range nowLines {
		still[l.Key] = l
	}
	var gone []string
	for _, l := range lines {
		n, ok := still[l.Key]
		if !ok || !slices.Equal(n.Versions, l.Versions) || n.Schedule != l.Schedule {
			gone = append(gone, l.Key)
		}
	}
	if len(gone) > 0 {
		return p, fmt.Errorf("plan %s: %w: %d item(s) are no longer eligible, are now held or in an open request, or changed since it was planned (first %s); make a new plan",
			id, ErrPlanChanged, len(gone), gone[0])
	}
	res := &PlanExecution{}
	var destroy, transfer []planLine
	for _, l := range lines {
		switch l.Action {
		case ActionDestroy:
			destroy = append(destroy, l)
		case ActionTransfer:
			res.Transfer = append(res.Transfer, l.Key)
			transfer = append(transfer, l)
		default:
			res.Review = append(res.Review, l.Key)
		}
	}
	if len(transfer) > 0 && r.Transfer == nil {
		return p, fmt.Errorf("plan %s transfers %d item(s), and nothing here writes a transfer package", id, len(transfer))
	}
	cert := &archive.Certificate{Plan: p.ID, PlanDigest: p.Content, Action: ActionDestroy, AsOf: p.AsOf, PlannedAt: p.CreatedAt, PlannedBy: p.CreatedBy,
		ExecutedAt: now, ExecutedBy: actor}
	for _, a := range p.Approvals {
		cert.Approvals = append(cert.Approvals, archive.CertApproval{By: a.By, At: a.At})
	}
	used := map[string]bool{}
	for _, l := range destroy {
		cert.Items = append(cert.Items, archive.CertItem{Key: l.Key, CreatedAt: l.Created, Schedule: l.Schedule, DispositionDate: l.Date, Versions: l.Versions})
		used[l.Key] = true
	}
	if err := r.blobsOf(cert, used); err != nil {
		return p, err
	}
	// Before any certificate: would the store's Object Lock let every blob
	// go now? (lock.go)
	if err := r.checkDeletable(ctx, id, cert); err != nil {
		return p, err
	}
	if len(transfer) > 0 {
		cl, err := r.Classifier(ctx)
		if err != nil {
			return p, err
		}
		var items []TransferItem
		scheds := map[string]Schedule{}
		for _, l := range transfer {
			s, ok := scheds[l.Schedule]
			if !ok {
				if s, err = r.Schedule(l.Schedule); err != nil {
					return p, err
				}
				scheds[l.Schedule] = s
			}
			as := cl.Of(l.Key)
			items = append(items, TransferItem{Key: l.Key, CreatedAt: l.Created, Schedule: s, DispositionDate: l.Date, Versions: l.Versions,
				Class: as.Class, Exemptions: as.Exemptions})
		}
		pkg, err := r.Transfer(ctx, p, items)
		if err != nil {
			return p, fmt.Errorf("plan %s: transfer package: %w (nothing was disposed of)", id, err)
		}
		res.Package = pkg
	}
	var schedules []Schedule
	for _, g := range p.Groups {
		if s, err := r.Schedule(g.Schedule); err == nil {
			schedules = append(schedules, s)
		}
	}
	cert.Schedules, _ = json.Marshal(schedules)
	p.Status, p.ExecutedAt = PlanExecuted, &now
	res.Destroyed, res.BlobsDeleted, res.BlobsKept = len(cert.Items), len(cert.BlobsDeleted), len(cert.BlobsKept)
	p.Result = res
	d, err := r.a.RecordDestruction(ctx, cert, p)
	if err != nil {
		return p, err
	}
	res.Certificate = d.String()
	return p, r.finish(ctx, p)
}

// finish deletes what an executed plan's certificate says was destroyed
// (again, harmlessly, after an interrupted run) and drops the items from
// the index.
func (r *Records) finish(ctx context.Context, p Plan) error {
	cd, err := r.certificateOf(p)
	if err != nil || cd == "" {
		return err
	}
	cert, err := r.a.ReadCertificate(ctx, cd)
	if err != nil {
		return err
	}
	if _, err := r.a.DeleteDestroyed(ctx, cert); err != nil {
		return err
	}
	var keys []string
	for _, it := range cert.Items {
		keys = append(keys, it.Key)
	}
	return r.a.Unindex(ctx, keys)
}

// certificateOf finds the certificate an executed plan's event names.
func (r *Records) certificateOf(p Plan) (string, error) {
	if p.Result != nil && p.Result.Certificate != "" {
		return p.Result.Certificate, nil
	}
	for ev, err := range r.a.Events(0) {
		if err != nil {
			return "", err
		}
		if ev.Type != EventExecuted {
			continue
		}
		var d struct {
			Plan        Plan   `json:"plan"`
			Certificate string `json:"certificate"`
		}
		if json.Unmarshal(ev.Data, &d) == nil && d.Plan.ID == p.ID {
			return d.Certificate, nil
		}
	}
	return "", nil
}

// blobsOf fills a certificate's blob lists: every blob the destroyed items
// use, deleted when no kept item uses it too.
func (r *Records) blobsOf(cert *archive.Certificate, destroyed map[string]bool) error {
	mine := map[string]bool{}
	kept := map[string]bool{}
	err := r.a.Catalog().BlobRefs(func(key string, digests []string) error {
		for _, d := range digests {
			if destroyed[key] {
				mine[d] = true
			} else {
				kept[d] = true
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	// A version's size is in its item's record; the blobs bucket has the
	// others' (catalog.BlobSize).
	size := map[string]int64{}
	for key := range destroyed {
		it, err := r.a.Catalog().Item(key)
		if errors.Is(err, catalog.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		for _, v := range it.Versions {
			size[v.Digest] = v.Size
		}
	}
	var ds []string
	for d := range mine {
		ds = append(ds, d)
	}
	sort.Strings(ds)
	for _, d := range ds {
		n, ok := size[d]
		if !ok {
			n = r.a.Catalog().BlobSize(d)
		}
		b := archive.CertBlob{Digest: d, Size: n}
		if kept[d] {
			cert.BlobsKept = append(cert.BlobsKept, b)
		} else {
			cert.BlobsDeleted = append(cert.BlobsDeleted, b)
		}
	}
	return nil
}
