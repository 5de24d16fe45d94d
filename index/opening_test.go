package index

import "testing"

func TestOpening(t *testing.T) {
	for _, tc := range []struct {
		text string
		n    int
		want string
	}{
		{"", 10, ""},
		{"  Parade \n\n on   Saturday \t", 40, "Parade on Saturday"},
		{"Parade on Saturday", 18, "Parade on Saturday"},
		{"Parade on Saturday at ten", 18, "Parade on Saturday…"},
		{"Parade on Saturday at ten", 20, "Parade on Saturday…"},
		{"Défilé à Montréal samedi", 12, "Défilé à…"},
		{"one two three four five six", 7, "one two…"},
		{"abcdefghijklmnopqrstuvwxyz", 10, "abcdefghij…"},
		{"a bcdefghijklmnopqrstuvwxyz", 10, "a bcdefghi…"},
	} {
		if got := opening(tc.text, tc.n); got != tc.want {
			t.Errorf("opening(%q, %d) = %q, want %q", tc.text, tc.n, got, tc.want)
		}
	}
}
