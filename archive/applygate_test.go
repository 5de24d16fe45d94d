package archive

import (
	"errors"
	"testing"
	"time"
)

// The index reads a capture's items only once the catalog has them, and
// stops when the catalog failed.
func TestApplyGate(t *testing.T) {
	g := newApplyGate(false)
	got := make(chan error, 1)
	go func() { got <- g.wait(1500) }()
	g.advance(999)
	select {
	case err := <-got:
		t.Fatalf("read item 1500 with 999 applied: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	g.advance(1999)
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	g.finish(nil, 3)
	if err := g.wait(1 << 30); err != nil {
		t.Fatalf("after the end every item may be read: %v", err)
	}
	if n, err := g.done(); n != 3 || err != nil {
		t.Fatalf("done = %d, %v", n, err)
	}

	// A capture bringing a new account: nothing is read before its
	// registration, at the end.
	g = newApplyGate(true)
	go func() { got <- g.wait(1) }()
	g.advance(5000)
	select {
	case <-got:
		t.Fatal("read before the account was registered")
	case <-time.After(20 * time.Millisecond):
	}
	fail := errors.New("disk full")
	g.finish(fail, 0)
	if err := <-got; !errors.Is(err, fail) {
		t.Fatalf("wait after a failed apply: %v", err)
	}
}
