package mastodon

import (
	"context"
	"testing"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/archivetest"
	"github.com/osmarc/osmarc/archive/collect"
)

// The collector through the shared runner: the secret read at run time,
// the state carried from run to run, removal found by a complete run.
func TestThroughRunner(t *testing.T) {
	s := serve(t)
	a, _, clock := archivetest.New(t)
	ctx := context.Background()
	acct, err := a.AddAccount(ctx, archive.Account{Platform: Platform, Handle: "cityofexample", ID: acctID, BaseURL: s.URL, AllowPrivate: true, Credentials: "env:MASTODON_TOKEN"})
	if err != nil {
		t.Fatal(err)
	}
	opts := collect.RunOptions{
		Full: true, NoMedia: true, Now: clock.Now,
		Getenv: func(string) string { return "s3cret-token" },
		Client: collect.ClientOptions{AllowPrivate: true, Sleep: func(context.Context, time.Duration) error { return nil }},
	}
	res, err := collect.Run(ctx, a, acct, New(), opts)
	if err != nil {
		t.Fatalf("%+v %v", res, err)
	}
	for _, r := range s.Requests() {
		if r.Authorization != "Bearer s3cret-token" {
			t.Fatalf("%s: token not sent", r.Key)
		}
	}
	s.Handle("/api/v1/statuses/"+id4+"/context", fixtureRoute("context-4-moderated.json"))
	clock.Advance(time.Hour)
	if res, err = collect.Run(ctx, a, acct, New(), opts); err != nil {
		t.Fatalf("%+v %v", res, err)
	}
	d, err := a.Show(ctx, archive.ItemKey(Platform, "cityofexample", "110000000000000011"))
	if err != nil || d.RemovedAt == nil {
		t.Errorf("removed reply: %v %v", d.RemovedAt, err)
	}
	if st, _ := a.LastState(acct.Key, Platform); len(st) == 0 {
		t.Error("no state carried")
	}
}
