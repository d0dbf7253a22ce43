package integration

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/recstore/seaweedtest"
)

// bin holds the paths of the binaries built once by TestMain.
var bin struct{ relay, agent, tech string }

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tether-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	args := []string{"build", "-o", dir + string(os.PathSeparator)}
	if raceEnabled { // the binaries get the race detector too
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, "github.com/tether-support/tether/cmd/relay", "github.com/tether-support/tether/cmd/agent", "github.com/tether-support/tether/cmd/tech")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build binaries:", err)
		os.Exit(1)
	}
	bin.relay, bin.agent, bin.tech = filepath.Join(dir, "relay"), filepath.Join(dir, "agent"), filepath.Join(dir, "tech")
	quickRaceExit()
	// Sessions stay on the relay path unless a test asks for the direct
	// path (its own TETHER_TEST_DIRECT, which comes later in the child's
	// environment and wins): tests that watch or tamper with the relay's
	// frames keep seeing them all, and no test reaches beyond 127.0.0.0/8.
	os.Setenv("TETHER_TEST_DIRECT", "path=relay")
	code := m.Run()
	seaweedtest.Stop()
	os.RemoveAll(dir)
	os.Exit(code)
}

// quickRaceExit stops race-enabled binaries from sleeping at exit. The
// race runtime waits atexit_sleep_ms (default 1000) before every exit with
// status 0, so each successful tech command took a second more and each
// agent or relay a second more to stop. Races are still reported while the
// programs run; options already in GORACE are kept and win over this one.
func quickRaceExit() {
	opts := "atexit_sleep_ms=0"
	if prev := os.Getenv("GORACE"); prev != "" {
		opts += " " + prev
	}
	os.Setenv("GORACE", opts)
}

// proc is a background process whose output is captured.
type proc struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
}

// Write collects output.
func (p *proc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

// Output returns what the process printed so far.
func (p *proc) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// kill9 kills the process with SIGKILL and waits for it.
func (p *proc) kill9() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// start runs name in the background, collecting stdout+stderr; it is killed
// at the end of the test.
func start(t *testing.T, dir string, env []string, name string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(name, args...), done: make(chan struct{})}
	p.cmd.Dir, p.cmd.Env = dir, append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p, p
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			p.kill9()
		}
		if t.Failed() {
			t.Logf("output of %s %s:\n%s", filepath.Base(name), strings.Join(args, " "), p.Output())
		}
	})
	return p
}

// result is a finished command.
type result struct {
	stdout, stderr string
	code           int
}

// run runs a command to completion with stdin.
func run(t *testing.T, dir string, stdin string, name string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(stdin)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %s: %v", name, err)
	}
	return result{so.String(), se.String(), code}
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// logs reports whether output comes to contain want within 10 s: a peer's
// side of a session may see the end before the other process's log line
// about it reaches its captured output.
func logs(output func() string, want string) bool {
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(output(), want) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
	return true
}

// waitIdle waits until every sign-in last used by a call that has returned
// has been idle for d: the relay stamps a token's use before it answers, so
// d after the last answer is enough, and the next call's own start-up only
// adds to it. There is nothing to poll: any call would be a use.
func waitIdle(d time.Duration) { time.Sleep(d + 10*time.Millisecond) }

// env is one relay with its data dir and a signed-in admin.
type env struct {
	t     *testing.T
	dir   string
	relay *proc
	url   string
	fp    string
	tech  string // tech --config dir
	// reviewer is the recording identity file sessions are recorded to.
	reviewer string
	// adminPW is the admin's password after the first change.
	adminPW string
	// relayBin and relayEnv, when set, start another relay build (the
	// test-only hostile one) with extra environment.
	relayBin string
	relayEnv []string
}

// newEnv starts a relay on a free loopback port with extra serve flags and
// signs in as its bootstrap admin.
func newEnv(t *testing.T, relayFlags ...string) *env {
	t.Helper()
	return newEnvFrom(t, &env{t: t, dir: t.TempDir()}, relayFlags...)
}

// newEnvFrom is newEnv for a prepared env (another relay build).
func newEnvFrom(t *testing.T, e *env, relayFlags ...string) *env {
	t.Helper()
	e.tech = filepath.Join(e.dir, "tech")
	e.startRelay(relayFlags...)
	initial := strings.TrimSpace(mustRead(t, filepath.Join(e.dir, "data", "initial-admin-password")))
	r := e.techRun(initial+"\n", "login", "--relay", e.url, "--user", "admin", "--ca-fingerprint", e.fp, "--password-stdin")
	if r.code != 0 {
		t.Fatalf("admin login failed: %s", r.stderr)
	}
	// The bootstrap password is one-time: everything but passwd is refused.
	if r := e.techRun("", "devices", "list"); r.code == 0 || !strings.Contains(r.stderr, "password change required") {
		t.Fatalf("bootstrap password not one-time: code %d stderr %q", r.code, r.stderr)
	}
	e.adminPW = "correct-horse-battery-staple-42"
	if r := e.techRun(initial+"\n"+e.adminPW+"\n", "passwd", "--password-stdin"); r.code != 0 {
		t.Fatalf("admin passwd failed: %s", r.stderr)
	}
	e.addReviewer()
	return e
}

// addReviewer makes a recording identity (e.reviewer) and configures its
// public key as a recipient: sessions are refused without one.
func (e *env) addReviewer() {
	e.t.Helper()
	e.reviewer = filepath.Join(e.dir, "reviewer.key")
	r := e.techRun("", "keys", "generate", "-o", e.reviewer)
	if r.code != 0 {
		e.t.Fatalf("keys generate: %s", r.stderr)
	}
	if r := e.techRun("", "recordings", "recipients", "add", strings.TrimSpace(r.stdout)); r.code != 0 {
		e.t.Fatalf("recipients add: %s", r.stderr)
	}
}

// startRelay starts `relay serve` and waits for /healthz.
func (e *env) startRelay(flags ...string) {
	e.t.Helper()
	args := append([]string{"serve", "--data", filepath.Join(e.dir, "data"), "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"}, flags...)
	relayBin := bin.relay
	if e.relayBin != "" {
		relayBin = e.relayBin
	}
	e.relay = start(e.t, e.dir, e.relayEnv, relayBin, args...)
	eventually(e.t, "relay to listen", 20*time.Second, func() bool {
		out := e.relay.Output()
		if i := strings.Index(out, "listening on "); i >= 0 {
			e.url = strings.Fields(out[i+len("listening on "):])[0]
		}
		if i := strings.Index(out, "fingerprint: "); i >= 0 {
			e.fp = strings.Fields(out[i+len("fingerprint: "):])[0]
		}
		return e.url != "" && e.fp != ""
	})
	eventually(e.t, "relay /healthz", 10*time.Second, func() bool { return e.healthy() })
}

// healthy reports whether /healthz answers 200 (certificate checked by pin
// elsewhere; this probe only asks for liveness).
func (e *env) healthy() bool {
	resp, err := insecureClient().Get(e.url + "/healthz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// techRun runs tech with the env's config directory.
func (e *env) techRun(stdin string, args ...string) result {
	e.t.Helper()
	return run(e.t, e.dir, stdin, bin.tech, append([]string{"--config", e.tech}, args...)...)
}

// device is an enrolled agent.
type device struct {
	name, home string
	// userHome is the agent's $HOME: the only folder file transfers reach.
	userHome string
	lockLog  string
	proc     *proc
	// env is added to the agent's environment (test-only knobs).
	env []string
}

// enroll enrolls a new device called name.
func (e *env) enroll(name string) *device {
	e.t.Helper()
	r := e.techRun("", "devices", "enroll-token")
	if r.code != 0 {
		e.t.Fatalf("enroll-token: %s", r.stderr)
	}
	d := &device{name: name, home: filepath.Join(e.dir, "agent-"+name), lockLog: filepath.Join(e.dir, "lock-"+name+".log"),
		userHome: filepath.Join(e.dir, "home-"+name)}
	if err := os.MkdirAll(d.userHome, 0o700); err != nil {
		e.t.Fatal(err)
	}
	r2 := run(e.t, e.dir, "", bin.agent, "--config", d.home, "enroll", "--relay", e.url, "--token", strings.TrimSpace(r.stdout), "--name", name)
	if r2.code != 0 {
		e.t.Fatalf("agent enroll: %s", r2.stderr)
	}
	return d
}

// runAgent starts `agent run` for d with the given consent command and
// waits until the relay lists it online.
func (e *env) runAgent(d *device, consentCmd string, extra ...string) {
	e.t.Helper()
	args := []string{"--config", d.home, "run", "--lock-cmd", "echo locked >> " + d.lockLog}
	if consentCmd != "" {
		args = append(args, "--consent-cmd", consentCmd)
	}
	d.proc = start(e.t, e.dir, append([]string{"HOME=" + d.userHome}, d.env...), bin.agent, append(args, extra...)...)
	e.waitOnline(d.name)
}

// agentJoin runs `agent join code` through the relay at url as the person
// at the device would (consent given, a lock that does nothing), with its
// configuration in the directory name under e.dir.
func (e *env) agentJoin(name, code, url string) result {
	e.t.Helper()
	return run(e.t, e.dir, "", bin.agent, e.joinArgs(name, code, url, "true")...)
}

// agentJoinLocking is agentJoin through e.url with a screen lock that
// appends a line "locked" to lockLog.
func (e *env) agentJoinLocking(name, code, lockLog string) result {
	e.t.Helper()
	return run(e.t, e.dir, "", bin.agent, e.joinArgs(name, code, e.url, "echo locked >> "+lockLog)...)
}

// joinArgs is the command line of agentJoin with lockCmd as the screen
// lock, for the tests that start the agent rather than run it.
func (e *env) joinArgs(name, code, url, lockCmd string) []string {
	return []string{"--config", filepath.Join(e.dir, name), "join", code, "--relay", url,
		"--ca-fingerprint", e.fp, "--consent-cmd", "exit 0", "--lock-cmd", lockCmd}
}

// waitOnline waits until `tech devices list` shows name online.
func (e *env) waitOnline(name string) {
	e.t.Helper()
	eventually(e.t, name+" online", 15*time.Second, func() bool {
		r := e.techRun("", "devices", "list", "--json")
		return strings.Contains(r.stdout, `"name":"`+name+`","group":"default","online":true`)
	})
}

// locks returns how many times d locked the screen.
func (d *device) locks() int {
	b, _ := os.ReadFile(d.lockLog)
	return strings.Count(string(b), "locked\n")
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// lines returns the non-empty lines of s.
func lines(s string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	return out
}

var _ = io.Discard

// joinCode waits for `tech session new` to print its join code.
func joinCode(t *testing.T, tech *proc) string {
	t.Helper()
	var code string
	eventually(t, "join code", 10*time.Second, func() bool {
		for _, l := range lines(tech.Output()) {
			if len(l) == 11 && l[5] == '-' {
				code = l
				return true
			}
		}
		return false
	})
	return code
}
