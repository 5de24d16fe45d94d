package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRetentionCommands(t *testing.T) {
	dir := newArchive(t)
	must(t, "schedule", "presets", "--add", "--data", dir)
	out := must(t, "schedule", "list", "--data", dir)
	if !strings.Contains(out, "grs-6.4-020") || !strings.Contains(out, "NARA GRS 6.4 item 020") {
		t.Fatalf("schedule list:\n%s", out)
	}
	must(t, "schedule", "add", "city-comments", "--data", dir, "--title", "Comments on city pages", "--authority", "City records schedule 12.3",
		"--retain", "2y", "--cutoff", "calendar-year", "--action", "destroy")
	events := statsJSON(t, dir)["events"]
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"schedule", "add", "x", "--data", dir, "--title", "t", "--authority", "a", "--retain", "3 fortnights"}, `invalid period "3 fortnights"`},
		{[]string{"schedule", "add", "x", "--data", dir, "--title", "t", "--authority", "a", "--retain", "3y", "--cutoff", "monthly"}, `invalid cutoff "monthly"`},
		{[]string{"schedule", "show", "--data", dir, "nope"}, `schedule "nope": not found`},
		{[]string{"disposition", "plan", "--data", dir, "--schedule", "nope"}, `schedule "nope": not found`},
		{[]string{"disposition", "approve", "--data", dir, "DP-1", "--by", "x"}, `disposition plan "DP-1": not found`},
		{[]string{"hold", "place", "h", "--data", dir, "--reason", "r"}, "--matter is required"},
		{[]string{"hold", "release", "--data", dir, "nope", "--reason", "r"}, `hold "nope": not found`},
	} {
		code, _, errs := osmarc(t, "", tc.args...)
		if code == 0 || !strings.Contains(errs, tc.want) || strings.Count(errs, "\n") != 1 {
			t.Errorf("%v: exit %d %q, want one line with %q", tc.args, code, errs, tc.want)
		}
	}
	if got := statsJSON(t, dir)["events"]; got != events {
		t.Fatalf("bad input recorded %v event(s)", got.(float64)-events.(float64))
	}
	// Items of two accounts: comments under GRS 6.4 item 020, posts permanent.
	must(t, "account", "add", "--data", dir, "--platform", "facebook", "--handle", "3rd-brigade", "--schedule", "grs-6.4-020")
	must(t, "account", "add", "--data", dir, "--platform", "x", "--handle", "Brigade3", "--schedule", "command-official-posts")
	must(t, "ingest", "--data", dir, "../../testdata/items.jsonl")

	must(t, "hold", "place", "parade-complaint", "--data", dir, "--matter", "Complaint 2024-17", "--reason", "pending complaint",
		"--account", "3rd-brigade", "--from", "2024-01-15", "--to", "2024-01-16", "--actor", "legal@example.gov")
	var holds []map[string]any
	json.Unmarshal([]byte(must(t, "hold", "list", "--json", "--data", dir)), &holds)
	if len(holds) != 1 || holds[0]["items"] != 3.0 || holds[0]["placed_by"] != "legal@example.gov" {
		t.Fatalf("holds = %v", holds)
	}
	var plan map[string]any
	json.Unmarshal([]byte(must(t, "disposition", "plan", "--json", "--data", dir, "--as-of", "2025-01-01")), &plan)
	// Four facebook items; three under the hold; the X posts are permanent.
	if plan["items"] != 1.0 || plan["held"] != 3.0 || plan["id"] == "" {
		t.Fatalf("plan = %v", plan)
	}
	id := plan["id"].(string)
	if code, _, errs := osmarc(t, "", "disposition", "execute", "--data", dir, id); code == 0 || !strings.Contains(errs, "approvals it needs") {
		t.Fatalf("executed before approval: %s", errs)
	}
	must(t, "disposition", "approve", "--data", dir, id, "--by", "Legal Counsel")
	out = must(t, "disposition", "execute", "--data", dir, id)
	if !strings.Contains(out, "1 item(s) destroyed, certificate") {
		t.Fatalf("execute said %q", out)
	}
	if code, _, _ := osmarc(t, "", "show", "--data", dir, "facebook/3rd-brigade/101_2002"); code == 0 {
		t.Fatal("a destroyed item still shows")
	}
	if out := must(t, "verify", "--deep", "--data", dir); !strings.Contains(out, "OK: no damage found") {
		t.Fatalf("verify after destruction:\n%s", out)
	}
	must(t, "hold", "release", "--data", dir, "parade-complaint", "--reason", "complaint closed")
	json.Unmarshal([]byte(must(t, "disposition", "plan", "--json", "--data", dir, "--as-of", "2025-01-01")), &plan)
	if plan["items"] != 3.0 {
		t.Fatalf("after release: %v", plan)
	}

	// The audit trail: every step is an event, and the chain verifies.
	out = must(t, "audit", "list", "--data", dir, "--type", "hold.*")
	if strings.Count(out, "hold.") != 2 {
		t.Fatalf("audit list --type hold.*:\n%s", out)
	}
	out = must(t, "audit", "list", "--data", dir, "--actor", "legal@example.gov")
	if !strings.Contains(out, "hold.placed") {
		t.Fatalf("audit list --actor:\n%s", out)
	}
	if out := must(t, "audit", "verify", "--data", dir); !strings.HasPrefix(out, "OK:") {
		t.Fatalf("audit verify: %s", out)
	}
	// Tamper with an event: audit verify names it.
	p := filepath.Join(dir, "store", "journal", "00000000000000000005.json")
	b, _ := os.ReadFile(p)
	os.WriteFile(p, []byte(strings.Replace(string(b), `"actor":"`, `"actor":"x`, 1)), 0o640)
	code, out, _ := osmarc(t, "", "audit", "verify", "--data", dir)
	if code != 1 || !strings.Contains(out, "event 6 does not follow event 5: event 5 was changed") {
		t.Fatalf("audit verify after tampering: exit %d %s", code, out)
	}
}
