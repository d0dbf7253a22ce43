package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/lbtest"
	"github.com/tether-support/tether/internal/recstore/seaweedtest"
)

// lbCluster is a cluster (newClusterEnv: relays on one PostgreSQL
// database, recordings in one object-store bucket) behind a TCP load
// balancer, the way docs/deploy-cluster.md deploys one. e is a technician
// signed in as the superadmin through the load balancer, and e.url is the
// load balancer's, so devices enrolled with e.enroll reach the cluster
// through it too.
type lbCluster struct {
	*clusterEnv
	e  *env
	lb *lbtest.LB
}

// lbHeartbeat is the relays' --cluster-heartbeat: a relay silent for five
// of them is expired.
const lbHeartbeat = "200ms"

// startLBCluster starts n relays behind a load balancer.
func startLBCluster(t *testing.T, n int) *lbCluster {
	t.Helper()
	s3 := seaweedtest.Shared(t)
	creds := filepath.Join(t.TempDir(), "s3-credentials")
	if err := os.WriteFile(creds, []byte(fmt.Sprintf("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n", s3.AccessKey, s3.SecretKey)), 0o600); err != nil {
		t.Fatal(err)
	}
	c := &lbCluster{clusterEnv: newClusterEnv(t, n, "--cluster-heartbeat", lbHeartbeat,
		"--recordings-store", "s3://"+s3.Bucket(t)+"/tether?endpoint="+s3.Endpoint+"&insecure=1&credentials-file="+creds)}
	var addrs []string
	for _, r := range c.relays {
		addrs = append(addrs, strings.TrimPrefix(r.url, "https://"))
	}
	lb, err := lbtest.New(addrs, lbtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lb.Close() })
	c.lb = lb
	first := c.relays[0]
	e := &env{t: t, dir: filepath.Join(c.dir, "via-lb"), url: "https://" + lb.Addr(), fp: c.fp, adminPW: first.adminPW, reviewer: first.reviewer}
	e.tech = filepath.Join(e.dir, "tech")
	if err := os.MkdirAll(e.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if r := e.techRun(e.adminPW+"\n", "login", "--relay", e.url, "--user", "admin", "--ca-fingerprint", e.fp, "--password-stdin"); r.code != 0 {
		t.Fatalf("admin login through the load balancer: %s", r.stderr)
	}
	c.e = e
	return c
}

// agentLog is one line of an agent's --log-format json output.
type agentLog struct {
	Msg string `json:"msg"`
	// In is a retry's wait: slog's JSON handler writes a duration as
	// integer nanoseconds.
	In int64 `json:"in"`
}

// agentLogs returns the agent's JSON log lines, in order.
func agentLogs(out string) []agentLog {
	var ls []agentLog
	for _, l := range lines(out) {
		var m agentLog
		if json.Unmarshal([]byte(l), &m) == nil && m.Msg != "" {
			ls = append(ls, m)
		}
	}
	return ls
}

// countMsg counts the log lines with message msg.
func countMsg(ls []agentLog, msg string) int {
	n := 0
	for _, l := range ls {
		if l.Msg == msg {
			n++
		}
	}
	return n
}

// connections counts the times the agent of d (run with --log-format json)
// has connected to a relay.
func connections(d *device) int {
	return countMsg(agentLogs(d.proc.Output()), "connected to relay")
}

// expectReconnect waits until the agent of d has connected to a relay more
// than connected times.
func expectReconnect(t *testing.T, d *device, connected int) {
	t.Helper()
	eventually(t, "agent to reconnect", 30*time.Second, func() bool { return connections(d) > connected })
}

// liveSession enrolls pc-1 and runs its agent with its control connection
// pinned to relay agentAt, then opens an interactive session from the
// technician pinned to relay techAt and checks a command runs in it. The
// load balancer is left pinned to techAt.
func (c *lbCluster) liveSession(agentAt, techAt int) (*device, *ptyProc) {
	t, e := c.t, c.e
	t.Helper()
	c.lb.Pin(agentAt)
	d := e.enroll("pc-1")
	e.runAgent(d, "exit 0", "--log-format", "json")
	c.lb.Pin(techAt)
	p := startPTY(t, e.dir, bin.tech, "--config", e.tech, "connect", d.name)
	p.expect("Consent granted", 15*time.Second)
	p.send("echo before-$((40+2))\r")
	p.expect("before-42", 10*time.Second)
	return d, p
}

// expectCutOff checks the end path of a session whose relay died: the
// agent of d locks the screen and the technician's connect p exits non-zero.
func expectCutOff(t *testing.T, d *device, p *ptyProc) {
	t.Helper()
	eventually(t, "agent to lock the screen", 15*time.Second, func() bool { return d.locks() >= 1 })
	if code := p.exitCode(15 * time.Second); code == 0 {
		t.Fatalf("tech exited 0 after its relay was killed:\n%s", p.screen())
	}
}

// TestClusterRelayKilled: three relays on one database behind a load
// balancer; the agent and the technician reach them only through it. The
// relay holding the agent's control connection and its live interactive
// session is killed with SIGKILL. The agent ends the session and locks the
// screen once, reconnects through the load balancer to a live relay at its
// first retry (a wait within its backoff bound), and is reachable again: a
// new session works from whichever relay the technician lands on. The
// survivors record the dead relay's session as ended with its reason, mark
// its recording incomplete, and expire its presence.
func TestClusterRelayKilled(t *testing.T) {
	t.Parallel()
	c := startLBCluster(t, 3)
	e := c.e

	// The agent's control connection and the whole first session go to
	// relay 1; everything after the kill is round robin.
	d, p := c.liveSession(0, 0)
	rec := e.onlyRecording("recording")
	if s := c.lb.Stats(); s.Open[1]+s.Open[2] != 0 {
		t.Fatalf("connections on relays 2 and 3 before the kill: %v", s.Open)
	}
	c.lb.Unpin()

	connected := connections(d)
	c.relays[0].relay.kill9()

	// The agent's end path: the session ends, the screen locks once.
	expectCutOff(t, d, p)
	// Back through the load balancer on its first retry.
	expectReconnect(t, d, connected)
	var retries []agentLog
	for _, l := range agentLogs(d.proc.Output()) {
		if l.Msg == "disconnected from relay; retrying" {
			retries = append(retries, l)
		}
	}
	if len(retries) != 1 {
		t.Fatalf("agent retried %d times before reaching a live relay, want 1: %+v", len(retries), retries)
	}
	if wait := time.Duration(retries[0].In); wait <= 0 || wait > time.Second {
		t.Fatalf("agent's first retry waited %v, want within the 1 s backoff minimum", wait)
	}
	if s := c.lb.Stats(); s.Open[0] != 0 {
		t.Fatalf("connections still counted on the killed relay: %v", s.Open)
	}

	reason := c.expectSwept(e, 0, rec)
	if n := d.locks(); n != 1 {
		t.Fatalf("the agent locked %d times for one session, want 1", n)
	}

	// Reachable again, from whichever relay each technician command lands
	// on: two sessions, so that at least one is brokered on a relay other
	// than the agent's.
	e.waitOnline(d.name)
	for i := range 2 {
		want := fmt.Sprintf("after-%d", i)
		if r := e.techRun("", "connect", d.name, "--", "echo", want); r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Fatalf("session %d after the kill: code %d, stdout %q, stderr %s", i, r.code, r.stdout, r.stderr)
		}
	}
	if s := c.lb.Stats(); s.Forwarded[1] == 0 || s.Forwarded[2] == 0 {
		t.Fatalf("the load balancer did not spread over the survivors: %v", s.Forwarded)
	}
	ended := findAudit(e.auditEntries(), "session.end")
	if len(findAuditWith(ended, reason)) != 1 {
		t.Fatalf("audit: want one session.end with %q among %v", reason, ended)
	}
	for i, r := range c.relays[1:] {
		r.relay.cmd.Process.Signal(os.Interrupt)
		select {
		case <-r.relay.done:
		case <-time.After(15 * time.Second):
			t.Fatalf("relay %s did not stop", c.ids[i+1])
		}
	}
	if r := run(t, e.dir, "", bin.relay, "audit", "verify", "--data", filepath.Join(c.relays[1].dir, "data"), "--store", c.store); r.code != 0 {
		t.Fatalf("audit verify of the shared chain: %s", r.stderr)
	}
}

// TestClusterHomeRelayKilled: the relay killed holds the session (the
// technician and the agent's session connection are on it) but not the
// agent's control connection, which is on another relay. The agent ends
// the session and locks once and stays connected; the survivors end the
// session in the record and mark its recording incomplete; a new session
// works at once.
func TestClusterHomeRelayKilled(t *testing.T) {
	t.Parallel()
	c := startLBCluster(t, 3)
	e := c.e
	d, p := c.liveSession(1, 0)
	rec := e.onlyRecording("recording")
	if s := c.lb.Stats(); s.Open[1] != 1 || s.Open[2] != 0 {
		t.Fatalf("connections open per relay: %v, want the agent's control connection alone on relay 2", s.Open)
	}
	c.lb.Unpin()
	connected := connections(d)

	c.relays[0].relay.kill9()
	expectCutOff(t, d, p)
	c.expectSwept(e, 0, rec)
	if n := d.locks(); n != 1 {
		t.Fatalf("the agent locked %d times for one session, want 1", n)
	}
	if n := connections(d); n != connected {
		t.Fatalf("the agent reconnected (%d connections, %d before) though its relay lives", n, connected)
	}
	if r := e.techRun("", "connect", d.name, "--", "echo", "after-kill"); r.code != 0 || !strings.Contains(r.stdout, "after-kill") {
		t.Fatalf("session after the kill: code %d, stdout %q, stderr %s", r.code, r.stdout, r.stderr)
	}
}

// lbSession is what TestClusterRelayKilled reads of a session.
type lbSession struct {
	ID        string `json:"id"`
	State     string `json:"state"`
	EndReason string `json:"end_reason"`
	Live      bool   `json:"live"`
}

// onlySession returns the cluster's one session.
func onlySession(t *testing.T, e *env) lbSession {
	t.Helper()
	r := e.techRun("", "sessions", "list", "--json")
	if r.code != 0 {
		t.Fatalf("sessions list: %s", r.stderr)
	}
	var ss []lbSession
	if err := json.Unmarshal([]byte(r.stdout), &ss); err != nil || len(ss) != 1 {
		t.Fatalf("sessions list --json: %v, %d sessions in %q", err, len(ss), r.stdout)
	}
	return ss[0]
}

// findAuditWith returns the entries whose details mention s.
func findAuditWith(entries []map[string]any, s string) []map[string]any {
	var out []map[string]any
	for _, m := range entries {
		if b, _ := json.Marshal(m["details"]); strings.Contains(string(b), s) {
			out = append(out, m)
		}
	}
	return out
}

// TestClusterControlRelayKilled: the relay killed holds only the agent's
// control connection; the session runs on another relay (the technician's
// and the agent's session connection both went there). The session goes
// on untouched while the agent reconnects its control connection through
// the load balancer, and ends (and locks the screen) only when the
// technician ends it.
func TestClusterControlRelayKilled(t *testing.T) {
	t.Parallel()
	c := startLBCluster(t, 3)
	e := c.e
	// The technician, and so the session's home, on relay 2.
	d, p := c.liveSession(0, 1)
	if s := c.lb.Stats(); s.Open[0] != 1 {
		t.Fatalf("connections open on relay 1, want the agent's control connection alone: %v", s.Open)
	}
	c.lb.Unpin()

	connected := connections(d)
	c.relays[0].relay.kill9()
	expectReconnect(t, d, connected)
	m := p.mark()
	p.send("echo after-$((50+8))\r")
	p.expectSince(m, "after-58", 10*time.Second)
	if n := d.locks(); n != 0 {
		t.Fatalf("the agent locked %d times while its session went on", n)
	}
	if s := onlySession(t, e); s.State == "ended" || !s.Live {
		t.Fatalf("the session after its device's control relay died: %+v", s)
	}
	p.send("exit 7\r")
	if code := p.exitCode(15 * time.Second); code != 7 {
		t.Fatalf("tech exited %d, want the shell's 7", code)
	}
	eventually(t, "screen lock at the session's end", 10*time.Second, func() bool { return d.locks() == 1 })
}
