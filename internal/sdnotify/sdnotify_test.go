package sdnotify

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// listen opens a datagram socket as systemd would and points NOTIFY_SOCKET
// at it.
func listen(t *testing.T) *net.UnixConn {
	t.Helper()
	dir, err := os.MkdirTemp("", "sdn") // short: socket paths are limited to ~100 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	t.Setenv("NOTIFY_SOCKET", path)
	return conn
}

func TestNotifySendsState(t *testing.T) {
	conn := listen(t)
	for _, state := range []string{Ready, Stopping} {
		if err := Notify(state); err != nil {
			t.Fatalf("Notify(%q): %v", state, err)
		}
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		buf := make([]byte, 256)
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(buf[:n]); got != state {
			t.Errorf("received %q, want %q", got, state)
		}
	}
}

func TestNotifyAddresses(t *testing.T) {
	tests := []struct {
		name, addr, wantErr string
	}{
		{"unset does nothing", "", ""},
		{"relative path refused", "notify.sock", "neither an absolute path"},
		{"missing socket reported", "/nonexistent/notify.sock", "sd_notify"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("NOTIFY_SOCKET", tt.addr)
			err := Notify(Ready)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("Notify with NOTIFY_SOCKET=%q: %v, want error containing %q", tt.addr, err, tt.wantErr)
			}
		})
	}
}
