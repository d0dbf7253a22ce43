package pgstore

import (
	"errors"
	"io"
	"net"
	"syscall"
)

// isNetErr reports an error of the connection itself: refused, reset,
// closed or cut short.
func isNetErr(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ENOENT) || errors.Is(err, net.ErrClosed)
}
