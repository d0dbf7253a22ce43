//go:build !linux

package diskio

import "os"

// Elsewhere write-back is left to the kernel; Sync still makes files
// durable.
func startWriteback(*os.File, int64, int64) {}
func waitWriteback(*os.File, int64, int64)  {}

// No direct I/O here: every write is buffered.
func setDirect(*os.File, bool) bool { return false }
func alignedBlock() []byte          { return nil }

// No page-cache residency either: the Reader reads buffered.
func cachedPages(*os.File, int64, int64) (int64, bool) { return 0, false }

// pread is never reached without direct I/O.
func pread(f *os.File, b []byte, off int64) (int, error) { return f.ReadAt(b, off) }
