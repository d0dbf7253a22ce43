// Package sdnotify tells systemd about a service's state: the sd_notify
// protocol, one datagram of "KEY=VALUE" lines sent to the unix socket named
// by $NOTIFY_SOCKET. It lets the relay run as a Type=notify unit, so that
// systemd counts it as started only once it is listening.
package sdnotify

import (
	"fmt"
	"net"
	"os"
	"strings"
)

// Ready is the state a service sends once it serves.
const Ready = "READY=1"

// Stopping is the state a service sends when it begins to shut down.
const Stopping = "STOPPING=1"

// Notify sends state to the service manager. Without $NOTIFY_SOCKET (not
// run by systemd, or not as Type=notify) it does nothing and returns nil.
// The socket must be an absolute path or, on Linux, an abstract address
// written with a leading '@'.
func Notify(state string) error {
	addr := os.Getenv("NOTIFY_SOCKET")
	if addr == "" {
		return nil
	}
	if !strings.HasPrefix(addr, "/") && !strings.HasPrefix(addr, "@") {
		return fmt.Errorf("sd_notify: NOTIFY_SOCKET %q is neither an absolute path nor an abstract address", addr)
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("sd_notify: %w", err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(state)); err != nil {
		return fmt.Errorf("sd_notify: %w", err)
	}
	return nil
}
