package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/store/pgtest"
	"github.com/tether-support/tether/internal/transport"
)

// clusterSetupResult is one relay count's run of benchClusterSetup.
type clusterSetupResult struct {
	relays   int
	sessions int
	failed   int
	firstErr string
	elapsed  time.Duration
	p50, p99 time.Duration
	relayCPU []float64 // % of a core, each relay
	pgCPU    float64   // % of a core, the postmaster and its backends
	genCPU   float64   // % of a core, this process (technicians and agents)
	busy     float64   // % of one core, the whole machine
}

// maxSetupFailures ends a run early: something is broken, not slow.
const maxSetupFailures = 50

// benchClusterSetup: sessions per second the cluster brokers with 1, 2
// and 3 relays on one PostgreSQL. Each technician (in-process, the real
// protocol) requests a session with its own device, completes the
// end-to-end handshake, waits for consent and ends the session, again and
// again; with several relays the device's agent is on one relay and its
// technician on the next, so every session crosses two relays.
func benchClusterSetup(ctx context.Context, cfg *config, ps *procs, dir string, t *table) error {
	cc := loadClusterConfig()
	pg, err := launchPostgres()
	if err != nil {
		return err
	}
	defer pg.Close()
	var res []clusterSetupResult
	for _, n := range cc.relays {
		if ctx.Err() != nil {
			break
		}
		r, err := clusterSetupRun(ctx, cfg, cc, ps, pg, filepath.Join(dir, fmt.Sprintf("setup-%d", n)), n)
		if err != nil {
			return fmt.Errorf("%d relays: %w", n, err)
		}
		logf("%d relays: %.1f sessions/s, setup p50 %s p99 %s, %d failed", n, float64(r.sessions)/r.elapsed.Seconds(), ms(r.p50), ms(r.p99), r.failed)
		res = append(res, r)
	}
	t.section(clusterSetupMarkdown(cc, res))
	return nil
}

// clusterSetupRun measures one relay count on a fresh database.
func clusterSetupRun(ctx context.Context, cfg *config, cc clusterConfig, ps *procs, pg *pgtest.Server, dir string, n int) (clusterSetupResult, error) {
	res := clusterSetupResult{relays: n}
	url, err := pg.CreateDB(fmt.Sprintf("bench_setup_%d", n))
	if err != nil {
		return res, err
	}
	c, err := startCluster(ctx, cfg, ps, dir, url, n)
	if err != nil {
		return res, err
	}
	defer c.stop()
	f, err := newFleet(ctx, c.te, cc.workers)
	if err != nil {
		return res, err
	}
	defer f.close()
	views := c.views(f)
	agentAt := func(w int) *fleet { return views[w%n] }
	techAt := func(w int) *fleet { return views[(w+1)%n] }
	if err := parallel(8, len(f.devs), func(w int) error { return agentAt(w).connect(f.devs[w]) }); err != nil {
		return res, err
	}
	// One session each before timing: every device is known online on
	// every relay, every connection pool is warm.
	if err := parallel(len(f.devs), len(f.devs), func(w int) error {
		return retrySetup(techAt(w), f.devs[w], 20*time.Second)
	}); err != nil {
		return res, fmt.Errorf("warm-up session: %w", err)
	}

	cpu0 := make([]time.Duration, n)
	for i, p := range c.relays {
		cpu0[i], _ = cpuTime(p.PID())
	}
	pgPID := postmasterPID(pg)
	pg0, gen0, sys0 := treeCPU(pgPID), selfCPU(), systemBusy()
	t0 := time.Now()
	deadline := t0.Add(cc.setupFor)
	var mu sync.Mutex
	var ds []time.Duration
	var wg sync.WaitGroup
	for w := range f.devs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1_000_000 && time.Now().Before(deadline) && ctx.Err() == nil; i++ {
				d, err := techAt(w).setupOnce(f.devs[w])
				mu.Lock()
				stop := false
				if err != nil {
					res.failed++
					if res.firstErr == "" {
						res.firstErr = err.Error()
					}
					stop = res.failed >= maxSetupFailures
				} else {
					ds = append(ds, d)
				}
				mu.Unlock()
				if stop {
					return
				}
			}
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(t0)
	sec := res.elapsed.Seconds()
	for i, p := range c.relays {
		c1, _ := cpuTime(p.PID())
		res.relayCPU = append(res.relayCPU, 100*(c1-cpu0[i]).Seconds()/sec)
	}
	res.pgCPU = 100 * (treeCPU(pgPID) - pg0).Seconds() / sec
	res.genCPU = 100 * (selfCPU() - gen0).Seconds() / sec
	res.busy = 100 * (systemBusy() - sys0).Seconds() / sec
	res.sessions, res.p50, res.p99 = len(ds), pct(ds, 50), pct(ds, 99)
	if res.failed >= maxSetupFailures {
		return res, fmt.Errorf("%d sessions failed, the first: %s", res.failed, res.firstErr)
	}
	return res, nil
}

// retrySetup runs one session, retrying for up to limit (a device's
// presence reaches the other relays through the database).
func retrySetup(f *fleet, d *fakeDevice, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		_, err := f.setupOnce(d)
		if err == nil || time.Now().After(deadline) || f.ctx.Err() != nil {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// setupOnce plays a technician through one whole session with d: request,
// pairing, the end-to-end handshake and consent, timed; then it ends the
// session.
func (f *fleet) setupOnce(d *fakeDevice) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(f.ctx, 30*time.Second)
	defer cancel()
	t0 := time.Now()
	c, err := transport.Dial(ctx, f.endpoint(nil, f.token), protocol.PathTechSession)
	if err != nil {
		return 0, err
	}
	defer c.CloseNow()
	if err := c.WriteControl(ctx, &protocol.Control{Type: protocol.CtlRequest, Version: protocol.Version, Device: d.name, Caps: []string{protocol.CapShell}}); err != nil {
		return 0, err
	}
	var info *protocol.SessionInfo
	for info == nil {
		m, err := c.ReadControl(ctx)
		if err != nil {
			return 0, fmt.Errorf("session request: %w", err)
		}
		if m.Type == protocol.CtlPaired {
			info = m.Session
		}
	}
	p, err := params(info)
	if err != nil {
		return 0, err
	}
	ch, err := transport.Initiate(ctx, c, p)
	if err != nil {
		return 0, err
	}
	if t, _, err := ch.Recv(ctx); err != nil || t != protocol.InConsent {
		return 0, errors.Join(errors.New("no consent"), err)
	}
	took := time.Since(t0)
	ch.Send(ctx, protocol.InEnd, []byte("benchmark"))
	c.Close("benchmark")
	return took, nil
}

// clusterSetupMarkdown renders benchClusterSetup's table.
func clusterSetupMarkdown(cc clusterConfig, res []clusterSetupResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n#### Sessions per second the cluster brokers (%d technicians at once, %v per relay count, one PostgreSQL)\n\n", cc.workers, cc.setupFor)
	b.WriteString("| relays | sessions/s | setup p50 (ms) | setup p99 (ms) | each relay's CPU (% of a core) | relays' CPU per session (ms) | PostgreSQL CPU | PostgreSQL CPU per session (ms) | load generator CPU | anything else | machine busy (of 200%) | failed |\n")
	b.WriteString("| ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, r := range res {
		var cpus []string
		relays := 0.0
		for _, v := range r.relayCPU {
			cpus = append(cpus, fmt.Sprintf("%.0f", v))
			relays += v
		}
		rate := float64(r.sessions) / r.elapsed.Seconds()
		// % of a core ÷ sessions per second × 10 = ms of CPU per session.
		perSession := func(cpu float64) float64 { return cpu * 10 / max(rate, 1e-9) }
		fmt.Fprintf(&b, "| %d | %.1f | %.1f | %.1f | %s | %.1f | %.0f | %.1f | %.0f | %.0f | %.0f | %d |\n", r.relays, rate,
			float64(r.p50)/1e6, float64(r.p99)/1e6, strings.Join(cpus, " / "), perSession(relays), r.pgCPU, perSession(r.pgCPU),
			r.genCPU, max(0, r.busy-relays-r.pgCPU-r.genCPU), r.busy, r.failed)
	}
	for _, r := range res {
		if r.firstErr != "" {
			fmt.Fprintf(&b, "\n- %d relays: the first failure: %s\n", r.relays, r.firstErr)
		}
	}
	return b.String()
}
