//go:build !linux

package writeback

import "os"

// Elsewhere write-back is left to the kernel; Sync still makes files
// durable.
func startWriteback(*os.File, int64, int64) {}
func waitWriteback(*os.File, int64, int64)  {}

// No direct I/O here: every write is buffered.
func setDirect(*os.File, bool) bool { return false }
func alignedBlock() []byte          { return nil }
