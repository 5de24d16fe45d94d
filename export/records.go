package export

import (
	"context"
	"slices"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/catalog"
	"github.com/osmarc/osmarc/archive/retention"
)

// ArchiveRecords returns the RecordsFunc of an archive: the schedule is
// the item's account's (the safe default of records management); the
// holds are the active holds whose bounds cover the item and, for a hold
// with a query, whose query matches it (through m; without m a hold's
// query is read broadly, as records management reads it). classOf, when
// set, gives an item's classification and exemption codes (the search
// index's, or records management's classifier).
func ArchiveRecords(a *archive.Archive, now func() time.Time, m retention.Matcher, classOf func(ctx context.Context, key string) (string, []string, error)) (RecordsFunc, error) {
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
			var err error
			if r.Classification, r.Exemptions, err = classOf(ctx, ci.Key); err != nil {
				return r, err
			}
		}
		return r, nil
	}, nil
}
