package diskio

import (
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
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

// cachedPages reports how many pages of [off, off+n) are in the page
// cache (cachestat(2), Linux 6.5); ok is false if the kernel cannot say.
func cachedPages(f *os.File, off, n int64) (pages int64, ok bool) {
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, false
	}
	var st unix.Cachestat_t
	rc.Control(func(fd uintptr) {
		err = unix.Cachestat(uint(fd), &unix.CachestatRange{Off: uint64(off), Len: uint64(n)}, &st, 0)
	})
	if err != nil {
		return 0, false
	}
	return int64(st.Cache), true
}

// pread reads once at off, without the retries of os.File.ReadAt (which
// would re-read at an unaligned offset after a short direct read).
func pread(f *os.File, b []byte, off int64) (n int, err error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, err
	}
	if cerr := rc.Control(func(fd uintptr) { n, err = syscall.Pread(int(fd), b, off) }); cerr != nil {
		return 0, cerr
	}
	return n, err
}
