package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// clusterIdleResult is what benchClusterIdle measured of one relay.
type clusterIdleResult struct {
	agents     int
	rss0, rss1 int64   // KiB before the agents connected and after
	cpu        float64 // % of a core while the agents idle
}

// benchClusterIdle: idle agents spread evenly over three relays on one
// PostgreSQL, in-process agents that speak the real protocol (the idle
// part's fleet): each relay's RSS and CPU, the time to connect them all,
// PostgreSQL's CPU, and whether every device is seen online from one
// relay.
func benchClusterIdle(ctx context.Context, cfg *config, ps *procs, dir string, t *table) error {
	cc := loadClusterConfig()
	const n = 3
	pg, url, err := launchDB("bench_idle")
	if err != nil {
		return err
	}
	defer pg.Close()
	c, err := startCluster(ctx, cfg, ps, filepath.Join(dir, "idle"), url, n)
	if err != nil {
		return err
	}
	defer c.stop()
	f, err := newFleet(ctx, c.te, cc.idle)
	if err != nil {
		return err
	}
	defer f.close()
	// Relay 1 signed the technician in and enrolled the fleet: a fresh
	// process, so that its memory before the agents is comparable.
	if err := c.restart(0); err != nil {
		return err
	}
	views := c.views(f)
	res := make([]clusterIdleResult, n)
	time.Sleep(3 * time.Second) // every relay settled after its start
	for i, p := range c.relays {
		if res[i].rss0, err = rssKiB(p.PID()); err != nil {
			return err
		}
	}
	for k := range f.devs {
		res[k%n].agents++
	}
	t0 := time.Now()
	if err := parallel(16, len(f.devs), func(k int) error { return views[k%n].connect(f.devs[k]) }); err != nil {
		return err
	}
	connectTime := time.Since(t0)
	logf("connected %d agents to %d relays in %v", len(f.devs), n, connectTime.Round(time.Millisecond))
	online, err := onlineCount(ctx, c.te, len(f.devs))
	if err != nil {
		return err
	}
	time.Sleep(cc.settle) // the connection burst's garbage
	for i, p := range c.relays {
		if res[i].rss1, err = rssKiB(p.PID()); err != nil {
			return err
		}
	}
	// CPU over two ping periods, every relay and PostgreSQL at once.
	window := cc.idleFor
	var wg sync.WaitGroup
	for i, p := range c.relays {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i].cpu, _ = cpuShare(p.PID(), window)
		}()
	}
	pgPID := postmasterPID(pg)
	pg0, t1 := treeCPU(pgPID), time.Now()
	wg.Wait()
	pgCPU := 100 * (treeCPU(pgPID) - pg0).Seconds() / time.Since(t1).Seconds()
	for i, r := range res {
		logf("relay %d: %d agents, RSS %d → %d KiB (%.1f KiB per agent), idle CPU %.2f%%", i+1, r.agents, r.rss0, r.rss1,
			float64(r.rss1-r.rss0)/float64(max(r.agents, 1)), r.cpu)
	}
	t.section(clusterIdleMarkdown(len(f.devs), connectTime, online, pgCPU, res))
	return nil
}

// onlineCount asks the first relay how many devices it lists online,
// waiting (bounded) until it lists want of them: presence on the other
// relays reaches it through the database.
func onlineCount(ctx context.Context, te *tetherEnv, want int) (int, error) {
	got := 0
	err := waitFor(30*time.Second, fmt.Sprintf("%d devices online", want), func() bool {
		out, err := te.tech(ctx, "", "devices", "list", "--json")
		if err != nil {
			return false
		}
		got = strings.Count(out, `"online":true`)
		return got >= want
	})
	if err != nil {
		logf("cluster idle: %v (%d listed online)", err, got)
	}
	return got, nil
}

// clusterIdleMarkdown renders benchClusterIdle's table.
func clusterIdleMarkdown(total int, connect time.Duration, online int, pgCPU float64, res []clusterIdleResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n#### %d idle agents spread over %d relays (one PostgreSQL)\n\n", total, len(res))
	b.WriteString("| relay | agents | RSS before (MiB) | RSS with the agents (MiB) | RSS per agent (KiB) | CPU while idle (% of a core) |\n")
	b.WriteString("| ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for i, r := range res {
		fmt.Fprintf(&b, "| %d | %d | %.1f | %.1f | %.1f | %.2f |\n", i+1, r.agents, float64(r.rss0)/1024, float64(r.rss1)/1024,
			float64(r.rss1-r.rss0)/float64(max(r.agents, 1)), r.cpu)
	}
	fmt.Fprintf(&b, "\n- connect time, all %d agents (16 at a time, authenticated control connections): %.1f s\n", total, connect.Seconds())
	fmt.Fprintf(&b, "- devices listed online by relay 1 (agents on all three relays): %d of %d\n", online, total)
	fmt.Fprintf(&b, "- PostgreSQL CPU while the agents idle: %.2f%% of a core\n", pgCPU)
	return b.String()
}
