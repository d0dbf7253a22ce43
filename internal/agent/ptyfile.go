package agent

import (
	"fmt"
	"os"
	"syscall"
	"unsafe"
)

// pollable returns a non-blocking copy of the PTY master f, registered with
// Go's network poller, and closes f. creack/pty leaves the master in
// blocking mode, where every read holds an OS thread in a system call and
// read deadlines do nothing; the output pump needs deadlines to coalesce
// bulk output without delaying a keystroke's echo.
func pollable(f *os.File) (*os.File, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("pty: %w", err)
	}
	var nfd int
	var derr error
	if err := rc.Control(func(fd uintptr) {
		nfd, derr = syscall.Dup(int(fd))
	}); err != nil {
		return nil, fmt.Errorf("pty: %w", err)
	}
	if derr != nil {
		return nil, fmt.Errorf("pty: dup: %w", derr)
	}
	syscall.CloseOnExec(nfd)
	if err := syscall.SetNonblock(nfd, true); err != nil {
		syscall.Close(nfd)
		return nil, fmt.Errorf("pty: non-blocking: %w", err)
	}
	nf := os.NewFile(uintptr(nfd), f.Name())
	f.Close()
	return nf, nil
}

// setWinsize sets the window size of the PTY master f without taking it out
// of non-blocking mode (f.Fd, which pty.Setsize uses, would).
func setWinsize(f *os.File, rows, cols uint16) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	ws := struct{ rows, cols, x, y uint16 }{rows, cols, 0, 0}
	var errno syscall.Errno
	if err := rc.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCSWINSZ, uintptr(unsafe.Pointer(&ws)))
	}); err != nil {
		return err
	}
	if errno != 0 {
		return errno
	}
	return nil
}
