package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/tech"
)

// TestPresenter checks what the technician sees for each event: the text
// tech has always printed, with the escape sequences in every string from
// the relay or the device removed.
func TestPresenter(t *testing.T) {
	const esc = "\x1b]52;c;aGk=\x07\x1b[2J"
	tests := []struct {
		name           string
		ev             tech.Event
		rawTTY         bool
		stdout, stderr string
	}{
		{"join code", tech.JoinCode{Code: "K7Q2" + esc, Relay: "https://relay:8443", Pin: "SHA256:ab"},
			false, "K7Q2\n",
			"Join code: K7Q2 (valid 10 minutes, single use).\nAsk the person you are helping to run:\n  agent join K7Q2 --relay https://relay:8443 --ca-fingerprint SHA256:ab\nWaiting for them to join…\n"},
		{"session opened", tech.SessionOpened{ID: "3f2a", DeviceName: "pc", Mode: "unattended"}, false, "", ""},
		{"security code", tech.SecurityCode{SessionID: "3f2a", DeviceName: "pc" + esc, Code: "1234-5678"},
			false, "", "Session 3f2a with pc.\nSecurity code: 1234-5678 (the person at the device sees the same code; ask them to read it to you)\nWaiting for the end user's consent…\n"},
		{"consent granted", tech.ConsentAnswered{Granted: true, Caps: []string{"shell", "files" + esc}},
			false, "", "Consent granted for: shell, files\n"},
		{"consent refused", tech.ConsentAnswered{Why: "no"}, false, "", ""},
		{"revoked", tech.CapRevoked{Why: "enough" + esc}, false, "", "tech: the end user revoked: enough\n"},
		{"progress off a terminal", tech.Progress{Name: "a", Done: 5, Size: 10}, false, "", ""},
		{"skipped", tech.FileSkipped{Path: "dir/fifo"}, false, "", "tech: skipping dir/fifo (not a regular file)\n"},
		{"uploaded", tech.FileCopied{Upload: true, DeviceName: "pc" + esc, Local: "a.txt", Remote: "Documents/a.txt" + esc, Size: 3, SHA256: "ff"},
			false, "", "a.txt → pc:Documents/a.txt (3 bytes, sha256 ff)\n"},
		{"downloaded", tech.FileCopied{DeviceName: "pc", Local: "./x/scan" + esc + ".png", Size: 9, SHA256: "ee"},
			false, "", "pc → ./x/scan.png (9 bytes, sha256 ee)\n"},
		{"screen locked", tech.ScreenLockReport{ScreenLock: protocol.ScreenLock{Locked: true, Method: "loginctl" + esc}},
			false, "", "\ntether: device reports: screen locked (loginctl)\n"},
		{"screen locked, raw terminal", tech.ScreenLockReport{ScreenLock: protocol.ScreenLock{Locked: true, Method: "loginctl"}},
			true, "", "\r\ntether: device reports: screen locked (loginctl)\r\n"},
		{"screen lock failed", tech.ScreenLockReport{ScreenLock: protocol.ScreenLock{Error: "no locker" + esc}},
			false, "", "\ntether: device reports: screen lock FAILED: no locker\n"},
		{"screen lock malformed", tech.ScreenLockReport{Malformed: true},
			false, "", "\ntether: the device sent a malformed screen lock report\n"},
		{"exited", tech.Exited{Code: 3, Reason: "done"}, false, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			p := newPresenter(&stdout, &stderr)
			p.rawTTY = tt.rawTTY
			p.Observe(tt.ev)
			if strings.ContainsAny(stdout.String()+stderr.String(), "\x1b\x07") {
				t.Errorf("an escape sequence reached the terminal: %q %q", stdout.String(), stderr.String())
			}
			if stdout.String() != tt.stdout || stderr.String() != tt.stderr {
				t.Errorf("stdout %q, stderr %q\nwant   %q, stderr %q", stdout.String(), stderr.String(), tt.stdout, tt.stderr)
			}
		})
	}
}

// TestFollowPath: a follower (the viewer page) gets the latest path change
// at once, then each later one, in order.
func TestFollowPath(t *testing.T) {
	var stderr bytes.Buffer
	p := newPresenter(&bytes.Buffer{}, &stderr)
	p.Observe(tech.PathChanged{Path: "relay", Why: "the session starts on the relay"})
	p.Observe(tech.PathChanged{Path: "direct", Why: "LAN, 0.4 ms"})
	var got []string
	p.followPath(func(e tech.PathChanged) { got = append(got, e.Path+" ("+e.Why+")") })
	p.Observe(tech.PathChanged{Path: "relay", Why: "no route"})
	want := []string{"direct (LAN, 0.4 ms)", "relay (no route)"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("follower got %q, want %q", got, want)
	}
	if !strings.Contains(stderr.String(), "Session path: direct (LAN, 0.4 ms)\n") {
		t.Errorf("stderr %q", stderr.String())
	}
}
