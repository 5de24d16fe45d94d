package archive

import (
	"os"

	"golang.org/x/sys/unix"
)

// SyncFS flushes the whole file system that holds path (syncfs(2)): one
// call makes durable every file written there, much cheaper than an
// fsync of each.
func SyncFS(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return unix.Syncfs(int(f.Fd()))
}

// SyncDir fsyncs a directory, so a rename into it lasts; it is best
// effort (errors are ignored).
func SyncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
