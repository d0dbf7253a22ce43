//go:build !unix

package main

import "os"

// notifyResize does nothing where there is no SIGWINCH (Windows): the
// remote terminal keeps the size it had when the session started.
func notifyResize(chan<- os.Signal) {}
