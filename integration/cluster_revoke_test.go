package integration

import (
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/tlsconf"
)

// TestClusterRevokeClosesRemoteAgent: a technician's session held by
// relay 2 ends when relay 1 takes the role that allowed it. A device whose
// agent is connected to relay 1 is revoked through relay 2. Relay 2 has relay 1 close the
// agent's control connection at once (as a single relay closes its own),
// the agent exits saying its key was revoked, a restart of it is refused
// on every relay, and relay 1 audits the disconnection. A device removed
// through relay 2 is cut off the same way. Before that, relay 1 refuses
// peer requests to close a device that is not revoked, unknown or
// malformed, closes nothing and audits each refusal.
func TestClusterRevokeClosesRemoteAgent(t *testing.T) {
	t.Parallel()
	c := newClusterEnv(t, 2, "--cluster-heartbeat", clusterHeartbeat)
	e, e2 := c.relays[0], c.relays[1]
	ms := c.members()
	r1, r2 := ms[0], ms[1]
	d := e.enroll("far-1")
	e.runAgent(d, "exit 0")
	gone := e.enroll("far-2")
	e.runAgent(gone, "exit 0")
	for _, name := range []string{d.name, gone.name} {
		eventually(t, name+" online on relay 2", 15*time.Second, func() bool { return e.devicesAs(r2.tech)[name].Online })
	}
	devID, goneID := e.devicesAs(r1.tech)[d.name].ID, e.devicesAs(r1.tech)[gone.name].ID

	// A technician's session held by relay 2 ends when relay 1 takes away
	// the role that allowed it.
	boss := e.addUser("boss", "admin") // the superadmin manages administrators only
	helpdesk := e2.addUser("helpdesk", "technician")
	sh := start(t, e.dir, nil, bin.tech, "--config", helpdesk, "connect", d.name, "--", "sleep", "60")
	e2.liveSession()
	if r := run(t, e.dir, "", bin.tech, "--config", boss, "users", "revoke", "helpdesk", "technician"); r.code != 0 {
		t.Fatalf("users revoke through relay 1: %s", r.stderr)
	}
	select {
	case <-sh.done:
	case <-time.After(15 * time.Second):
		t.Fatal("the session held by relay 2 is still running after relay 1 took the user's role")
	}
	if !strings.Contains(sh.Output(), "role technician was removed") {
		t.Errorf("technician not told why the session ended: %q", sh.Output())
	}
	eventually(t, "no live session on relay 2", 10*time.Second, func() bool { return len(e.activeSessions(r2)) == 0 })
	eventually(t, "the agent to lock after the ended session", 10*time.Second, func() bool { return d.locks() == 1 })

	cluster, err := tlsconf.Load(filepath.Join(r1.data, "tls"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cert *tls.Certificate
		id   string
		code int
		want string
	}{
		{"no certificate", nil, devID, http.StatusForbidden, "not a relay of this cluster"},
		{"a device that is not revoked", &cluster, devID, http.StatusConflict, "neither revoked nor removed"},
		{"an unknown device", &cluster, ids.NewDeviceID().String(), http.StatusNotFound, "no such device"},
		{"a malformed ID", &cluster, "d_not-an-id", http.StatusBadRequest, "malformed device ID"},
		{"a path-like ID", &cluster, "..%2f..%2fsessions", http.StatusBadRequest, "malformed device ID"},
	} {
		code, got := peerPost(t, r1.url, tc.cert, "/v1/cluster/devices/"+tc.id+"/close", `{"reason":"hostile"}`)
		if code != tc.code || !strings.Contains(got, tc.want) {
			t.Errorf("%s: %d %s; want %d %q", tc.name, code, got, tc.code, tc.want)
		}
	}
	if code, got := peerPost(t, r1.url, &cluster, "/v1/cluster/devices/"+devID+"/close", `{"reason":"x","extra":1}`); code != http.StatusBadRequest {
		t.Errorf("unknown field: %d %s; want 400", code, got)
	}
	select {
	case <-d.proc.done:
		t.Fatalf("the refused requests closed the agent: %s", d.proc.Output())
	default:
	}
	if !e.devicesAs(r2.tech)[d.name].Online {
		t.Fatal("the refused requests took the device offline")
	}

	// A copy of the device's configuration connects to relay 2 too: the
	// two replace each other's connection in turn (as on a single relay)
	// while both retry. Revoking through relay 2 must stop both, wherever
	// each is connected at that moment.
	clone := start(t, e.dir, []string{"HOME=" + d.userHome}, bin.agent, "--config", agentHomeFor(t, d, r2.url), "run", "--lock-cmd", "true")
	eventually(t, "the copy on relay 2", 15*time.Second, func() bool { return agentsOn(t, e, r1)[r2.url] == 1 })

	if r := e.techOn(r2, "", "devices", "revoke", d.name); r.code != 0 {
		t.Fatalf("revoke through relay 2: %s", r.stderr)
	}
	select {
	case <-clone.done:
	case <-time.After(15 * time.Second):
		t.Fatal("the copy on relay 2 is still running after the revocation")
	}
	// Without the peer close the connection would stay open (kept alive)
	// until it dropped by itself: the bound only catches that.
	select {
	case <-d.proc.done:
	case <-time.After(15 * time.Second):
		t.Fatal("the agent on relay 1 is still running after its revocation through relay 2")
	}
	if !strings.Contains(d.proc.Output(), "revoked by an administrator") {
		t.Errorf("agent did not say its key was revoked: %q", d.proc.Output())
	}
	for i, m := range ms {
		again := start(t, e.dir, []string{"HOME=" + d.userHome}, bin.agent, "--config", agentHomeFor(t, d, m.url), "run", "--lock-cmd", "true")
		select {
		case <-again.done:
		case <-time.After(20 * time.Second):
			t.Fatalf("a revoked device's agent kept running on relay %d", i+1)
		}
		if !strings.Contains(again.Output(), "revoked by an administrator") {
			t.Errorf("restart on relay %d: %q", i+1, again.Output())
		}
	}
	if got := e.devicesAs(r2.tech)[d.name]; got.Online || got.RevokedAt.IsZero() {
		t.Errorf("relay 2 lists the revoked device as %+v", got)
	}

	if r := e.techOn(r2, "", "devices", "remove", gone.name); r.code != 0 {
		t.Fatalf("remove through relay 2: %s", r.stderr)
	}
	select {
	case <-gone.proc.done:
	case <-time.After(15 * time.Second):
		t.Fatal("the agent on relay 1 is still running after its removal through relay 2")
	}
	if !strings.Contains(gone.proc.Output(), "removed by an administrator") {
		t.Errorf("agent did not say it was removed: %q", gone.proc.Output())
	}

	audit := e.techOn(r2, "", "audit", "export").stdout
	// (The revoked device's own close may have been relay 2's, unaudited:
	// "device revoked by admin" is not required.)
	for _, want := range []string{`"device.revoke"`, `"device.remove"`, `"reason":"device removed by admin"`,
		`"user.revoke_tokens"`, `"reason":"role technician was removed"`} {
		if !strings.Contains(audit, want) {
			t.Errorf("audit log lacks %s", want)
		}
	}
	blocked := map[string]int{}
	for _, line := range strings.Split(audit, "\n") {
		if strings.Contains(line, `"device.disconnect"`) && strings.Contains(line, `"reason":"device re`) {
			for _, id := range []string{devID, goneID} {
				if strings.Contains(line, `"target":"`+id+`"`) {
					blocked[id]++
				}
			}
		}
	}
	// The removed device was on relay 1 alone; the revoked one may have
	// been on relay 2 (closed there, by relay 2 itself) at that moment.
	if blocked[goneID] != 1 || blocked[devID] > 1 {
		t.Errorf("device.disconnect entries of a blocked device by device: %v, want one for %s (relay 1 closing it once)", blocked, gone.name)
	}
	if closeRefused := countLines(audit, `"action":"cluster.peer"`, `/close"`, `"outcome":"failure"`); closeRefused < 6 {
		t.Errorf("%d refused peer close requests audited, want the 6 refusals (403, 409, 404, three 400)", closeRefused)
	}
	if n := strings.Count(audit, `"device.auth"`); n < 4 {
		t.Errorf("%d device.auth entries, want the refused reconnections", n)
	}
}

// peerPost POSTs body to path on the relay at url, presenting cert (the
// cluster certificate, another one, or none).
func peerPost(t *testing.T, url string, cert *tls.Certificate, path, body string) (int, string) {
	t.Helper()
	return peerPostAs(t, url, cert, "", path, body)
}

// peerPostAs is peerPost with a bearer token too, unless it is empty.
func peerPostAs(t *testing.T, url string, cert *tls.Certificate, bearer, path, body string) (int, string) {
	t.Helper()
	cfg := &tls.Config{InsecureSkipVerify: true} // test probe; the pin is not the point here
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
	defer c.CloseIdleConnections()
	req, err := http.NewRequest(http.MethodPost, url+path, strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// agentHomeFor copies d's agent configuration into a new directory with
// the relay URL changed to url: the same device and key, another relay of
// the cluster.
func agentHomeFor(t *testing.T, d *device, url string) string {
	t.Helper()
	home := t.TempDir()
	err := filepath.WalkDir(d.home, func(p string, de os.DirEntry, err error) error {
		if err != nil || p == d.home {
			return err
		}
		to := filepath.Join(home, strings.TrimPrefix(p, d.home+string(filepath.Separator)))
		if de.IsDir() {
			return os.Mkdir(to, 0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(to, b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(home, "agent.json")
	var st map[string]any
	if err := json.Unmarshal([]byte(mustRead(t, p)), &st); err != nil {
		t.Fatal(err)
	}
	st["relay"] = url
	b, _ := json.Marshal(st)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return home
}

// agentsOn returns the agents each live relay holds, by advertise URL, as
// `relay cluster status` reports them from m's data directory.
func agentsOn(t *testing.T, e *env, m *member) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, x := range clusterStatus(t, e, m) {
		if x.Live {
			out[x.Advertise] = x.Agents
		}
	}
	return out
}
