package export

import (
	"context"
	"slices"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/catalog"
	"github.com/osmarc/osmarc/archive/retention"
)

// ClassifyFunc gives an item's classification, schedule ("" for its
// account's) and exemption codes: records management's Classifier.
type ClassifyFunc func(ctx context.Context, ci *catalog.Item) (class, schedule string, exemptions []string, err error)

// ArchiveRecordsWith returns the RecordsFunc of an archive: classOf, when
// set, gives the classification, schedule and exemptions; the schedule is
// otherwise the item's account's (the safe default of records
// management); the holds are the active holds whose bounds cover the item
// and, for a hold with a query, whose query matches it (through m;
// without m a hold's query is read broadly, as records management reads
// it).
func ArchiveRecordsWith(a *archive.Archive, now func() time.Time, m retention.Matcher, classOf ClassifyFunc) (RecordsFunc, error) {
	accts, err := a.Accounts()
	if err != nil {
		return nil, err
	}
	schedules := map[string]string{}
	for _, ac := range accts {
		schedules[ac.Key] = ac.Schedule
	}
	holds, err := retention.New(a, now).Holds()
	if err != nil {
		return nil, err
	}
	holds = slices.DeleteFunc(holds, func(h retention.Hold) bool { return h.Status != retention.HoldActive })
	return func(ctx context.Context, ci *catalog.Item) (Records, error) {
		r := Records{Schedule: schedules[archive.AccountKey(ci.Platform, ci.Account)]}
		for i := range holds {
			h := &holds[i]
			if !h.Covers(ci) {
				continue
			}
			if h.Query != "" && m != nil {
				ok, err := m.Match(ctx, h.Query, []string{ci.Key})
				if err != nil {
					return r, err
				}
				if !ok[ci.Key] {
					continue
				}
			}
			r.Holds = append(r.Holds, h.Name)
		}
		if classOf != nil {
			class, schedule, ex, err := classOf(ctx, ci)
			if err != nil {
				return r, err
			}
			r.Classification, r.Exemptions = class, ex
			if schedule != "" {
				r.Schedule = schedule
			}
		}
		return r, nil
	}, nil
}

// HoldFilter reports whether an item is under any of the named holds (its
// bounds cover the item and, for a hold with a query, the query matches it
// through m; without m a hold's query is read broadly). A name that is no
// hold is an error naming it. A released hold holds nothing.
func HoldFilter(a *archive.Archive, now func() time.Time, m retention.Matcher, names []string) (func(ctx context.Context, ci *catalog.Item) (bool, error), error) {
	r := retention.New(a, now)
	var holds []retention.Hold
	for _, n := range names {
		h, err := r.Hold(n)
		if err != nil {
			return nil, err
		}
		holds = append(holds, h)
	}
	return func(ctx context.Context, ci *catalog.Item) (bool, error) {
		for i := range holds {
			h := &holds[i]
			if !h.Covers(ci) {
				continue
			}
			if h.Query == "" || m == nil {
				return true, nil
			}
			ok, err := m.Match(ctx, h.Query, []string{ci.Key})
			if err != nil || ok[ci.Key] {
				return err == nil, err
			}
		}
		return false, nil
	}, nil
}
