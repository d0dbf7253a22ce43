package relay

import (
	"fmt"
	"net"
	"os"

	"golang.org/x/sys/unix"
)

// peerIsRelayUser checks, with SO_PEERCRED, that the process at the other
// end of c runs as the relay's user or as root. The socket's mode already
// keeps others out; this holds even if the data directory's modes were
// loosened.
func peerIsRelayUser(c *net.UnixConn) error {
	raw, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var cred *unix.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) { cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED) }); err != nil {
		return err
	}
	if cerr != nil {
		return fmt.Errorf("peer credentials: %w", cerr)
	}
	if uid := uint32(os.Geteuid()); cred.Uid != uid && cred.Uid != 0 {
		return fmt.Errorf("peer runs as uid %d, not the relay's user (uid %d) or root", cred.Uid, uid)
	}
	return nil
}
