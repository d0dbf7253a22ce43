package writeback

import (
	"os"
	"syscall"
	"unsafe"
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

// setDirect turns O_DIRECT on or off for f and reports whether it could.
func setDirect(f *os.File, on bool) bool {
	rc, err := f.SyscallConn()
	if err != nil {
		return false
	}
	ok := false
	rc.Control(func(fd uintptr) {
		flags, _, errno := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_GETFL, 0)
		if errno != 0 {
			return
		}
		if on {
			flags |= syscall.O_DIRECT
		} else {
			flags &^= syscall.O_DIRECT
		}
		_, _, errno = syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_SETFL, flags)
		ok = errno == 0
	})
	return ok
}

// directAlign is the memory and file alignment direct I/O needs.
const directAlign = 4096

// alignedBlock returns an empty slice with room for one Block, starting
// at a directAlign boundary.
func alignedBlock() []byte {
	b := make([]byte, Block+directAlign)
	off := int(directAlign - uintptr(unsafe.Pointer(&b[0]))%directAlign)
	if off == directAlign {
		off = 0
	}
	return b[off : off : off+Block]
}
