package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// farEnv is one delay's set-up: a relay and an agent reached through a
// delay proxy, and the OpenSSH jump host behind another.
type farEnv struct {
	te      *tetherEnv
	fj      *farJump
	proxies []*delayProxy
	direct  bool // tech has --path: the direct path can be asked for
}

func (f *farEnv) close() {
	if f.te != nil {
		f.te.stop()
	}
	for _, p := range f.proxies {
		p.Close()
	}
}

// startFar sets up the far relay with delay added each way: the
// technician's and the agent's connections to the relay each cross one
// delay proxy, as do ssh's to the jump host and the jump host's to the
// target (so a round trip is 4 × delay on both).
func startFar(ctx context.Context, cfg *config, ps *procs, dir string, se *sshEnv, delay time.Duration) (*farEnv, error) {
	f := &farEnv{}
	front := func(relay string) (string, error) {
		p, err := startDelayProxy(relay, delay)
		if err != nil {
			return "", err
		}
		f.proxies = append(f.proxies, p)
		return p.Addr(), nil
	}
	var err error
	if f.te, err = startTetherVia(ctx, cfg, ps, dir, front); err != nil {
		f.close()
		return nil, err
	}
	help, _ := f.te.tech(ctx, "", "connect", "--help")
	f.direct = strings.Contains(help, "--path")
	if se != nil {
		var ports [2]int
		for i, port := range se.ports {
			p, err := startDelayProxy(fmt.Sprintf("127.0.0.1:%d", port), delay)
			if err != nil {
				f.close()
				return nil, err
			}
			f.proxies = append(f.proxies, p)
			ports[i] = p.Port()
		}
		if f.fj, err = se.viaProxies(fmt.Sprintf("far%d", delay.Milliseconds()), ports); err != nil {
			f.close()
			return nil, err
		}
	}
	return f, nil
}

// connect is the argv of tech connect over path ("" for the default).
func (f *farEnv) connect(path string, extra ...string) []string {
	if path != "" {
		extra = append([]string{"--path", path}, extra...)
	}
	return f.te.techArgv(extra...)
}

// benchFar: for no added delay and for cfg.farDelay, the relay path, the
// direct path (once tech has --path) and OpenSSH via a jump host behind
// the same delay: keystroke echo, session setup, terminal throughput and
// file transfer.
func benchFar(ctx context.Context, cfg *config, ps *procs, dir string, se *sshEnv, ft *farTable) error {
	for _, delay := range []time.Duration{0, cfg.farDelay} {
		f, err := startFar(ctx, cfg, ps, filepath.Join(dir, fmt.Sprintf("far-%d", delay.Milliseconds())), se, delay)
		if err != nil {
			return err
		}
		label := fmt.Sprintf("+%d ms each way", delay.Milliseconds())
		if delay == 0 {
			label = "no added delay"
		}
		logf("far relay, %s", label)
		for _, part := range []func(context.Context, *config, *farEnv, string, time.Duration, *farTable) error{farEcho, farSwitch, farSetup, farTerm, farFiles} {
			if err := part(ctx, cfg, f, label, delay, ft); err != nil {
				logf("far relay, %s: %v", label, err)
				ft.note("%s: %v", label, err)
			}
		}
		f.close()
		if !f.direct {
			ft.note("%s: `tech` has no `--path` yet (the direct path is not built): its column stays empty", label)
		}
	}
	return nil
}

// farEcho: keystroke echo p50 and p99 over each path, interleaved.
func farEcho(_ context.Context, cfg *config, f *farEnv, label string, delay time.Duration, ft *farTable) error {
	p50 := ft.add(fmt.Sprintf("%s: keystroke echo p50, %d round trips", label, cfg.farEchoN), "µs", 0)
	p99 := ft.add(fmt.Sprintf("%s: keystroke echo p99, %d round trips", label, cfg.farEchoN), "µs", 0)
	if delay == 0 {
		p50.target = "direct ≤ 1.5× relay"
		p50.check = func(r *farRow) (bool, bool) { return r.direct <= 1.5*r.relay, known(r.direct, r.relay) }
		p99.target = "relay ≤ 1.0× jump"
		p99.check = func(r *farRow) (bool, bool) { return r.relay <= r.jump, known(r.relay, r.jump) }
	} else {
		p99.target = "direct ≤ 0.2× relay and ≤ 0.2× jump"
		p99.check = func(r *farRow) (bool, bool) {
			return r.direct <= 0.2*r.relay && r.direct <= 0.2*r.jump, known(r.direct, r.relay, r.jump)
		}
	}
	argvs := [][]string{f.connect(relayPath(f), "-t", "--", echoCmd)}
	dsts := []func(*farRow) *float64{func(r *farRow) *float64 { return &r.relay }}
	if f.direct {
		argvs = append(argvs, f.connect("direct", "-t", "--", echoCmd))
		dsts = append(dsts, func(r *farRow) *float64 { return &r.direct })
	}
	if f.fj != nil {
		argvs = append(argvs, f.fj.sshArgs(echoCmd))
		dsts = append(dsts, func(r *farRow) *float64 { return &r.jump })
	}
	all, err := termEchoes(argvs, cfg.farEchoN)
	if err != nil {
		return err
	}
	for i, ds := range all {
		*dsts[i](p50) = float64(pct(ds, 50)) / 1e3
		*dsts[i](p99) = float64(pct(ds, 99)) / 1e3
	}
	return nil
}

// relayPath is "relay" when paths can be chosen, so that the relay column
// measures the relay path even where the default would go direct.
func relayPath(f *farEnv) string {
	if f.direct {
		return "relay"
	}
	return ""
}

// farSetup: a whole `… true` session, p50.
func farSetup(ctx context.Context, cfg *config, f *farEnv, label string, _ time.Duration, ft *farTable) error {
	r := ft.add(fmt.Sprintf("%s: session setup `… true` p50, %d runs", label, cfg.farSetupN), "ms", 1)
	run := func(dst *float64, argv []string) error {
		ds, err := setupTimes(ctx, argv, cfg.farSetupN)
		if err == nil {
			*dst = float64(pct(ds, 50)) / 1e6
		}
		return err
	}
	if err := run(&r.relay, f.connect(relayPath(f), "--", "true")); err != nil {
		return err
	}
	if f.direct {
		if err := run(&r.direct, f.connect("direct", "--", "true")); err != nil {
			return err
		}
	}
	if f.fj != nil {
		return run(&r.jump, f.fj.sshArgs("true"))
	}
	return nil
}

// farTerm: terminal output throughput, interleaved.
func farTerm(_ context.Context, cfg *config, f *farEnv, label string, delay time.Duration, ft *farTable) error {
	r := ft.add(fmt.Sprintf("%s: terminal output, %d MiB", label, cfg.farTermBytes>>20), "MB/s", 1)
	if delay == 0 {
		r.target = "relay ≥ 1.0× jump"
		r.check = func(r *farRow) (bool, bool) { return r.relay >= r.jump, known(r.relay, r.jump) }
	}
	cmd := throughputCmd(cfg.farTermBytes)
	relay := &contender{name: "relay path", argv: f.connect(relayPath(f), "-t", "--", cmd)}
	cs := []*contender{relay}
	var direct, jump *contender
	if f.direct {
		direct = &contender{name: "direct path", argv: f.connect("direct", "-t", "--", cmd)}
		cs = append(cs, direct)
	}
	if f.fj != nil {
		jump = &contender{name: "openssh via far jump", argv: f.fj.sshArgs(cmd)}
		cs = append(cs, jump)
	}
	if err := termThroughputs(cs, cfg.farTermBytes, cfg.termRuns); err != nil {
		return err
	}
	r.relay = relay.best
	if direct != nil {
		r.direct = direct.best
	}
	if jump != nil {
		r.jump = jump.best
	}
	return nil
}

// farFiles: tech cp and scp up and down.
func farFiles(ctx context.Context, cfg *config, f *farEnv, label string, _ time.Duration, ft *farTable) error {
	mib := cfg.farFileBytes >> 20
	up := ft.add(fmt.Sprintf("%s: file upload, %d MiB", label, mib), "MB/s", 0)
	down := ft.add(fmt.Sprintf("%s: file download, %d MiB", label, mib), "MB/s", 0)
	dir := filepath.Join(f.te.dir, "files")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	src := filepath.Join(dir, "src.bin")
	if _, err := runOut(ctx, "", "sh", "-c", fmt.Sprintf("head -c %d /dev/urandom > %s && sync", cfg.farFileBytes, src)); err != nil {
		return err
	}
	defer os.Remove(src)
	timed := func(dst *float64, fn func() error) error {
		t0 := time.Now()
		if err := fn(); err != nil {
			return err
		}
		*dst = mbps(cfg.farFileBytes, time.Since(t0))
		return nil
	}
	home, _ := os.UserHomeDir()
	name := fmt.Sprintf("tetherbench-far-%d.bin", os.Getpid())
	defer os.Remove(filepath.Join(home, name))
	back := filepath.Join(dir, "down.bin")
	defer os.Remove(back)
	cp := func(path string, from, to string) func() error {
		return func() error {
			args := []string{"cp", "--force"}
			if path != "" {
				args = append(args, "--path", path)
			}
			_, err := f.te.tech(ctx, "", append(args, from, to)...)
			return err
		}
	}
	paths := []struct {
		path     string
		up, down *float64
	}{{relayPath(f), &up.relay, &down.relay}}
	if f.direct {
		paths = append(paths, struct {
			path     string
			up, down *float64
		}{"direct", &up.direct, &down.direct})
	}
	for _, p := range paths {
		if err := timed(p.up, cp(p.path, src, "dev:"+name)); err != nil {
			return fmt.Errorf("tech cp upload: %w", err)
		}
		if err := timed(p.down, cp(p.path, "dev:"+name, back)); err != nil {
			return fmt.Errorf("tech cp download: %w", err)
		}
	}
	if f.fj == nil {
		return nil
	}
	dst := filepath.Join(dir, "scp-up.bin")
	defer os.Remove(dst)
	if err := timed(&up.jump, func() error { return f.fj.scp(ctx, src, "target:"+dst) }); err != nil {
		return err
	}
	return timed(&down.jump, func() error { return f.fj.scp(ctx, "target:"+dst, back) })
}
