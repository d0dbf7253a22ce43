package integration

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/transport"
)

// pathSwitchAttacks are the sealed messages a hostile peer sends to move a
// session to a path the receiver never prepared: neither binary prepares
// one, so each must end the session as a malformed message.
var pathSwitchAttacks = []struct {
	name string
	msgs [][]byte
}{
	{"switch point", [][]byte{{byte(protocol.InPathSwitch)}}},
	{"switch point with a payload", [][]byte{{byte(protocol.InPathSwitch), 'x', 'y'}}},
	{"switch point then input", [][]byte{{byte(protocol.InPathSwitch)}, append([]byte{byte(protocol.InStdin)}, "echo hi\n"...)}},
	{"two switch points", [][]byte{{byte(protocol.InPathSwitch)}, {byte(protocol.InPathSwitch)}}},
}

// TestTechnicianPathSwitchEndsSession has a raw technician send path
// switch points to a real agent: the agent ends the session as a protocol
// error, and locks the screen as on every end.
func TestTechnicianPathSwitchEndsSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.enroll("dev")
	e.runAgent(d, "exit 0")
	for i, tc := range pathSwitchAttacks {
		t.Run(tc.name, func(t *testing.T) {
			ch := e.rawSession(t, e.tech, d.name, "shell")
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			for _, m := range tc.msgs {
				if err := ch.SendMsg(ctx, m); err != nil {
					t.Fatal(err)
				}
			}
			var end *transport.EndError
			for {
				_, _, err := ch.Recv(ctx)
				if errors.As(err, &end) {
					break
				}
				if err != nil {
					t.Fatalf("no end from the agent: %v", err)
				}
			}
			const want = "protocol error: a message from the technician could not be read"
			if !end.Authenticated || end.Reason != want {
				t.Errorf("session ended with %+v, want the agent's %q", end, want)
			}
			eventually(t, "screen lock", 5*time.Second, func() bool { return d.locks() == i+1 })
		})
	}
}

// TestDevicePathSwitchEndsSession has a hostile device send path switch
// points to `tech connect`: the technician's CLI ends the session with a
// clear protocol error and runs nothing further.
func TestDevicePathSwitchEndsSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for i, tc := range pathSwitchAttacks {
		t.Run(tc.name, func(t *testing.T) {
			name := "dev" + string(rune('a'+i))
			hd := e.hostileDevice(t, name, func(ctx context.Context, hs *hostileSession) {
				if _, err := hs.Start(ctx); err != nil {
					return
				}
				for _, m := range tc.msgs {
					if m[0] == byte(protocol.InStdin) {
						m = append([]byte{byte(protocol.InStdout)}, m[1:]...)
					}
					if hs.Ch.SendMsg(ctx, m) != nil {
						return
					}
				}
				hs.Recv(ctx) // until the technician goes
			})
			r := e.techRun("", "connect", hd.name, "--", "true")
			if r.code == 0 || !strings.Contains(r.stderr, "session lost: protocol: malformed inner message") {
				t.Errorf("code %d stderr %q, want the session lost to a malformed message", r.code, r.stderr)
			}
			if strings.Contains(r.stdout, "echo hi") {
				t.Errorf("output after the switch point reached the technician: %q", r.stdout)
			}
		})
	}
}
