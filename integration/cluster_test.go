package integration

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"math/big"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/tlsconf"
)

// clusterHeartbeat is the test clusters' heartbeat: short, so that an
// expiry (5 heartbeats) is quick, yet far above a loaded machine's stalls.
const clusterHeartbeat = "300ms"

// member is one relay of a test cluster: its data directory, process,
// URL and a tech config signed in to it as the admin.
type member struct {
	data string
	proc *proc
	url  string
	tech string
}

// newCluster starts n relays of one cluster (newClusterEnv: relay init,
// cluster export, cluster join) with a short heartbeat, and returns relay
// 1's env and every relay as a member.
func newCluster(t *testing.T, n int) (*env, []*member) {
	t.Helper()
	c := newClusterEnv(t, n, "--cluster-heartbeat", clusterHeartbeat)
	return c.relays[0], c.members()
}

// members returns every relay of c as a member.
func (c *clusterEnv) members() []*member {
	ms := make([]*member, len(c.relays))
	for i, e := range c.relays {
		ms[i] = &member{data: filepath.Join(e.dir, "data"), proc: e.relay, url: e.url, tech: e.tech}
	}
	return ms
}

// relayStatus is one relay of `relay cluster status --json`.
type relayStatus struct {
	Advertise string `json:"advertise"`
	Live      bool   `json:"live"`
	Agents    int    `json:"agents"`
}

// clusterStatus returns every relay registered, live or not, as
// `relay cluster status --json` reports them from m's data directory.
func clusterStatus(t *testing.T, e *env, m *member) []relayStatus {
	t.Helper()
	r := run(t, e.dir, "", bin.relay, "cluster", "status", "--data", m.data, "--json")
	if r.code != 0 {
		t.Fatalf("cluster status: %s", r.stderr)
	}
	var relays []relayStatus
	if err := json.Unmarshal([]byte(r.stdout), &relays); err != nil {
		t.Fatalf("cluster status --json: %v %q", err, r.stdout)
	}
	return relays
}

// countLines returns how many lines of text contain every one of subs
// (audit entries of one kind in an export).
func countLines(text string, subs ...string) int {
	n := 0
	for _, line := range strings.Split(text, "\n") {
		all := true
		for _, s := range subs {
			all = all && strings.Contains(line, s)
		}
		if all {
			n++
		}
	}
	return n
}

// techOn runs tech signed in to relay m.
func (e *env) techOn(m *member, stdin string, args ...string) result {
	e.t.Helper()
	return run(e.t, e.dir, stdin, bin.tech, append([]string{"--config", m.tech}, args...)...)
}

// activeSessions lists the IDs of the live sessions relay m reports.
func (e *env) activeSessions(m *member) []string {
	e.t.Helper()
	r := e.techOn(m, "", "sessions", "list", "--active", "--json")
	if r.code != 0 {
		e.t.Fatalf("sessions list --active: %s", r.stderr)
	}
	var ss []struct {
		ID   string `json:"id"`
		Live bool   `json:"live"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &ss); err != nil {
		e.t.Fatalf("sessions list --json: %v: %q", err, r.stdout)
	}
	var out []string
	for _, s := range ss {
		if s.Live {
			out = append(out, s.ID)
		}
	}
	return out
}

// TestClusterThreeRelays: three relays on one PostgreSQL database. The
// agent is connected to relay 1, the technician to relay 2: an interactive
// PTY session and a file copy work through both relays (the agent's
// session connection, made to relay 1, is spliced to relay 2, which holds
// the session). Relay 3 offers the same device too, lists relay 2's live
// session, and its admin's kill ends it on relay 2 within a second (the
// agent locks once). relay cluster status shows the three, and the one
// shared audit chain verifies.
func TestClusterThreeRelays(t *testing.T) {
	t.Parallel()
	e, ms := newCluster(t, 3)
	r1, r2, r3 := ms[0], ms[1], ms[2]
	d := e.enroll("pc-1")
	e.runAgent(d, "exit 0")
	for _, m := range []*member{r2, r3} {
		if r := e.techOn(m, "", "devices", "list", "--json"); !strings.Contains(r.stdout, `"name":"pc-1","group":"default","online":true`) {
			t.Fatalf("relay at %s does not list pc-1 online: %s %s", m.url, r.stdout, r.stderr)
		}
	}

	p := startPTY(t, e.dir, bin.tech, "--config", r2.tech, "connect", d.name)
	p.expect("Consent granted", 15*time.Second)
	p.send("echo across-$((40+2))\r")
	p.expect("across-42", 10*time.Second)
	p.send("exit 5\r")
	if code := p.exitCode(15 * time.Second); code != 5 {
		t.Fatalf("tech exited %d, want the shell's status 5\n%s", code, p.screen())
	}
	eventually(t, "screen lock after the session", 10*time.Second, func() bool { return d.locks() == 1 })

	src := filepath.Join(e.dir, "payload.bin")
	writeRandom(t, src, 3<<20+17, 0o640)
	if r := e.techOn(r2, "", "cp", src, d.name+":payload.bin"); r.code != 0 {
		t.Fatalf("tech cp through relay 2: %s", r.stderr)
	}
	sameFile(t, src, filepath.Join(d.userHome, "payload.bin"))
	back := filepath.Join(e.dir, "payload.back")
	if r := e.techOn(r2, "", "cp", d.name+":payload.bin", back); r.code != 0 {
		t.Fatalf("tech cp back through relay 2: %s", r.stderr)
	}
	sameFile(t, src, back)

	// The device, online on relay 1, is offered from relay 3 as well.
	if r := e.techOn(r3, "", "connect", d.name, "--", "echo", "from-relay-3"); r.code != 0 || !strings.Contains(r.stdout, "from-relay-3") {
		t.Fatalf("session from relay 3: code %d %q %s", r.code, r.stdout, r.stderr)
	}

	// A long session held by relay 2, killed by relay 3's admin.
	marker := "7" + time.Now().Format("150405.000000")[7:]
	tech := start(t, e.dir, nil, bin.tech, "--config", r2.tech, "connect", d.name, "--", "sleep", "9"+marker)
	eventually(t, "remote sleep to run", 15*time.Second, func() bool { return pgrep("sleep 9" + marker) })
	var id string
	eventually(t, "relay 3 to list relay 2's live session", 10*time.Second, func() bool {
		ids := e.activeSessions(r3)
		if len(ids) == 1 {
			id = ids[0]
		}
		return id != ""
	})
	if ids := e.activeSessions(r1); len(ids) != 1 || ids[0] != id {
		t.Fatalf("relay 1 lists live sessions %v, want [%s]", ids, id)
	}
	locks := d.locks()
	t0 := time.Now()
	if r := e.techOn(r3, "", "sessions", "kill", id); r.code != 0 {
		t.Fatalf("kill from relay 3: %s", r.stderr)
	}
	eventually(t, "the session to end on relay 2", 15*time.Second, func() bool { return len(e.activeSessions(r2)) == 0 })
	t.Logf("session held by relay 2 ended %v after relay 3's kill", time.Since(t0).Round(time.Millisecond))
	eventually(t, "remote process to be killed", 10*time.Second, func() bool { return !pgrep("sleep 9" + marker) })
	eventually(t, "one screen lock for the killed session", 10*time.Second, func() bool { return d.locks() == locks+1 })
	select {
	case <-tech.done:
	case <-time.After(10 * time.Second):
		t.Fatal("tech did not exit after the kill")
	}
	if !strings.Contains(tech.Output(), "terminated by admin") {
		t.Errorf("technician was not told who ended it:\n%s", tech.Output())
	}
	show := e.techOn(r1, "", "sessions", "show", id)
	if show.code != 0 || !strings.Contains(show.stdout, "terminated by admin") {
		t.Errorf("session record after the kill: %s %s", show.stdout, show.stderr)
	}
	time.Sleep(300 * time.Millisecond)
	if n := d.locks(); n != locks+1 {
		t.Fatalf("the agent locked %d times for one kill", n-locks)
	}

	relays := clusterStatus(t, e, r1)
	if len(relays) != 3 {
		t.Fatalf("cluster status --json lists %d relays, want 3: %+v", len(relays), relays)
	}
	agents := map[string]int{}
	for _, x := range relays {
		if !x.Live {
			t.Errorf("relay %s not live", x.Advertise)
		}
		agents[x.Advertise] = x.Agents
	}
	if agents[r1.url] != 1 || agents[r2.url] != 0 || agents[r3.url] != 0 {
		t.Errorf("agents per relay: %v; want 1 on relay 1 (%s)", agents, r1.url)
	}
	// Revoking the device on relay 3 ends its session held by relay 2.
	marker2 := "6" + time.Now().Format("150405.000000")[7:]
	start(t, e.dir, nil, bin.tech, "--config", r2.tech, "connect", d.name, "--", "sleep", "9"+marker2)
	eventually(t, "second remote sleep to run", 15*time.Second, func() bool { return pgrep("sleep 9" + marker2) })
	if r := e.techOn(r3, "", "devices", "revoke", d.name); r.code != 0 {
		t.Fatalf("revoke on relay 3: %s", r.stderr)
	}
	eventually(t, "the revoked device's session on relay 2 to end", 15*time.Second, func() bool { return len(e.activeSessions(r2)) == 0 })
	eventually(t, "its remote process to be killed", 10*time.Second, func() bool { return !pgrep("sleep 9" + marker2) })

	audit := e.techOn(r3, "", "audit", "export").stdout
	for _, want := range []string{`"session.terminate"`, `"session.file"`, `"session.end"`} {
		if !strings.Contains(audit, want) {
			t.Errorf("the shared audit log lacks %s", want)
		}
	}
	if r := run(t, e.dir, "", bin.relay, "audit", "verify", "--data", r2.data); r.code != 0 {
		t.Fatalf("audit verify on the shared chain: %s", r.stderr)
	}
}

// TestClusterPeerRefusesStrangers: the relay-to-relay endpoints serve only
// a client presenting the cluster certificate. No certificate, another
// self-signed certificate, a certificate copying the cluster certificate's
// subject and names with another key, and an administrator's valid token
// replayed over a plain client all get 403 and an audit entry; the cluster
// certificate itself gets through (here: to "device offline").
func TestClusterPeerRefusesStrangers(t *testing.T) {
	t.Parallel()
	e, ms := newCluster(t, 1)
	tlsDir := filepath.Join(ms[0].data, "tls")
	cluster, err := tlsconf.Load(tlsDir)
	if err != nil {
		t.Fatal(err)
	}
	tok := adminToken(t, e)
	body := `{"device":"d1","session":{"id":"s","device_id":"d1"},"attach_token":"x"}`
	post := func(cert *tls.Certificate, bearer, path string) (int, string) {
		return peerPostAs(t, e.url, cert, bearer, path, body)
	}
	other := selfSigned(t, nil)
	twin := selfSigned(t, cluster.Leaf)
	for _, tc := range []struct {
		name   string
		cert   *tls.Certificate
		bearer string
	}{
		{"no certificate", nil, ""},
		{"another self-signed certificate", other, ""},
		{"same subject and names, another key", twin, ""},
		{"an admin's token over a plain client", nil, tok},
		{"an admin's token with another certificate", other, tok},
	} {
		for _, path := range []string{"/v1/cluster/offer", "/v1/cluster/sessions/0123456789abcdef0123456789abcdef/end",
			"/v1/cluster/devices/" + ids.NewDeviceID().String() + "/close", "/v1/cluster/devices/" + ids.NewDeviceID().String() + "/replace"} {
			code, got := post(tc.cert, tc.bearer, path)
			if code != http.StatusForbidden || !strings.Contains(got, "not a relay of this cluster") {
				t.Errorf("%s, %s: %d %s; want 403 not a relay of this cluster", tc.name, path, code, got)
			}
		}
	}
	// The spliced-agent endpoint (a WebSocket) refuses before upgrading.
	req, _ := http.NewRequest(http.MethodGet, e.url+"/v1/cluster/agent-session", nil)
	req.Header.Set("Tether-Peer-Kind", "attach")
	req.Header.Set("Tether-Peer-Source", "127.0.0.1")
	if resp, err := insecureClient().Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("agent-session without the cluster certificate: %v %v", resp, err)
	}
	if code, got := post(&cluster, "", "/v1/cluster/offer"); code != http.StatusConflict || !strings.Contains(got, "device offline") {
		t.Fatalf("the cluster certificate: %d %s; want 409 device offline", code, got)
	}
	// A relay's request bodies are checked like everyone's.
	body = `{"not_a_field":1}`
	for _, path := range []string{"/v1/cluster/offer", "/v1/cluster/sessions/0123456789abcdef0123456789abcdef/end",
		"/v1/cluster/devices/" + ids.NewDeviceID().String() + "/close", "/v1/cluster/devices/" + ids.NewDeviceID().String() + "/replace"} {
		if code, got := post(&cluster, "", path); code != http.StatusBadRequest || !strings.Contains(got, `unknown field \"not_a_field\"`) {
			t.Errorf("%s with an unknown field: %d %s; want 400", path, code, got)
		}
	}
	body = `{"reason":"x"}`
	if code, got := post(&cluster, "", "/v1/cluster/sessions/0123456789abcdef0123456789abcdef/end"); code != http.StatusNotFound {
		t.Errorf("end of an unknown session: %d %s; want 404", code, got)
	}
	audit := e.techRun("", "audit", "export").stdout
	if n := strings.Count(audit, `"cluster.peer"`); n < 3 {
		t.Fatalf("%d cluster.peer entries in the audit log, want the refusals", n)
	}
}

// adminToken returns the admin's sign-in token from the env's tech config.
func adminToken(t *testing.T, e *env) string {
	t.Helper()
	return strings.TrimSpace(mustRead(t, filepath.Join(e.tech, "token")))
}

// selfSigned makes a certificate with a fresh key; with like, it copies
// like's subject, names and validity (a look-alike of the cluster
// certificate).
func selfSigned(t *testing.T, like *x509.Certificate) *tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth}}
	if like != nil {
		tmpl.Subject, tmpl.DNSNames, tmpl.IPAddresses = like.Subject, like.DNSNames, like.IPAddresses
		tmpl.NotBefore, tmpl.NotAfter, tmpl.SerialNumber = like.NotBefore, like.NotAfter, like.SerialNumber
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// TestClusterDeadHomeRelay: the relay holding a session (the
// technician's, relay 2) is killed with SIGKILL mid-session while the
// agent is on relay 1. The agent's spliced connection drops and it locks;
// once relay 2 misses 5 heartbeats the other relays sweep it: the session
// record ends with "relay ID stopped", its recording is incomplete, relay
// 2 leaves the cluster status; a new session through relay 3 works. When
// relay 2 restarts it registers again and the cluster has three relays.
func TestClusterDeadHomeRelay(t *testing.T) {
	t.Parallel()
	c := newClusterEnv(t, 3, "--cluster-heartbeat", clusterHeartbeat)
	e, ms := c.relays[0], c.members()
	r1, r2, r3 := ms[0], ms[1], ms[2]
	d := e.enroll("pc-1")
	e.runAgent(d, "exit 0")

	marker := "8" + time.Now().Format("150405.000000")[7:]
	start(t, e.dir, nil, bin.tech, "--config", r2.tech, "connect", d.name, "--", "sleep", "9"+marker)
	eventually(t, "remote sleep to run", 15*time.Second, func() bool { return pgrep("sleep 9" + marker) })
	if ids := e.activeSessions(r1); len(ids) != 1 {
		t.Fatalf("live sessions on relay 1: %v", ids)
	}
	rec := e.onlyRecording("recording")
	r2.proc.kill9()
	eventually(t, "the agent to lock", 15*time.Second, func() bool { return d.locks() == 1 })
	eventually(t, "remote process to be killed", 10*time.Second, func() bool { return !pgrep("sleep 9" + marker) })
	reason := c.expectSwept(e, 1, rec)
	if live := e.activeSessions(r3); len(live) != 0 {
		t.Fatalf("relay 3 still lists live sessions %v", live)
	}
	if r := e.techOn(r3, "", "connect", d.name, "--", "echo", "after-the-sweep"); r.code != 0 || !strings.Contains(r.stdout, "after-the-sweep") {
		t.Fatalf("session through relay 3 after relay 2 died: %q %s", r.stdout, r.stderr)
	}
	audit := e.techOn(r1, "", "audit", "export").stdout
	if !strings.Contains(audit, reason) || !strings.Contains(audit, `"recording.incomplete"`) {
		t.Errorf("the audit log lacks the sweep's session.end or recording.incomplete")
	}

	r2.proc = start(t, e.dir, nil, bin.relay, "serve", "--data", r2.data, "--listen", "127.0.0.1:0",
		"--metrics-listen", "off", "--cluster-heartbeat", clusterHeartbeat)
	eventually(t, "relay 2 to register again", 20*time.Second, func() bool {
		r := run(t, e.dir, "", bin.relay, "cluster", "status", "--data", r1.data)
		return r.code == 0 && strings.Contains(r.stdout, c.ids[1])
	})
	if r := run(t, e.dir, "", bin.relay, "audit", "verify", "--data", r3.data); r.code != 0 {
		t.Fatalf("audit verify on the shared chain: %s", r.stderr)
	}
}

// TestClusterAttendedJoin: a technician on relay 2 opens an attended
// session; the person at the device joins with the code through relay 1,
// which finds the session held by relay 2, puts the code back and splices
// the join there. A wrong code through relay 1 is refused as usual.
func TestClusterAttendedJoin(t *testing.T) {
	t.Parallel()
	e, ms := newCluster(t, 2)
	r1, r2 := ms[0], ms[1]
	bad := e.agentJoin("attended-bad", "ABCDE-FGHJK", r1.url)
	if bad.code == 0 || !strings.Contains(bad.stderr, "join code is invalid") {
		t.Fatalf("a wrong code: code %d %q", bad.code, bad.stderr)
	}
	tech := start(t, e.dir, nil, bin.tech, "--config", r2.tech, "session", "new", "--", "echo", "attended-across")
	code := joinCode(t, tech)
	r := e.agentJoin("attended", code, r1.url)
	if r.code != 0 {
		t.Fatalf("agent join through relay 1: code %d %q", r.code, r.stderr)
	}
	select {
	case <-tech.done:
	case <-time.After(15 * time.Second):
		t.Fatal("tech session new did not finish")
	}
	if !strings.Contains(tech.Output(), "attended-across") {
		t.Fatalf("the attended session's output did not reach the technician:\n%s", tech.Output())
	}
	// The code works once: it was consumed again by relay 2.
	again := e.agentJoin("attended2", code, r1.url)
	if again.code == 0 {
		t.Fatal("a used join code was accepted again")
	}
	audit := e.techOn(r2, "", "audit", "export").stdout
	var joined bool
	for _, l := range lines(audit) {
		if strings.Contains(l, `"session.join"`) && strings.Contains(l, `"success"`) && strings.Contains(l, `"source":"127.0.0.1"`) {
			joined = true
		}
	}
	if !joined {
		t.Error("no successful session.join from the agent's own address in the audit log")
	}
}
