//go:build !linux

package diskio

import "os"

// dropCache does nothing where there is no direct I/O to test.
func dropCache(*os.File) {}
