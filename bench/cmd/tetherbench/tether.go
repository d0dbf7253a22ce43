package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// tetherEnv is a relay, a signed-in technician and one enrolled agent
// ("dev") that consents automatically, all on loopback.
type tetherEnv struct {
	cfg      *config
	dir      string
	relay    *bgProc
	agent    *bgProc
	url, fp  string
	password string
	techHome string
	ps       *procs
}

// stop ends the agent and the relay.
func (e *tetherEnv) stop() {
	e.agent.stop()
	e.relay.stop()
}

// serveArgs is the `relay serve` command line of a benchmark relay on the
// data directory data, listening on addr, with extra flags.
func serveArgs(data, addr string, extra []string) []string {
	return append([]string{"serve", "--data", data, "--listen", addr, "--metrics-listen", "off", "--log-level", "warn"}, extra...)
}

// startTether starts the relay (with extra serve flags) and an agent.
func startTether(ctx context.Context, cfg *config, ps *procs, dir string, relayFlags ...string) (*tetherEnv, error) {
	return startTetherWith(ctx, cfg, ps, dir, tetherOpts{relayFlags: relayFlags})
}

// startTetherVia is startTether with the technician and the agent reaching
// the relay at the address front returns for the relay's host:port (a
// delay proxy), when front is not nil.
func startTetherVia(ctx context.Context, cfg *config, ps *procs, dir string, front func(string) (string, error), relayFlags ...string) (*tetherEnv, error) {
	return startTetherWith(ctx, cfg, ps, dir, tetherOpts{front: front, relayFlags: relayFlags})
}

// tetherOpts are the ways one relay of the benchmark differs from the
// default one.
type tetherOpts struct {
	// front, when set, returns the address the clients use for the
	// relay's host:port (a delay proxy).
	front func(string) (string, error)
	// relayFlags are extra `relay serve` flags (--store URL).
	relayFlags []string
	// wrap is a command the relay runs under (taskset -c 1).
	wrap []string
	// relayEnv is extra environment for the relay (TETHER_CPUPROFILE).
	relayEnv []string
}

// startTetherWith starts a relay as opts say, signs the technician in and
// starts one agent ("dev").
func startTetherWith(ctx context.Context, cfg *config, ps *procs, dir string, opts tetherOpts) (*tetherEnv, error) {
	e := &tetherEnv{cfg: cfg, dir: dir, techHome: filepath.Join(dir, "tech")}
	args := serveArgs(filepath.Join(dir, "data"), "127.0.0.1:0", opts.relayFlags)
	argv := append(append([]string{}, opts.wrap...), cfg.bin("relay"))
	var err error
	// A wrapper such as taskset execs the relay: the PID stays the relay's.
	if e.relay, err = ps.start(opts.relayEnv, argv[0], append(argv[1:], args...)...); err != nil {
		return nil, err
	}
	if err := waitFor(20*time.Second, "relay to listen", func() bool {
		out := e.relay.Output()
		if i := strings.Index(out, "listening on "); i >= 0 {
			e.url = strings.Fields(out[i+len("listening on "):])[0]
		}
		if i := strings.Index(out, "fingerprint: "); i >= 0 {
			e.fp = strings.Fields(out[i+len("fingerprint: "):])[0]
		}
		return e.url != "" && e.fp != ""
	}); err != nil {
		return nil, fmt.Errorf("%w\n%s", err, e.relay.Output())
	}
	if opts.front != nil {
		addr, err := opts.front(strings.TrimPrefix(e.url, "https://"))
		if err != nil {
			return nil, err
		}
		e.url = "https://" + addr
	}
	pw, err := os.ReadFile(filepath.Join(dir, "data", "initial-admin-password"))
	if err != nil {
		return nil, err
	}
	e.password = strings.TrimSpace(string(pw))
	if _, err := e.tech(ctx, e.password, "login", "--relay", e.url, "--user", "admin", "--ca-fingerprint", e.fp, "--password-stdin"); err != nil {
		return nil, err
	}
	newPW := "bench-" + e.password // the bootstrap password is one-time
	if _, err := e.tech(ctx, e.password+"\n"+newPW+"\n", "passwd", "--password-stdin"); err != nil {
		return nil, err
	}
	e.password = newPW
	if err := e.addRecipient(ctx); err != nil {
		return nil, err
	}
	tok, err := e.tech(ctx, "", "devices", "enroll-token")
	if err != nil {
		return nil, err
	}
	e.ps = ps
	home := filepath.Join(dir, "agent")
	if _, err := runOut(ctx, "", cfg.bin("agent"), "--config", home, "enroll", "--relay", e.url, "--token", strings.TrimSpace(tok), "--name", "dev"); err != nil {
		return nil, err
	}
	if e.agent, err = ps.start(nil, cfg.bin("agent"), "--config", home, "run", "--consent-cmd", "true", "--lock-cmd", "true"); err != nil {
		return nil, err
	}
	return e, e.waitOnline(ctx, "dev")
}

// waitOnline waits until the relay lists device name online.
func (e *tetherEnv) waitOnline(ctx context.Context, name string) error {
	return waitFor(20*time.Second, name+" online", func() bool {
		out, _ := e.tech(ctx, "", "devices", "list", "--json")
		return strings.Contains(out, `"name":"`+name+`","group":"default","online":true`)
	})
}

// addAgent enrolls and starts one more agent, from the binary agentBin.
func (e *tetherEnv) addAgent(ctx context.Context, name, agentBin string) error {
	_, err := e.addAgentEnv(ctx, name, agentBin, nil)
	return err
}

// startAgent is addAgent returning the agent's process.
func (e *tetherEnv) startAgent(ctx context.Context, name, agentBin string) (*bgProc, error) {
	return e.addAgentEnv(ctx, name, agentBin, nil)
}

// addAgentEnv is startAgent with extra environment for the agent (DISPLAY).
func (e *tetherEnv) addAgentEnv(ctx context.Context, name, agentBin string, env []string) (*bgProc, error) {
	tok, err := e.tech(ctx, "", "devices", "enroll-token")
	if err != nil {
		return nil, err
	}
	home := filepath.Join(e.dir, "agent-"+name)
	if _, err := runOut(ctx, "", agentBin, "--config", home, "enroll", "--relay", e.url, "--token", strings.TrimSpace(tok), "--name", name); err != nil {
		return nil, err
	}
	p, err := e.ps.start(env, agentBin, "--config", home, "run", "--consent-cmd", "true", "--lock-cmd", "true")
	if err != nil {
		return nil, err
	}
	return p, e.waitOnline(ctx, name)
}

// addRecipient makes a throwaway reviewer key and names it as the recording
// recipient, when this build records sessions.
func (e *tetherEnv) addRecipient(ctx context.Context) error {
	if _, err := e.tech(ctx, "", "keys", "generate", "--help"); err != nil {
		return nil // no recordings in this build
	}
	pub, err := e.tech(ctx, "", "keys", "generate", "-o", filepath.Join(e.dir, "reviewer.key"))
	if err != nil {
		return err
	}
	_, err = e.tech(ctx, "", "recordings", "recipients", "add", strings.TrimSpace(pub))
	return err
}

// tech runs the tech CLI to completion.
func (e *tetherEnv) tech(ctx context.Context, stdin string, args ...string) (string, error) {
	return runOut(ctx, stdin, e.cfg.bin("tech"), append([]string{"--config", e.techHome}, args...)...)
}

// techArgv is the argv of `tech connect dev` with extra arguments.
func (e *tetherEnv) techArgv(extra ...string) []string { return e.techArgvFor("dev", extra...) }

// techArgvFor is the argv of `tech connect DEVICE` with extra arguments.
func (e *tetherEnv) techArgvFor(device string, extra ...string) []string {
	return append([]string{e.cfg.bin("tech"), "--config", e.techHome, "connect", device}, extra...)
}

// waitFor polls cond every 50 ms until it holds or limit passes.
func waitFor(limit time.Duration, what string, cond func() bool) error {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}
