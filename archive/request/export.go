package request

import (
	"context"
	"errors"
	"io"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/catalog"
)

// This file lets an export (osmarc export --redact --request R, and
// request produce's bag) write the same items, redacted the same way, as
// Produce: the list of items a production holds, and a Redactor that
// applies the request's redactions to each. Added by the export engineer
// (issue 6); it reuses Produce's own functions and changes none of them.

// ProductionItem is one item a production writes: Role is "responsive"
// or "thread".
type ProductionItem struct {
	Key  string
	Role string
}

// ProductionItems returns the items a production of request id writes,
// in Produce's order (the responsive items not withheld, then, with
// threads, the other items of their threads in key order), and the
// withholding log entries of the items withheld.
func ProductionItems(ctx context.Context, a *archive.Archive, id string, threadsToo bool) ([]ProductionItem, []WithholdingEntry, error) {
	r, err := Get(a, id)
	if err != nil {
		return nil, nil, err
	}
	sel, err := selectProduction(ctx, a, r, threadsToo, "request "+id)
	if err != nil {
		return nil, nil, err
	}
	out := make([]ProductionItem, len(sel.items))
	for i, tp := range sel.items {
		out[i] = ProductionItem{Key: tp.key, Role: tp.role}
	}
	return out, sel.withheld, nil
}

// Redactor redacts the items of one production as Produce does: the
// spans and texts people marked, and (unless NoDetect) the personal
// information the detector finds in the production's items, less what
// people kept and the official accounts' names.
type Redactor struct {
	sc    *scrubber
	spans map[string][]Redaction
	guard *guard
}

// NewRedactor plans the redaction of the items keys of request id (the
// items the production writes: the detector reads each).
func NewRedactor(ctx context.Context, a *archive.Archive, id string, keys []string, o ProduceOptions) (*Redactor, error) {
	r, err := Get(a, id)
	if err != nil {
		return nil, err
	}
	items := make([]toProduce, len(keys))
	for i, k := range keys {
		items[i] = toProduce{key: k}
	}
	sc, spans, err := plan(ctx, a, r, items, o)
	if err != nil {
		return nil, err
	}
	return &Redactor{sc: sc, spans: spans, guard: newGuard(sc)}, nil
}

// ErrNotLatest: only an item's latest version can be redacted (people
// mark redactions on it).
var ErrNotLatest = errors.New("a redacted production holds latest versions only")

// Redact redacts it, the content of ci's latest version (a copy the
// caller owns), in place, and returns the redaction log entries.
func (x *Redactor) Redact(ci catalog.Item, it *archive.Item) ([]RedactionEntry, error) {
	return redactItem(ci.Key, ci, it, x.sc, x.spans[ci.Key])
}

// Scrub redacts free text (a reason, a description) that goes with a
// production.
func (x *Redactor) Scrub(s string) string { return x.sc.scrub(s, nil) }

// Guard wraps a production file: a write that would hold text being
// redacted fails with ErrLeak, naming the file.
func (x *Redactor) Guard(name string, w io.WriteCloser) io.WriteCloser { return x.guard.wrap(name, w) }
