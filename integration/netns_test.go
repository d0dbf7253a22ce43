package integration

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pion/stun/v4"
	"golang.org/x/sys/unix"
)

// netLab is three network namespaces made by a test: "relay", a router
// between two links, "tech" on TEST-NET-1 (192.0.2.0/24) and "dev" on
// TEST-NET-2 (198.51.100.0/24). Both peers reach the relay, and each other
// through the router without the relay. All three are removed when the
// test ends, whatever happened.
type netLab struct {
	t                *testing.T
	relay, tech, dev string // namespace names
}

// Addresses of the lab.
const (
	labRelayA = "192.0.2.1"    // the relay on the technician's link
	labTech   = "192.0.2.2"    //
	labRelayB = "198.51.100.1" // the relay on the device's link
	labDev    = "198.51.100.2" //
)

// newNetLab makes the namespaces, or skips the test where they cannot be
// made (no root, no ip(8) outside CI, a kernel or container that refuses).
func newNetLab(t *testing.T) *netLab {
	t.Helper()
	if _, err := exec.LookPath("ip"); err != nil {
		if os.Getenv("TETHER_CI") != "" {
			t.Fatal("ip not installed (Debian package: iproute2)")
		}
		t.Skip("ip not installed (Debian package: iproute2); skipping the network namespace test")
	}
	if os.Geteuid() != 0 {
		t.Skip("network namespaces need root; skipping the network namespace test")
	}
	id := fmt.Sprintf("t15-%d-%d", os.Getpid(), time.Now().UnixNano()%1e6)
	l := &netLab{t: t, relay: id + "-r", tech: id + "-a", dev: id + "-b"}
	if out, err := exec.Command("ip", "netns", "add", l.relay).CombinedOutput(); err != nil {
		t.Skipf("cannot make a network namespace here (%v: %s); skipping the network namespace test", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		for _, ns := range []string{l.relay, l.tech, l.dev} {
			exec.Command("ip", "netns", "del", ns).Run()
		}
	})
	l.ip("netns", "add", l.tech)
	l.ip("netns", "add", l.dev)
	for _, ns := range []string{l.relay, l.tech, l.dev} {
		l.ip("-n", ns, "link", "set", "lo", "up")
	}
	// One veth pair per link, made inside the relay's namespace with the
	// peer end moved straight to the other: nothing touches the host's.
	for _, link := range []struct{ here, there, ns, hereAddr, thereAddr string }{
		{"ra", "a0", l.tech, labRelayA, labTech},
		{"rb", "b0", l.dev, labRelayB, labDev},
	} {
		l.ip("-n", l.relay, "link", "add", link.here, "type", "veth", "peer", "name", link.there, "netns", link.ns)
		l.ip("-n", l.relay, "addr", "add", link.hereAddr+"/24", "dev", link.here)
		l.ip("-n", l.relay, "link", "set", link.here, "up")
		l.ip("-n", link.ns, "addr", "add", link.thereAddr+"/24", "dev", link.there)
		l.ip("-n", link.ns, "link", "set", link.there, "up")
		l.ip("-n", link.ns, "route", "add", "default", "via", link.hereAddr)
	}
	l.ip("netns", "exec", l.relay, "sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward")
	return l
}

// ip runs ip(8) and fails the test if it fails.
func (l *netLab) ip(args ...string) {
	l.t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		l.t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// in is the argv that runs name with args inside namespace ns.
func in(ns, name string, args ...string) (string, []string) {
	return "ip", append([]string{"netns", "exec", ns, name}, args...)
}

// dialUDPIn opens a UDP socket inside namespace ns connected to addr: the
// socket is made on a thread moved into ns and stays there.
func dialUDPIn(t *testing.T, ns, addr string) *net.UDPConn {
	t.Helper()
	target, err := os.Open(filepath.Join("/var/run/netns", ns))
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	type result struct {
		c   *net.UDPConn
		err error
	}
	res := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		// The thread is not unlocked if it cannot return to its own
		// namespace: Go then ends it with the goroutine.
		self, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
		if err != nil {
			res <- result{nil, err}
			return
		}
		defer self.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			res <- result{nil, fmt.Errorf("setns: %w", err)}
			return
		}
		ua, _ := net.ResolveUDPAddr("udp4", addr)
		c, err := net.DialUDP("udp4", nil, ua)
		if unix.Setns(int(self.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		res <- result{c, err}
	}()
	r := <-res
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Cleanup(func() { r.c.Close() })
	return r.c
}

// reflexiveIn asks the STUN server at addr from inside namespace ns.
func reflexiveIn(t *testing.T, ns, addr string) stun.XORMappedAddress {
	t.Helper()
	c, err := stun.NewClient(dialUDPIn(t, ns, addr), stun.WithRTO(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var got stun.XORMappedAddress
	var evErr error
	if err := c.Do(stun.MustBuild(stun.TransactionID, stun.BindingRequest), func(ev stun.Event) {
		if evErr = ev.Error; evErr == nil {
			evErr = got.GetFrom(ev.Message)
		}
	}); err != nil || evErr != nil {
		t.Fatalf("STUN from %s: %v %v", ns, err, evErr)
	}
	return got
}

// TestTwoNetworks: a relay in its own namespace routes between a
// technician on TEST-NET-1 and a device on TEST-NET-2. Each learns its own
// address from the relay's STUN server, the session runs, and once the
// direct path exists (tech --path) the session is asked to go direct.
func TestTwoNetworks(t *testing.T) {
	t.Parallel()
	lab := newNetLab(t)
	dir := t.TempDir()
	techHome, agentHome, userHome := filepath.Join(dir, "tech"), filepath.Join(dir, "agent"), filepath.Join(dir, "home")
	os.MkdirAll(userHome, 0o700)

	name, args := in(lab.relay, bin.relay, "serve", "--data", filepath.Join(dir, "data"),
		"--listen", labRelayA+":0", "--stun-listen", labRelayA+":0", "--metrics-listen", "off")
	relay := start(t, dir, nil, name, args...)
	var url, fp, stunAddr string
	eventually(t, "relay to listen", 20*time.Second, func() bool {
		out := relay.Output()
		for marker, dst := range map[string]*string{"listening on ": &url, "fingerprint: ": &fp, "STUN answering on udp ": &stunAddr} {
			if i := strings.Index(out, marker); i >= 0 {
				*dst = strings.TrimSuffix(strings.Fields(out[i+len(marker):])[0], ";")
			}
		}
		return url != "" && fp != "" && stunAddr != ""
	})
	tech := func(stdin string, args ...string) result {
		t.Helper()
		// The direct path with its real candidates (TestMain keeps other
		// tests on the relay path).
		name, argv := in(lab.tech, "env", append([]string{"TETHER_TEST_DIRECT=", bin.tech, "--config", techHome}, args...)...)
		return run(t, dir, stdin, name, argv...)
	}
	must := func(r result, what string) string {
		t.Helper()
		if r.code != 0 {
			t.Fatalf("%s: exit %d: %s", what, r.code, r.stderr)
		}
		return strings.TrimSpace(r.stdout)
	}

	// Each side learns, from the relay, the address it has on its own network.
	for ns, want := range map[string]string{lab.tech: labTech, lab.dev: labDev} {
		if got := reflexiveIn(t, ns, stunAddr); got.IP.String() != want || got.Port == 0 {
			t.Fatalf("reflexive address from %s: %v, want %s", ns, got, want)
		}
	}

	initial := strings.TrimSpace(mustRead(t, filepath.Join(dir, "data", "initial-admin-password")))
	must(tech(initial+"\n", "login", "--relay", url, "--user", "admin", "--ca-fingerprint", fp, "--password-stdin"), "login from TEST-NET-1")
	pw := "correct-horse-battery-staple-42"
	must(tech(initial+"\n"+pw+"\n", "passwd", "--password-stdin"), "passwd")
	pub := must(tech("", "keys", "generate", "-o", filepath.Join(dir, "reviewer.key")), "keys generate")
	must(tech("", "recordings", "recipients", "add", pub), "recipients add")
	token := must(tech("", "devices", "enroll-token"), "enroll-token")

	name, args = in(lab.dev, bin.agent, "--config", agentHome, "enroll", "--relay", url, "--token", token, "--name", "far-pc")
	must(run(t, dir, "", name, args...), "agent enroll from TEST-NET-2")
	name, args = in(lab.dev, bin.agent, "--config", agentHome, "run", "--consent-cmd", "exit 0", "--lock-cmd", "true")
	start(t, dir, []string{"HOME=" + userHome, "TETHER_TEST_DIRECT="}, name, args...)
	eventually(t, "far-pc online", 20*time.Second, func() bool {
		return strings.Contains(tech("", "devices", "list", "--json").stdout, `"name":"far-pc","group":"default","online":true`)
	})

	if got := must(tech("", "connect", "far-pc", "--", "sh", "-c", "echo $((6*7))"), "session across the two networks"); got != "42" {
		t.Fatalf("remote command printed %q, want 42", got)
	}

	help := tech("", "connect", "--help").stdout
	if !strings.Contains(help, "--path") {
		t.Log("tech connect has no --path yet (the direct path is not built): the session ran on the relay path only")
		return
	}
	r := tech("", "connect", "far-pc", "--path", "direct", "--", "sh", "-c", "echo direct")
	if got := must(r, "session on the direct path"); got != "direct" {
		t.Fatalf("remote command printed %q over the direct path, want direct", got)
	}
	// Public-looking (TEST-NET) addresses on both ends: neither LAN nor
	// through STUN, so the why is "direct route" with the round trip.
	if !strings.Contains(r.stderr, "Session path: direct (direct route, ") {
		t.Errorf("the session did not run on a direct path between the two networks:\n%s", r.stderr)
	}
}
