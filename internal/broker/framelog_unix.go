//go:build unix

package broker

import "syscall"

// oNoFollow makes opening the frame log refuse a symbolic link.
const oNoFollow = syscall.O_NOFOLLOW
