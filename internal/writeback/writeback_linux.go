package writeback

import (
	"os"
	"syscall"
)

// sync_file_range flags (linux/fs.h).
const (
	syncWaitBefore = 1
	syncWrite      = 2
	syncWaitAfter  = 4
)

func syncFileRange(f *os.File, off, n int64, flags uintptr) {
	rc, err := f.SyscallConn()
	if err != nil || n <= 0 {
		return
	}
	rc.Control(func(fd uintptr) {
		syscall.Syscall6(syscall.SYS_SYNC_FILE_RANGE, fd, uintptr(off), uintptr(n), flags, 0, 0)
	})
}

// startWriteback starts writing [off, off+n) to disk without waiting.
func startWriteback(f *os.File, off, n int64) { syncFileRange(f, off, n, syncWrite) }

// waitWriteback waits until [off, off+n) is on disk.
func waitWriteback(f *os.File, off, n int64) {
	syncFileRange(f, off, n, syncWaitBefore|syncWrite|syncWaitAfter)
}
