package integration

import (
	"strings"
	"testing"
)

// noRootWarning is the words tech and the agent use, once per start,
// when no trust root is pinned.
const noRootWarning = "the relay is trusted for policy"

// TestNoRootSessionNewSaysSo: without a pinned root `tech session new`
// says once, on stderr, that the relay is trusted for policy and how to
// fix it, and the attended session works as before.
func TestNoRootSessionNewSaysSo(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tech := start(t, e.dir, nil, bin.tech, "--config", e.tech, "session", "new", "--", "echo", "attended-ok")
	code := joinCode(t, tech)
	r := e.agentJoin("attended", code, e.url)
	if r.code != 0 {
		t.Fatalf("agent join: code %d stderr %q", r.code, r.stderr)
	}
	<-tech.done
	out := tech.Output()
	if n := strings.Count(out, noRootWarning); n != 1 || !strings.Contains(out, "tech trust pin") || !strings.Contains(out, "attended-ok") {
		t.Errorf("tech session new said the no-root warning %d times: %q", n, out)
	}
}

// TestRootPinnedNoWarning: once a root is pinned neither the agent nor
// tech connect says the relay is trusted for policy.
func TestRootPinnedNoWarning(t *testing.T) {
	t.Parallel()
	e := newTrustEnv(t)
	e.mustTrust("", "init", "--passphrase-file", e.pass)
	d := e.enroll("pinned")
	e.runAgent(d, "exit 0")
	if strings.Contains(d.proc.Output(), noRootWarning) {
		t.Errorf("the agent with a pinned root warned: %q", d.proc.Output())
	}
	if r := e.techRun("", "connect", "pinned", "--", "true"); strings.Contains(r.stderr, noRootWarning) {
		t.Errorf("tech connect with a pinned root warned: %q", r.stderr)
	}
}
