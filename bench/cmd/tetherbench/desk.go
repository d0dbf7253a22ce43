package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// benchDesktop: the remote desktop on a 1920×1080 Xvfb — idle with a clock,
// typing, terminal scrolling, a scrolling web page — seen through Tether
// and through x11vnc + websockify + noVNC, one after the other on the same
// workload: updates drawn per second, bytes per second received by the
// viewer, change→drawn latency (a time-coded marker window), the capturing
// process's CPU and the lag's growth over the run.
func benchDesktop(ctx context.Context, cfg *config, te *tetherEnv, t *table, dir string) error {
	e := &deskEnv{ps: te.ps, dir: dir, vncTLS: os.Getenv("BENCH_DESK_VNC_TLS") != "0"}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	missing := deskMissing()
	for _, m := range missing {
		logf("desktop: missing %s", m)
	}
	if deskNeeds(missing, "Xvfb", "xterm") {
		t.note("desktop: not run, missing: %s", strings.Join(missing, ", "))
		return errors.New("desktop: Xvfb or xterm missing: " + strings.Join(missing, ", "))
	}
	e.chromium, _ = exec.LookPath("chromium")
	vncOK := !deskNeeds(missing, "x11vnc", "websockify", "chromium", "noVNC")
	var err error
	if e.display, e.xvfbPID, err = startXvfb(te.ps, deskW, deskH); err != nil {
		return err
	}
	logf("desktop: Xvfb on %s", e.display)
	if e.web, err = startDeskWeb(); err != nil {
		return err
	}
	defer e.web.close()
	if e.marker, err = newMarker(e.display); err != nil {
		return err
	}
	defer e.marker.close()

	agent, err := te.addAgentEnv(ctx, "desk", te.cfg.bin("agent"),
		[]string{"DISPLAY=" + e.display, "XAUTHORITY=", "WAYLAND_DISPLAY=", "XDG_SESSION_TYPE=x11"})
	if err != nil {
		return fmt.Errorf("desktop agent: %w", err)
	}
	dt := &deskTable{}
	for _, w := range deskWorkloads() {
		if ctx.Err() != nil {
			break
		}
		if !cfg.deskWork(w.key) {
			continue
		}
		dur := cfg.deskFor
		if w.overload {
			dur = cfg.deskLoadFor
		}
		logf("desktop: %s (%v per contender)", w.name, dur)
		teardown, err := w.setup(ctx, e)
		if err != nil {
			logf("desktop %s: %v", w.name, err)
			t.note("desktop %s: %v", w.name, err)
			continue
		}
		var tr, vr *deskResult
		tname := "tether (tech view page)"
		if !pageMode {
			tname = "tether (Go viewer)"
		}
		tr = deskSide(ctx, e, w, dur, tname, t, func() (deskViewer, error) {
			return startTetherViewer(ctx, te, "desk", agent.PID())
		})
		if vncOK {
			vr = deskSide(ctx, e, w, dur, "x11vnc", t, func() (deskViewer, error) { return startVNCViewer(e) })
		}
		teardown()
		dt.add(w, tr, vr)
	}
	if vncOK && !e.vncTLS {
		t.note("desktop: BENCH_DESK_VNC_TLS=0: noVNC reached websockify without TLS")
	}
	if !vncOK {
		t.note("desktop: the x11vnc + noVNC columns are empty, missing: %s", strings.Join(missing, ", "))
	}
	t.section(dt.markdown(cfg))
	return nil
}

// deskSide measures one contender on one workload; a failure is logged,
// noted and gives no figures.
func deskSide(ctx context.Context, e *deskEnv, w *deskWorkload, dur time.Duration, name string, t *table,
	start func() (deskViewer, error)) *deskResult {
	v, err := start()
	if err != nil {
		logf("desktop %s, %s: %v", w.name, name, err)
		t.note("desktop %s, %s: %v", w.name, name, err)
		return nil
	}
	self0 := selfCPU()
	x0, _ := cpuTime(e.xvfbPID)
	r, err := measureDesk(ctx, e, w, v, dur)
	self := selfCPU() - self0
	x1, _ := cpuTime(e.xvfbPID)
	v.close()
	if err != nil {
		logf("desktop %s, %s: %v", w.name, name, err)
		t.note("desktop %s, %s: %v", w.name, name, err)
		return nil
	}
	logf("desktop %s, %s: %.1f updates/s, %.1f KB/s down, %.2f KB/s up, p50 %s p99 %s (%d changes, %d not drawn), CPU %.1f%%, lag growth %s; X round trip p50 %s; CPU of Xvfb %.0f%%, of the driver %.0f%% (tech's decoding included); load average %s",
		w.name, name, r.perSec(float64(r.updates)), r.perSec(float64(r.down))/1e3, r.perSec(float64(r.up))/1e3,
		ms(pct(r.lat, 50)), ms(pct(r.lat, 99)), len(r.lat)+r.missed, r.missed, 100*r.cpu.Seconds()/r.dur.Seconds(),
		ms(r.growth()), ms(pct(r.syncs, 50)), 100*(x1-x0).Seconds()/r.dur.Seconds(), 100*self.Seconds()/r.dur.Seconds(), loadAvg())
	return r
}

// deskMissing lists the programs and files the desktop part needs that
// this machine lacks, with the Debian package to install. `make bench`
// installs nothing for it.
func deskMissing() []string {
	var out []string
	for _, p := range []struct{ bin, pkg string }{{"Xvfb", "xvfb"}, {"xterm", "xterm"}, {"x11vnc", "x11vnc"},
		{"websockify", "websockify"}, {"chromium", "chromium"}} {
		if _, err := exec.LookPath(p.bin); err != nil {
			out = append(out, fmt.Sprintf("%s (Debian package %s)", p.bin, p.pkg))
		}
	}
	if _, err := os.Stat(noVNCDir + "/core/rfb.js"); err != nil {
		out = append(out, "noVNC in "+noVNCDir+" (Debian package novnc)")
	}
	return out
}

// deskNeeds reports whether any of names is missing.
func deskNeeds(missing []string, names ...string) bool {
	for _, m := range missing {
		for _, n := range names {
			if strings.HasPrefix(m, n+" ") {
				return true
			}
		}
	}
	return false
}

// loadAvg is the machine's 1-minute load average, from /proc/loadavg.
func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "?"
}
