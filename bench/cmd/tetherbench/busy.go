package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// benchBusy: concurrent sessions each echoing 1 KiB every 100 ms, through a
// relay of their own. The relay runs under `taskset` on one core and the
// load generator (this process: the technicians and the devices, in-process
// protocol peers) is pinned to another, so that the relay's figures are
// its own and the echo latency is not the generator queueing behind the
// relay for the same core.
func benchBusy(ctx context.Context, cfg *config, ps *procs, dir string, t *table) error {
	n := cfg.busySess
	p50Row := t.add(newRow(fmt.Sprintf("echo p50, %d busy sessions, relay on its own core", n), "ms", 2))
	p99Row := t.add(newRow(fmt.Sprintf("echo p99, %d busy sessions, relay on its own core", n), "ms", 2))
	p99Row.target, p99Row.check = "≤ 20 ms", atMost(20)
	cpuRow := t.add(newRow(fmt.Sprintf("relay CPU, %d sessions echoing 1 KiB / 100 ms", n), "% of a core", 1))
	rssRow := t.add(newRow(fmt.Sprintf("relay RSS, %d busy sessions", n), "MiB", 1))
	pin := pinPlan(cfg)
	opts := tetherOpts{}
	if pin.relay != "" {
		opts.wrap = []string{"taskset", "-c", pin.relay}
	}
	te, err := startTetherWith(ctx, cfg, ps, filepath.Join(dir, "busy"), opts)
	if err != nil {
		return fmt.Errorf("start the busy relay: %w", err)
	}
	defer te.stop()
	f, err := newFleet(ctx, te, n)
	if err != nil {
		return err
	}
	defer f.close()
	if err := f.connectAll(); err != nil {
		return err
	}
	if pin.gen != nil {
		unpin, err := pinSelf(pin.gen)
		if err != nil {
			return fmt.Errorf("pin the load generator: %w", err)
		}
		defer unpin()
		logf("busy: relay on CPU %s (taskset), load generator on CPU %v", pin.relay, pin.gen)
	} else {
		t.note("busy: fewer than 2 CPUs, nothing pinned: the figures mix the relay and the load generator")
	}
	r, err := runBusy(f, te, n, cfg.busyFor)
	if err != nil {
		return err
	}
	p50Row.tether = float64(pct(r.rtts, 50)) / 1e6
	p99Row.tether = float64(pct(r.rtts, 99)) / 1e6
	cpuRow.tether = r.relayCPU
	rssRow.tether = float64(r.relayRSS) / 1024
	t.note("busy: %d echoes in %v (%.0f/s; %d expected at one per session per 100 ms), load generator %.0f%% of its core; runnable but waiting for their CPU (behind their own other threads or other processes): the relay %.0f ms per second, the generator %.0f; machine load %s; relay RSS %.1f MiB before the sessions",
		len(r.rtts), cfg.busyFor, float64(len(r.rtts))/cfg.busyFor.Seconds(), int(float64(n)*cfg.busyFor.Seconds()*10),
		r.genCPU, r.relayWait, r.genWait, loadAvgs(), float64(r.relayRSS0)/1024)
	logf("busy: relay CPU %.1f%%, RSS %d KiB, waited %.0f ms/s for its CPU; echo p50 %s p99 %s over %d echoes; generator CPU %.0f%%; %d session errors",
		r.relayCPU, r.relayRSS, r.relayWait, ms(pct(r.rtts, 50)), ms(pct(r.rtts, 99)), len(r.rtts), r.genCPU, r.errs)
	return nil
}

// busyResult is what one busy run measured.
type busyResult struct {
	rtts                []time.Duration
	relayCPU, genCPU    float64 // % of a core
	relayWait, genWait  float64 // ms per second each waited for its CPU
	relayRSS, relayRSS0 int64   // KiB, under load and before the sessions
	errs                int
}

// runBusy starts n echoing sessions on f's first n devices, lets them
// settle, and measures for d.
func runBusy(f *fleet, te *tetherEnv, n int, d time.Duration) (*busyResult, error) {
	res := &busyResult{}
	var err error
	if res.relayRSS0, err = rssKiB(te.relay.PID()); err != nil {
		return nil, err
	}
	var ready sync.WaitGroup
	stop := make(chan struct{})
	rtts := make(chan time.Duration, 1<<20)
	errs := make(chan error, n)
	ready.Add(n)
	sem := make(chan struct{}, 16) // start sessions a few at a time
	for i := range n {
		go func() {
			sem <- struct{}{}
			release := sync.OnceFunc(func() { <-sem; ready.Done() })
			err := f.techSession(f.devs[i], 100*time.Millisecond, release, stop, rtts)
			release()
			if err != nil {
				errs <- err
			}
		}()
	}
	ready.Wait()
	select {
	case err := <-errs:
		close(stop)
		return nil, fmt.Errorf("a session failed to start: %w", err)
	default:
	}
	logf("%d sessions running", n)
	time.Sleep(2 * time.Second)
	for len(rtts) > 0 { // only steady state counts
		<-rtts
	}
	g0 := selfCPU()
	w0, _ := runqueueWait(te.relay.PID())
	gw0, _ := runqueueWait(os.Getpid())
	t0 := time.Now()
	res.relayCPU, err = cpuShare(te.relay.PID(), d)
	g1 := selfCPU()
	w1, _ := runqueueWait(te.relay.PID())
	gw1, _ := runqueueWait(os.Getpid())
	el := time.Since(t0).Seconds()
	res.genCPU = 100 * (g1 - g0).Seconds() / el
	res.relayWait = float64((w1 - w0).Milliseconds()) / el
	res.genWait = float64((gw1 - gw0).Milliseconds()) / el
	rss, rssErr := rssKiB(te.relay.PID())
	close(stop)
	if err != nil {
		return nil, err
	}
	if rssErr != nil {
		return nil, rssErr
	}
	res.relayRSS = rss
	for len(rtts) > 0 {
		res.rtts = append(res.rtts, <-rtts)
	}
	res.errs = len(errs)
	if len(res.rtts) == 0 {
		return nil, fmt.Errorf("no echo came back in %v", d)
	}
	return res, nil
}

// cpuPlan is where the busy part runs the relay and the load generator.
type cpuPlan struct {
	relay string // taskset's CPU list for the relay; empty: not pinned
	gen   []int  // the generator's CPUs; nil: not pinned
}

// pinPlan puts the relay on the last CPU this process may use and the
// generator on the others (BENCH_BUSY_RELAY_CPU and BENCH_BUSY_GEN_CPU
// override), or pins nothing with fewer than 2 CPUs.
func pinPlan(cfg *config) cpuPlan {
	cpus, err := allowedCPUs()
	if err != nil || len(cpus) < 2 {
		return cpuPlan{}
	}
	p := cpuPlan{relay: fmt.Sprint(cpus[len(cpus)-1]), gen: cpus[:len(cpus)-1]}
	if cfg.busyRelayCPU >= 0 {
		p.relay = fmt.Sprint(cfg.busyRelayCPU)
	}
	if cfg.busyGenCPU >= 0 {
		p.gen = []int{cfg.busyGenCPU}
	}
	return p
}
