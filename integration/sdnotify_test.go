package integration

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRelayNotifiesSystemd runs the relay as a Type=notify unit would: with
// $NOTIFY_SOCKET set, it sends READY=1 once /healthz answers and
// STOPPING=1 when it is told to stop.
func TestRelayNotifiesSystemd(t *testing.T) {
	t.Parallel()
	sockDir, err := os.MkdirTemp("", "sdn") // socket paths are limited to ~100 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	path := filepath.Join(sockDir, "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	e := &env{t: t, dir: t.TempDir(), relayEnv: []string{"NOTIFY_SOCKET=" + path}}
	e.startRelay()
	if got := readState(t, conn); got != "READY=1" {
		t.Fatalf("first notification %q, want READY=1", got)
	}
	if !e.healthy() {
		t.Fatal("READY=1 was sent but /healthz does not answer 200")
	}
	e.relay.cmd.Process.Signal(syscall.SIGTERM)
	if got := readState(t, conn); got != "STOPPING=1" {
		t.Fatalf("notification after SIGTERM %q, want STOPPING=1", got)
	}
	<-e.relay.done
	if out := e.relay.Output(); strings.Contains(out, "cannot notify") {
		t.Errorf("relay reported a notification failure:\n%s", out)
	}
}

// readState reads one sd_notify datagram.
func readState(t *testing.T, conn *net.UnixConn) string {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	buf := make([]byte, 512)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatalf("no sd_notify datagram: %v", err)
	}
	return string(buf[:n])
}
