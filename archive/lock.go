package archive

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// dirLock is an advisory lock on a data directory: exclusive for a process
// that writes, shared for readers. It never waits: a second process learns
// at once who holds it.
type dirLock struct {
	f *os.File
}

// holder is what a writer records in the lock file for others to read.
type holder struct {
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	Command string    `json:"command"`
	Since   time.Time `json:"since"`
}

func lockDir(dir string, exclusive bool, command string) (*dirLock, error) {
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		if exclusive {
			return nil, fmt.Errorf("lock %s: %w", dir, err)
		}
		// A reader on a read-only data directory: go on without a lock.
		f, err = os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("lock %s: %w", dir, err)
		}
	}
	how := unix.LOCK_SH
	if exclusive {
		how = unix.LOCK_EX
	}
	if err := unix.Flock(int(f.Fd()), how|unix.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s is held by %s", ErrLocked, dir, describeHolder(path, exclusive))
		}
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	if exclusive {
		host, _ := os.Hostname()
		b, _ := json.Marshal(holder{PID: os.Getpid(), Host: host, Command: command, Since: time.Now().UTC()})
		if err := f.Truncate(0); err == nil {
			f.WriteAt(append(b, '\n'), 0)
		}
	}
	return &dirLock{f: f}, nil
}

func describeHolder(path string, wantExclusive bool) string {
	b, err := os.ReadFile(path)
	var h holder
	if err == nil && json.Unmarshal(b, &h) == nil && h.PID != 0 {
		if processAlive(h.PID) {
			s := fmt.Sprintf("process %d", h.PID)
			if h.Command != "" {
				s += fmt.Sprintf(" (%s)", h.Command)
			}
			if h.Host != "" {
				s += " on " + h.Host
			}
			return s + " since " + h.Since.Format(time.RFC3339)
		}
	}
	if wantExclusive {
		return "another osmarc process reading it (" + strings.TrimSpace(holdersFromProc(path)) + ")"
	}
	return "another osmarc process"
}

func processAlive(pid int) bool {
	return unix.Kill(pid, 0) == nil || errors.Is(unix.Kill(pid, 0), unix.EPERM)
}

// holdersFromProc names the processes that have the lock file open, where
// /proc tells (Linux); elsewhere it says nothing more.
func holdersFromProc(path string) string {
	abs, _ := filepath.Abs(path)
	procs, _ := filepath.Glob("/proc/[0-9]*/fd/*")
	var pids []string
	seen := map[string]bool{}
	for _, fd := range procs {
		if t, err := os.Readlink(fd); err == nil && t == abs {
			pid := strings.Split(fd, "/")[2]
			if pid != fmt.Sprint(os.Getpid()) && !seen[pid] {
				seen[pid] = true
				pids = append(pids, pid)
			}
		}
	}
	if len(pids) == 0 {
		return "process unknown"
	}
	return "process " + strings.Join(pids, ", ")
}

func (l *dirLock) release() {
	if l == nil || l.f == nil {
		return
	}
	unix.Flock(int(l.f.Fd()), unix.LOCK_UN)
	l.f.Close()
	l.f = nil
}
