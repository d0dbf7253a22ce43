package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/e2e"
	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/transport"
)

const testSession = "0123456789abcdef0123456789abcdef"

func TestLockJournalHeldMarkerIsNotStale(t *testing.T) {
	home := t.TempDir()
	m, err := openMarker(home, pendingLock{Session: testSession, Tech: "tina", Started: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := staleMarkers(home); err != nil || len(st) != 0 {
		t.Fatalf("staleMarkers while the session runs = %v, %v; want none", st, err)
	}
	// Closing the file without removing it is what a killed agent leaves.
	m.f.Close()
	st, err := staleMarkers(home)
	if err != nil || len(st) != 1 || st[0].p.Session != testSession || st[0].p.Tech != "tina" {
		t.Fatalf("staleMarkers after the agent died = %+v, %v; want the session's marker", st, err)
	}
	if err := st[0].saveResult("screen locked (x)", true); err != nil {
		t.Fatal(err)
	}
	st, _ = staleMarkers(home)
	if len(st) != 1 || st[0].p.Result != "screen locked (x)" || !st[0].p.Locked {
		t.Fatalf("result not kept for the report: %+v", st)
	}
}

func TestLockJournalRemoved(t *testing.T) {
	home := t.TempDir()
	m, err := openMarker(home, pendingLock{Session: testSession})
	if err != nil {
		t.Fatal(err)
	}
	m.remove()
	var nilMarker *lockMarker
	nilMarker.remove()
	if ents, _ := os.ReadDir(lockDir(home)); len(ents) != 0 {
		t.Fatalf("%d markers left after remove", len(ents))
	}
}

// Whatever is in the journal directory, the screen is locked for every
// marker nobody holds; damaged ones are not skipped.
func TestLockJournalDamagedMarkers(t *testing.T) {
	home := t.TempDir()
	dir := lockDir(home)
	os.MkdirAll(dir, 0o700)
	files := map[string]string{
		"aa.json":        "{not json",
		"bb.json":        "",
		"cc.json":        `{"session":""}`,
		"dd.json":        string(make([]byte, maxMarkerSize*3)),
		"notes.txt":      "ignored: not a marker",
		"ee.json.tmp":    "ignored: not a marker",
		"ff.json":        `{"session":"ff","tech":"\u001b[2Jtina"}`,
		"gg.json.broken": "ignored",
	}
	for name, body := range files {
		os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600)
	}
	os.Mkdir(filepath.Join(dir, "sub.json"), 0o700)
	st, err := staleMarkers(home)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, m := range st {
		got[m.p.Session.String()] = true
	}
	for _, want := range []string{"aa", "bb", "cc", "dd", "ff"} {
		if !got[want] {
			t.Errorf("marker %s.json not taken as a session to lock; got %v", want, got)
		}
	}
	if len(got) != 5 {
		t.Errorf("got %d sessions to lock, want 5: %v", len(got), got)
	}
}

func TestOpenMarkerRefusesBadSessionID(t *testing.T) {
	for _, id := range []ids.SessionID{"", "../../etc/passwd", "zz", "a/b"} {
		if _, err := openMarker(t.TempDir(), pendingLock{Session: id}); err == nil {
			t.Errorf("openMarker(%q) succeeded", id)
		}
	}
}

func TestEndReasonIsClean(t *testing.T) {
	netErr := &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}
	tests := []struct {
		err  error
		want string
	}{
		{&transport.EndError{Reason: "terminated by admin", Authenticated: false}, "terminated by admin"},
		{&transport.EndError{Reason: "exit", Authenticated: true}, "exit"},
		{&transport.EndError{}, "ended by the relay"},
		{&transport.RemoteError{Message: "no such session"}, "relay: no such session"},
		{transport.ErrClosed, reasonConnLost},
		{fmt.Errorf("%w: going away", transport.ErrClosed), reasonConnLost},
		{fmt.Errorf("failed to get reader: %w", io.EOF), reasonConnLost},
		{fmt.Errorf("failed to get reader: %w", netErr), reasonConnLost},
		{fmt.Errorf("failed to read frame header: %w", io.ErrUnexpectedEOF), reasonConnLost},
		{context.Canceled, reasonStopped},
		{fmt.Errorf("end-to-end channel: %w", e2e.ErrAuthentication), reasonUnauthentic},
		{fmt.Errorf("end-to-end channel: %w", e2e.ErrReplayed), reasonUnauthentic},
		{fmt.Errorf("%w: short", protocol.ErrBadInner), reasonBadMessage},
		{protocol.ErrUnknownFrame, reasonBadMessage},
	}
	for _, tt := range tests {
		if got := endReason(tt.err); got != tt.want {
			t.Errorf("endReason(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestHandleReasonIsClean(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{protocol.DecodeJSON([]byte(`{"argv":`), &protocol.Start{}), reasonBadMessage},
		{protocol.DecodeJSON([]byte(`[1,2]`), &protocol.FileOpen{}), reasonBadMessage},
		{errors.New("the end user did not grant the shell capability"), "the end user did not grant the shell capability"},
		{errors.New("protocol error: a second start message"), "protocol error: a second start message"},
	}
	for _, tt := range tests {
		if got := handleReason(tt.err); got != tt.want {
			t.Errorf("handleReason(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
