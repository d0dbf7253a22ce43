package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRetentionKeepsLegalHold: with the retention job's clock moved past
// the policy's retention (a test knob; nothing sleeps days), the relay
// deletes an expired recording, its file and its session record, audited
// one entry each, but keeps a recording on legal hold and its session
// record; once released, that one goes too. Hold and release are audited
// and shown in `tech recordings list`.
func TestRetentionKeepsLegalHold(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.enroll("dev")
	e.runAgent(d, "exit 0")
	for range 2 {
		if r := e.techRun("", "connect", d.name, "--", "true"); r.code != 0 {
			t.Fatalf("connect: %s", r.stderr)
		}
	}
	var ids []string
	eventually(t, "two complete recordings", 10*time.Second, func() bool {
		ids = ids[:0]
		for id, state := range e.recordings() {
			if state == "complete" {
				ids = append(ids, id)
			}
		}
		return len(ids) == 2
	})
	kept, expired := ids[0], ids[1]
	if r := e.techRun("", "recordings", "hold", kept, "--reason", "case 2026-114"); r.code != 0 {
		t.Fatalf("hold: %s", r.stderr)
	}
	if r := e.techRun("", "recordings", "hold", kept); r.code == 0 || !strings.Contains(r.stderr, "already on hold") {
		t.Errorf("second hold: code %d stderr %q", r.code, r.stderr)
	}
	if r := e.techRun("", "recordings", "release", expired); r.code == 0 || !strings.Contains(r.stderr, "not on hold") {
		t.Errorf("release of a recording not held: code %d stderr %q", r.code, r.stderr)
	}
	if r := e.techRun("", "recordings", "list"); !strings.Contains(r.stdout, "held by admin: case 2026-114") {
		t.Errorf("recordings list does not show the hold:\n%s", r.stdout)
	}

	// The policy's retention, not a default, decides: 30 days, and the
	// job's clock 33 days ahead (the default 365 days would keep both).
	if r := e.techRun("", "policy", "set", "--retention-days", "29"); r.code == 0 || !strings.Contains(r.stderr, "--retention-days 29 is outside") {
		t.Errorf("retention of 29 days: code %d stderr %q", r.code, r.stderr)
	}
	if r := e.techRun("", "policy", "set", "--retention-days", "30"); r.code != 0 {
		t.Fatalf("policy set --retention-days: %s", r.stderr)
	}
	if r := e.techRun("", "policy", "show", "--json"); !strings.Contains(r.stdout, `"retention_days":30`) {
		t.Errorf("policy show lacks the retention: %s", r.stdout)
	}
	e.restartRelay("--retention-interval", "100ms", "--test-retention-skew", "792h")
	recFile := func(id string) string { return filepath.Join(e.dir, "data", "recordings", id+".rec") }
	eventually(t, "the expired recording deleted", 15*time.Second, func() bool {
		_, held := e.recordings()[kept]
		_, err := os.Stat(recFile(expired))
		return held && len(e.recordings()) == 1 && os.IsNotExist(err)
	})
	if _, err := os.Stat(recFile(kept)); err != nil {
		t.Errorf("the held recording's file: %v", err)
	}
	if r := e.techRun("", "sessions", "show", expired); r.code == 0 {
		t.Errorf("the expired session record is still shown")
	}
	if r := e.techRun("", "sessions", "show", kept); r.code != 0 {
		t.Errorf("the held recording's session record: %s", r.stderr)
	}
	if r := e.techRun("", "recordings", "list", "--json"); !strings.Contains(r.stdout, `"reason":"case 2026-114"`) {
		t.Errorf("recordings list --json lacks the hold: %s", r.stdout)
	}

	if r := e.techRun("", "recordings", "release", kept); r.code != 0 {
		t.Fatalf("release: %s", r.stderr)
	}
	eventually(t, "the released recording deleted", 15*time.Second, func() bool { return len(e.recordings()) == 0 })

	audit := e.techRun("", "audit", "export").stdout
	for _, want := range []string{
		`"action":"recording.hold","target":"` + kept,
		`"action":"recording.release","target":"` + kept,
		`"action":"recording.delete","target":"` + expired,
		`"action":"session.delete","target":"` + expired,
		`"action":"recording.delete","target":"` + kept,
	} {
		if !strings.Contains(audit, want) {
			t.Errorf("audit log lacks %s", want)
		}
	}
	if n := strings.Count(audit, `"action":"recording.delete"`); n != 2 {
		t.Errorf("%d recording.delete entries, want 2 (one per recording)", n)
	}
	e.stopRelay()
	if r := run(t, e.dir, "", bin.relay, "audit", "verify", "--data", filepath.Join(e.dir, "data")); r.code != 0 {
		t.Errorf("audit verify: %s", r.stderr)
	}
}
