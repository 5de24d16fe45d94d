package main

import "testing"

// The bench warns when the kernel holds many cached inodes; it must be
// able to read how many it holds on the machines it runs on.
func TestCachedInodesReadsTheKernelsCount(t *testing.T) {
	n, ok := cachedInodes()
	if !ok {
		t.Fatal("cannot read /proc/sys/fs/inode-nr")
	}
	if n <= 0 {
		t.Fatalf("the kernel holds %d cached inodes: a running system holds some", n)
	}
}
