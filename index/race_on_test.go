//go:build race

package index

// raceEnabled: the race detector makes sync.Pool drop what is put in it
// at random, so pooled caches are not shared reliably.
const raceEnabled = true
