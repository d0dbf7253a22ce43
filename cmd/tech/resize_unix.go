//go:build unix

package main

import (
	"os"
	"os/signal"
	"syscall"
)

// notifyResize delivers the terminal's window-size changes to sig.
func notifyResize(sig chan<- os.Signal) { signal.Notify(sig, syscall.SIGWINCH) }
