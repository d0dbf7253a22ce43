//go:build unix

package agent

import (
	"os"
	"syscall"
)

// holdFile takes an exclusive lock on f, released when f is closed or the
// process dies, however it dies.
func holdFile(f *os.File) error { return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) }

// tryHoldFile reports whether f's lock could be taken: nobody holds it.
func tryHoldFile(f *os.File) bool { return holdFile(f) == nil }
