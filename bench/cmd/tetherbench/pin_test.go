package main

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestPinSelf: pinning confines every thread, new ones included, to the
// CPUs asked for, and unpinning gives the old set back.
func TestPinSelf(t *testing.T) {
	before, err := allowedCPUs()
	if err != nil {
		t.Fatal(err)
	}
	if len(before) < 2 {
		t.Skip("one CPU: nothing to pin to")
	}
	unpin, err := pinSelf(before[:1])
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan []int)
	go func() { // likely on another thread; all of them are pinned
		cpus, _ := allowedCPUs()
		done <- cpus
	}()
	if got := <-done; !slices.Equal(got, before[:1]) {
		unpin()
		t.Fatalf("pinned to %v, a goroutine may run on %v", before[:1], got)
	}
	unpin()
	if after, _ := allowedCPUs(); !slices.Equal(after, before) {
		t.Fatalf("after unpin: %v, want %v", after, before)
	}
}

// TestRunqueueWait: the sum over this process's threads is at least what
// the main thread alone had waited just before (its /proc/PID/schedstat).
func TestRunqueueWait(t *testing.T) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/schedstat", os.Getpid()))
	if err != nil {
		t.Skip("no schedstat on this kernel")
	}
	f := strings.Fields(string(b))
	main, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	all, err := runqueueWait(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if all < time.Duration(main) {
		t.Fatalf("all threads waited %v, less than the main thread's %v", all, time.Duration(main))
	}
	if _, err := runqueueWait(-1); err == nil {
		t.Fatal("no error for a process that does not exist")
	}
}
