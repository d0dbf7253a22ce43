package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// benchTerm: terminal output throughput through a PTY session, against the
// same command on a local PTY and through ssh -tt.
func benchTerm(cfg *config, te *tetherEnv, se *sshEnv, t *table) error {
	r := t.add(newRow(fmt.Sprintf("terminal output, %d MiB through a PTY", cfg.termBytes>>20), "MB/s", 1))
	r.target = "≥ 1.3× jump and ≥ 85% of local PTY"
	r.check = func(r *row) (bool, bool) {
		ok, known := atLeastJump(1.3)(r)
		return ok && r.tether >= 0.85*r.ceiling, known
	}
	cmd := throughputCmd(cfg.termBytes)
	local := &contender{name: "local PTY", argv: []string{"sh", "-c", cmd}}
	tether := &contender{name: "tether", argv: te.techArgv("-t", "--", cmd)}
	cs := []*contender{local, tether}
	var direct, jump *contender
	if se != nil {
		direct = &contender{name: "openssh direct", argv: se.sshArgs(false, cmd)}
		jump = &contender{name: "openssh via jump", argv: se.sshArgs(true, cmd)}
		cs = append(cs, direct, jump)
	}
	rc0, _ := cpuTime(te.relay.PID())
	ac0, _ := cpuTime(te.agent.PID())
	if err := termThroughputs(cs, cfg.termBytes, cfg.termRuns); err != nil {
		return err
	}
	rc1, _ := cpuTime(te.relay.PID())
	ac1, _ := cpuTime(te.agent.PID())
	logf("tether CPU over its %d runs: relay %v, agent %v, tech %v", cfg.termRuns, rc1-rc0, ac1-ac0, tether.cpu)
	r.ceiling, r.tether = local.best, tether.best
	if se != nil {
		r.direct, r.jump = direct.best, jump.best
	}
	return nil
}

// benchEcho: single-byte keystroke round trips through an interactive PTY.
func benchEcho(cfg *config, te *tetherEnv, se *sshEnv, t *table) error {
	p50 := t.add(newRow(fmt.Sprintf("keystroke echo p50, %d round trips", cfg.echoN), "µs", 0))
	p99 := t.add(newRow(fmt.Sprintf("keystroke echo p99, %d round trips", cfg.echoN), "µs", 0))
	p99.target, p99.check = "≤ 0.6× jump", atMostJump(0.6)
	set := func(dst func(*row) *float64, ds []time.Duration) {
		*dst(p50) = float64(pct(ds, 50)) / 1e3
		*dst(p99) = float64(pct(ds, 99)) / 1e3
	}
	argvs := [][]string{te.techArgv("-t", "--", echoCmd)}
	if se != nil {
		argvs = append(argvs, se.sshArgs(false, echoCmd), se.sshArgs(true, echoCmd))
	}
	all, err := termEchoes(argvs, cfg.echoN)
	if err != nil {
		return err
	}
	set(func(r *row) *float64 { return &r.tether }, all[0])
	logf("tether: p50 %s p99 %s", us(pct(all[0], 50)), us(pct(all[0], 99)))
	if se == nil {
		return nil
	}
	set(func(r *row) *float64 { return &r.direct }, all[1])
	set(func(r *row) *float64 { return &r.jump }, all[2])
	logf("openssh direct: p50 %s p99 %s; via jump: p50 %s p99 %s", us(pct(all[1], 50)), us(pct(all[1], 99)),
		us(pct(all[2], 50)), us(pct(all[2], 99)))
	return nil
}

// benchSetup: a whole session that runs `true`, consent auto-approved.
func benchSetup(ctx context.Context, cfg *config, te *tetherEnv, se *sshEnv, t *table) error {
	p50 := t.add(newRow(fmt.Sprintf("session setup `… true` p50, %d runs", cfg.setupN), "ms", 1))
	p99 := t.add(newRow(fmt.Sprintf("session setup `… true` p99, %d runs", cfg.setupN), "ms", 1))
	p50.target, p50.check = "≤ 0.2× jump", atMostJump(0.2)
	set := func(dst func(*row) *float64, ds []time.Duration) {
		*dst(p50) = float64(pct(ds, 50)) / 1e6
		*dst(p99) = float64(pct(ds, 99)) / 1e6
	}
	ds, err := setupTimes(ctx, te.techArgv("--", "true"), cfg.setupN)
	if err != nil {
		return err
	}
	set(func(r *row) *float64 { return &r.tether }, ds)
	logf("tether: p50 %s p99 %s", ms(pct(ds, 50)), ms(pct(ds, 99)))
	if se == nil {
		return nil
	}
	if ds, err = setupTimes(ctx, se.sshArgs(false, "true"), cfg.setupN); err != nil {
		return err
	}
	set(func(r *row) *float64 { return &r.direct }, ds)
	if ds, err = setupTimes(ctx, se.sshArgs(true, "true"), cfg.setupN); err != nil {
		return err
	}
	set(func(r *row) *float64 { return &r.jump }, ds)
	logf("openssh via jump: p50 %s p99 %s", ms(pct(ds, 50)), ms(pct(ds, 99)))
	return nil
}

// techHas reports whether `tech SUBCOMMAND --help` works.
func techHas(ctx context.Context, te *tetherEnv, sub ...string) bool {
	_, err := te.tech(ctx, "", append(sub, "--help")...)
	return err == nil
}

// benchFiles: upload and download of one file with tech cp and scp.
func benchFiles(ctx context.Context, cfg *config, te *tetherEnv, se *sshEnv, t *table, dir string) error {
	mib := cfg.fileBytes >> 20
	up := t.add(newRow(fmt.Sprintf("file upload, %d MiB", mib), "MB/s", 0))
	down := t.add(newRow(fmt.Sprintf("file download, %d MiB", mib), "MB/s", 0))
	for _, r := range []*row{up, down} {
		r.target, r.check = "≥ 1.5× scp via jump", atLeastJump(1.5)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	src := filepath.Join(dir, "src.bin")
	if _, err := runOut(ctx, "", "sh", "-c", fmt.Sprintf("head -c %d /dev/urandom > %s", cfg.fileBytes, src)); err != nil {
		return err
	}
	defer os.Remove(src)
	// Write the source file out before timing anything: otherwise its 1 GiB
	// of dirty pages is flushed during whichever transfer runs first.
	if _, err := runOut(ctx, "", "sync"); err != nil {
		return err
	}
	timed := func(f func() error) (float64, error) {
		t0 := time.Now()
		if err := f(); err != nil {
			return 0, err
		}
		return mbps(cfg.fileBytes, time.Since(t0)), nil
	}
	if techHas(ctx, te, "cp") {
		// tech cp exists: device paths are relative to the end user's home.
		var err error
		name := fmt.Sprintf("tetherbench-%d.bin", os.Getpid())
		home, _ := os.UserHomeDir()
		defer os.Remove(filepath.Join(home, name))
		if up.tether, err = timed(func() error { _, err := te.tech(ctx, "", "cp", "--force", src, "dev:"+name); return err }); err != nil {
			return fmt.Errorf("tech cp upload: %w", err)
		}
		back := filepath.Join(dir, "tether-down.bin")
		if down.tether, err = timed(func() error { _, err := te.tech(ctx, "", "cp", "--force", "dev:"+name, back); return err }); err != nil {
			return fmt.Errorf("tech cp download: %w", err)
		}
		os.Remove(back)
		logf("tech cp: up %.0f, down %.0f MB/s", up.tether, down.tether)
	} else {
		up.tetherText, down.tetherText = "n/a (not implemented yet)", "n/a (not implemented yet)"
		t.note("file transfer: `tech cp` does not exist yet; only the scp baseline was measured")
	}
	if se == nil {
		return nil
	}
	for _, c := range []struct {
		jump bool
		up   *float64
		down *float64
	}{{false, &up.direct, &down.direct}, {true, &up.jump, &down.jump}} {
		dst := filepath.Join(dir, "scp-up.bin")
		var err error
		if *c.up, err = timed(func() error { return se.scp(ctx, c.jump, src, "target:"+dst) }); err != nil {
			return err
		}
		back := filepath.Join(dir, "scp-down.bin")
		if *c.down, err = timed(func() error { return se.scp(ctx, c.jump, "target:"+dst, back) }); err != nil {
			return err
		}
		os.Remove(dst)
		os.Remove(back)
	}
	logf("scp via jump: up %.0f, down %.0f MB/s", up.jump, down.jump)
	return nil
}

// benchRecording: terminal throughput with session recording on and off.
// "Off" is a second agent built with the bench-only tag tether_norecord
// (bench/run.sh builds it as bin/agent-norecord); both are measured back
// to back so the machine's noise hits them alike.
func benchRecording(ctx context.Context, cfg *config, te *tetherEnv, t *table) error {
	r := t.add(newRow("recording cost: throughput lost with recording on", "%", 1))
	r.target, r.check = "≤ 10%", atMost(10)
	if _, err := os.Stat(cfg.bin("agent-norecord")); err != nil {
		r.tetherText = "n/a (bin/agent-norecord not built)"
		return nil
	}
	if err := te.addAgent(ctx, "dev-norec", cfg.bin("agent-norecord")); err != nil {
		return err
	}
	cmd := throughputCmd(cfg.termBytes)
	off := &contender{name: "tether without recording", argv: te.techArgvFor("dev-norec", "-t", "--", cmd)}
	on := &contender{name: "tether with recording", argv: te.techArgv("-t", "--", cmd)}
	if err := termThroughputs([]*contender{off, on}, cfg.termBytes, cfg.termRuns); err != nil {
		return err
	}
	r.tether = max(0, (off.best-on.best)/off.best*100)
	t.note("recording cost: %.1f MB/s with recording, %.1f MB/s without (bench-only agent build, runs interleaved)", on.best, off.best)
	return nil
}
