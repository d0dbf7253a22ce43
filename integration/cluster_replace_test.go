package integration

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/tlsconf"
)

// TestClusterNewerConnectionReplacesOlder: a device's agent is connected
// to relay 1; a copy of its configuration connects to relay 2. Relay 1
// closes the older connection as a single relay does ("replaced by a
// newer connection from the same device", audited there), so the cluster
// holds one connection of the device, the one its presence row names, and
// the device is reached through either relay. Before that, relay 1 refuses
// peer claims its presence row does not back (another relay's, its own,
// none, an unknown or malformed device, a stray field) and closes nothing;
// each refusal is audited.
func TestClusterNewerConnectionReplacesOlder(t *testing.T) {
	t.Parallel()
	e, ms, d := clusterWithAgent(t, "twin")
	r1, r2 := ms[0], ms[1]
	devID := e.devicesAs(r1.tech)[d.name].ID
	id1 := strings.TrimSpace(mustRead(t, filepath.Join(r1.data, "relay-id")))
	id2 := strings.TrimSpace(mustRead(t, filepath.Join(r2.data, "relay-id")))
	cluster, err := tlsconf.Load(filepath.Join(r1.data, "tls"))
	if err != nil {
		t.Fatal(err)
	}
	since := time.Now().UTC().Format(time.RFC3339Nano)
	path := "/v1/cluster/devices/" + devID + "/replace"
	refusals := []struct {
		name, path, body string
		code             int
		want             string
	}{
		{"relay 2, whose connection the row does not name (a race's loser)", path, fmt.Sprintf(`{"relay":%q,"since":%q}`, id2, since), http.StatusConflict, "presence does not name that connection"},
		{"a relay the cluster never had", path, fmt.Sprintf(`{"relay":"r_made_up","since":%q}`, since), http.StatusConflict, "presence does not name that connection"},
		{"relay 1 itself, which the row names", path, fmt.Sprintf(`{"relay":%q,"since":%q}`, id1, since), http.StatusBadRequest, "relay must name another relay"},
		{"no relay", path, fmt.Sprintf(`{"since":%q}`, since), http.StatusBadRequest, "relay must name another relay"},
		{"an unknown device", "/v1/cluster/devices/" + ids.NewDeviceID().String() + "/replace", fmt.Sprintf(`{"relay":%q,"since":%q}`, id2, since), http.StatusConflict, "presence does not name that connection"},
		{"a malformed ID", "/v1/cluster/devices/d_not-an-id/replace", fmt.Sprintf(`{"relay":%q,"since":%q}`, id2, since), http.StatusBadRequest, "malformed device ID"},
		{"a stray field", path, fmt.Sprintf(`{"relay":%q,"since":%q,"force":true}`, id2, since), http.StatusBadRequest, "unknown field"},
		{"a malformed time", path, fmt.Sprintf(`{"relay":%q,"since":"yesterday"}`, id2), http.StatusBadRequest, ""},
	}
	for _, tc := range refusals {
		if code, got := peerPost(t, r1.url, &cluster, tc.path, tc.body); code != tc.code || !strings.Contains(got, tc.want) {
			t.Errorf("%s: %d %s; want %d %q", tc.name, code, got, tc.code, tc.want)
		}
	}
	if code, got := peerPost(t, r1.url, nil, path, fmt.Sprintf(`{"relay":%q,"since":%q}`, id2, since)); code != http.StatusForbidden {
		t.Errorf("no certificate: %d %s; want 403", code, got)
	}
	select {
	case <-d.proc.done:
		t.Fatalf("the refused claims stopped the agent: %s", d.proc.Output())
	default:
	}
	if strings.Contains(d.proc.Output(), "replaced") || agentsOn(t, e, r1)[r1.url] != 1 {
		t.Fatalf("the refused claims closed the agent's connection: %s", d.proc.Output())
	}

	// The copy on relay 2 replaces the original on relay 1.
	clone := start(t, e.dir, []string{"HOME=" + d.userHome}, bin.agent, "--config", agentHomeFor(t, d, r2.url), "run",
		"--lock-cmd", "true", "--consent-cmd", "exit 0")
	eventually(t, "relay 1 to close the older connection", 15*time.Second, func() bool {
		return strings.Contains(d.proc.Output(), "replaced by a newer connection from the same device")
	})
	// The original retries as on a single relay (and would replace the
	// copy in turn); stopped, it leaves the copy alone in the cluster.
	d.proc.kill9()
	eventually(t, "the copy alone, on relay 2", 15*time.Second, func() bool {
		on := agentsOn(t, e, r1)
		return on[r1.url] == 0 && on[r2.url] == 1
	})
	for i, m := range ms {
		marker := fmt.Sprintf("through-relay-%d", i+1)
		if r := e.techOn(m, "", "connect", d.name, "--", "echo", marker); r.code != 0 || !strings.Contains(r.stdout, marker) {
			t.Errorf("session through relay %d to the copy on relay 2: %d %s %s", i+1, r.code, r.stdout, r.stderr)
		}
	}
	select {
	case <-clone.done:
		t.Fatalf("the copy stopped: %s", clone.Output())
	default:
	}

	audit := e.techOn(r2, "", "audit", "export").stdout
	if countLines(audit, `"device.disconnect"`, `"reason":"replaced by a newer connection from the same device"`, `"relay":"`+id2+`"`) == 0 {
		t.Errorf("relay 1 did not audit closing the replaced connection")
	}
	// Each refusal is audited (a source's first failures of a window in
	// full, the rest in a summary), the 403 included.
	if refused := countLines(audit, `"action":"cluster.peer"`, `/replace"`, `"outcome":"failure"`); refused < len(refusals) {
		t.Errorf("%d audited refusals of replace claims, want %d", refused, len(refusals))
	}
}

// TestClusterRejoinKeepsNewerPresence: relay 1, holding a device's
// connection, stops answering long enough for relay 2 to sweep it (its row
// and the device's presence deleted) while the connection stays open.
// Meanwhile a copy of the device connects to relay 2. When relay 1 comes
// back and registers again, it does not point the presence back at its
// own, older connection: it finds relay 2's newer row and closes its
// connection as replaced.
func TestClusterRejoinKeepsNewerPresence(t *testing.T) {
	t.Parallel()
	e, ms, d := clusterWithAgent(t, "sleeper")
	r1, r2 := ms[0], ms[1]

	if err := r1.proc.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	resumed := false
	resume := func() {
		if !resumed {
			resumed = true
			r1.proc.cmd.Process.Signal(syscall.SIGCONT)
		}
	}
	defer resume()
	eventually(t, "relay 2 to sweep relay 1", 15*time.Second, func() bool { return !relaysListed(t, e, r2)[r1.url] })
	clone := start(t, e.dir, []string{"HOME=" + d.userHome}, bin.agent, "--config", agentHomeFor(t, d, r2.url), "run",
		"--lock-cmd", "true", "--consent-cmd", "exit 0")
	eventually(t, "the copy on relay 2", 15*time.Second, func() bool { return agentsOn(t, e, r2)[r2.url] == 1 })
	resume()

	eventually(t, "relay 1, back, to close its older connection", 15*time.Second, func() bool {
		return strings.Contains(d.proc.Output(), "replaced by a newer connection from the same device")
	})
	if !strings.Contains(r1.proc.Output(), "registering again") {
		t.Errorf("relay 1 did not register again: %s", r1.proc.Output())
	}
	d.proc.kill9()
	eventually(t, "the copy alone, on relay 2", 15*time.Second, func() bool {
		on := agentsOn(t, e, r1)
		return on[r1.url] == 0 && on[r2.url] == 1
	})
	if r := e.techOn(r1, "", "connect", d.name, "--", "echo", "after-rejoin"); r.code != 0 || !strings.Contains(r.stdout, "after-rejoin") {
		t.Errorf("session through relay 1 to the copy on relay 2: %d %s %s", r.code, r.stdout, r.stderr)
	}
	select {
	case <-clone.done:
		t.Fatalf("the copy stopped: %s", clone.Output())
	default:
	}
}

// clusterWithAgent starts two relays of a cluster (newCluster) and the
// agent of a device enrolled as name, and waits for it on relay 1.
func clusterWithAgent(t *testing.T, name string) (*env, []*member, *device) {
	t.Helper()
	e, ms := newCluster(t, 2)
	d := e.enroll(name)
	e.runAgent(d, "exit 0")
	eventually(t, "the agent on relay 1", 15*time.Second, func() bool { return agentsOn(t, e, ms[0])[ms[0].url] == 1 })
	return e, ms, d
}

// relaysListed returns the advertise URLs of every relay registered,
// live or not, as `relay cluster status` reports them from m's data
// directory.
func relaysListed(t *testing.T, e *env, m *member) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, x := range clusterStatus(t, e, m) {
		out[x.Advertise] = true
	}
	return out
}

// TestClusterSimultaneousConnections: the same device's agent starts on
// relay 1 and, at the same moment, a copy of it on relay 2. Once one of
// them has been replaced, both processes are frozen (no reconnection):
// exactly one relay still holds a connection of the device, and it is the
// relay its presence row names. Thawed alone, the survivor serves a
// session through either relay. Three rounds.
func TestClusterSimultaneousConnections(t *testing.T) {
	t.Parallel()
	c := newClusterEnv(t, 2, "--cluster-heartbeat", clusterHeartbeat)
	e, ms := c.relays[0], c.members()
	r1 := ms[0]
	d := e.enroll("race")
	homes := []string{agentHomeFor(t, d, c.relays[0].url), agentHomeFor(t, d, c.relays[1].url)}
	held := func() []int {
		out := make([]int, len(c.relays))
		for i, x := range c.relays {
			out[i] = int(metricValue(x.scrape(), "tether_agents_connected"))
		}
		return out
	}
	for round := range 3 {
		agents := make([]*proc, len(homes))
		for i, home := range homes {
			agents[i] = start(t, e.dir, []string{"HOME=" + d.userHome}, bin.agent, "--config", home, "run",
				"--lock-cmd", "true", "--consent-cmd", "exit 0")
		}
		eventually(t, fmt.Sprintf("round %d: one connection replaced", round), 20*time.Second, func() bool {
			return strings.Contains(agents[0].Output()+agents[1].Output(), "replaced by a newer connection from the same device")
		})
		for _, a := range agents {
			a.cmd.Process.Signal(syscall.SIGSTOP)
		}
		var survivor int
		eventually(t, fmt.Sprintf("round %d: one relay holding the device, the one its presence names", round), 20*time.Second, func() bool {
			h := held()
			on := agentsOn(t, e, r1)
			if h[0]+h[1] != 1 {
				return false
			}
			survivor = 0
			if h[1] == 1 {
				survivor = 1
			}
			return on[c.relays[survivor].url] == 1 && on[c.relays[1-survivor].url] == 0
		})
		agents[1-survivor].cmd.Process.Signal(syscall.SIGCONT)
		agents[1-survivor].kill9()
		agents[survivor].cmd.Process.Signal(syscall.SIGCONT)
		for i, m := range ms {
			marker := fmt.Sprintf("round-%d-relay-%d", round, i+1)
			if r := e.techOn(m, "", "connect", d.name, "--", "echo", marker); r.code != 0 || !strings.Contains(r.stdout, marker) {
				t.Errorf("round %d: session through relay %d to the survivor on relay %d: %d %s %s", round, i+1, survivor+1, r.code, r.stdout, r.stderr)
			}
		}
		agents[survivor].kill9()
		eventually(t, fmt.Sprintf("round %d: the device offline", round), 15*time.Second, func() bool {
			h := held()
			return h[0]+h[1] == 0
		})
	}
}
