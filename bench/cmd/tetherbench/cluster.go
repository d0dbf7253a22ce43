package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tether-support/tether/internal/store/pgtest"
)

// clusterConfig is what the cluster parts measure: BENCH_CLUSTER_SECONDS
// of session setups per relay count, with BENCH_CLUSTER_WORKERS
// technicians at once, and BENCH_CLUSTER_IDLE_AGENTS idle agents spread
// over three relays; BENCH_CLUSTER_RELAYS=1,2,3 are the relay counts of
// the first part. BENCH_QUICK=1 shrinks each.
type clusterConfig struct {
	setupFor time.Duration
	workers  int
	idle     int
	relays   []int // the relay counts measured
	// settle is the wait after the idle agents connected before memory is
	// read; idleFor the idle CPU window (two ping periods in a full run).
	settle, idleFor time.Duration
}

func loadClusterConfig() clusterConfig {
	quick := os.Getenv("BENCH_QUICK") == "1"
	pick := func(full, small int64) int64 {
		if quick {
			return small
		}
		return full
	}
	cc := clusterConfig{
		setupFor: time.Duration(envInt("BENCH_CLUSTER_SECONDS", pick(20, 5))) * time.Second,
		workers:  int(envInt("BENCH_CLUSTER_WORKERS", pick(12, 6))),
		idle:     int(envInt("BENCH_CLUSTER_IDLE_AGENTS", pick(10000, 300))),
		settle:   time.Duration(pick(10, 3)) * time.Second,
		idleFor:  time.Duration(pick(30, 10)) * time.Second,
	}
	for _, s := range strings.Split(envStr("BENCH_CLUSTER_RELAYS", "1,2,3"), ",") {
		if k, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && k >= 1 && k <= 9 {
			cc.relays = append(cc.relays, k)
		}
	}
	return cc
}

// clusterEnv is relays on one PostgreSQL database: the first made by
// startTether (with a signed-in technician), the others as an operator
// adds them: `relay cluster export` on the first, `relay cluster join`.
type clusterEnv struct {
	te     *tetherEnv
	cfg    *config
	ps     *procs
	flags  []string // every relay's serve flags
	relays []*bgProc
	urls   []string
	data   []string // each relay's data directory
}

// startCluster starts n relays on the database url, each serving with
// extra flags too.
func startCluster(ctx context.Context, cfg *config, ps *procs, dir, url string, n int, flags ...string) (*clusterEnv, error) {
	relayFlags := append([]string{"--store", url}, flags...)
	te, err := startTether(ctx, cfg, ps, filepath.Join(dir, "relay-1"), relayFlags...)
	if err != nil {
		return nil, err
	}
	te.agent.stop() // the fleet plays the agents
	first := filepath.Join(te.dir, "data")
	c := &clusterEnv{te: te, cfg: cfg, ps: ps, flags: relayFlags, relays: []*bgProc{te.relay}, urls: []string{te.url}, data: []string{first}}
	bundle := filepath.Join(dir, "cluster.tar")
	if n > 1 {
		if _, err := runOut(ctx, "", cfg.bin("relay"), "cluster", "export", "--data", first, "--out", bundle); err != nil {
			return nil, fmt.Errorf("relay cluster export: %w", err)
		}
	}
	for i := 2; i <= n; i++ {
		data := filepath.Join(dir, fmt.Sprintf("relay-%d", i), "data")
		if _, err := runOut(ctx, "", cfg.bin("relay"), "cluster", "join", "--data", data, "--from", bundle); err != nil {
			return nil, fmt.Errorf("relay cluster join: %w", err)
		}
		p, u, err := c.serve(data, "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		c.relays, c.urls, c.data = append(c.relays, p), append(c.urls, u), append(c.data, data)
	}
	return c, nil
}

// serve starts a relay of the cluster on data, listening on addr, and
// returns it with its URL.
func (c *clusterEnv) serve(data, addr string) (*bgProc, string, error) {
	p, err := c.ps.start(nil, c.cfg.bin("relay"), serveArgs(data, addr, c.flags)...)
	if err != nil {
		return nil, "", err
	}
	var u string
	if err := waitFor(20*time.Second, "relay to listen", func() bool {
		out := p.Output()
		if i := strings.Index(out, "listening on "); i >= 0 {
			u = strings.Fields(out[i+len("listening on "):])[0]
		}
		return u != ""
	}); err != nil {
		return nil, "", fmt.Errorf("%w\n%s", err, p.Output())
	}
	return p, u, nil
}

// restart stops relay i and serves its data directory again on the same
// address: a fresh process, whose memory holds nothing of what came
// before (the first relay signed the technician in, with the password
// hash's memory, and enrolled the fleet).
func (c *clusterEnv) restart(i int) error {
	c.relays[i].stop()
	p, u, err := c.serve(c.data[i], strings.TrimPrefix(c.urls[i], "https://"))
	if err != nil {
		return err
	}
	c.relays[i], c.urls[i] = p, u
	if i == 0 {
		c.te.relay, c.te.url = p, u
	}
	return nil
}

// views returns, for each relay i, f's technician reaching relay i: the
// same sign-in, devices and context (closing f closes them all).
func (c *clusterEnv) views(f *fleet) []*fleet {
	vs := make([]*fleet, len(c.relays))
	for i := range vs {
		v := *f
		v.te = c.at(i)
		vs[i] = &v
	}
	return vs
}

// stop ends every relay of the cluster.
func (c *clusterEnv) stop() {
	for _, p := range c.relays {
		p.stop()
	}
}

// at returns a copy of the environment that reaches relay i, for a fleet
// whose devices or technician connect there.
func (c *clusterEnv) at(i int) *tetherEnv {
	te := *c.te
	te.url = c.urls[i]
	return &te
}

// treeCPU is the CPU time of pid and of its direct children (PostgreSQL's
// postmaster and its backends).
func treeCPU(pid int) time.Duration {
	total, _ := cpuTime(pid)
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		child, err := strconv.Atoi(e.Name())
		if err != nil || parentOf(child) != pid {
			continue
		}
		c, _ := cpuTime(child)
		total += c
	}
	return total
}

// parentOf returns a process's parent PID, or -1.
func parentOf(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 2 {
		return -1
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return -1
	}
	return ppid
}

// postmasterPID reads the server's PID from its data directory.
func postmasterPID(pg *pgtest.Server) int {
	b, err := os.ReadFile(filepath.Join(pg.Dir, "data", "postmaster.pid"))
	if err != nil {
		return -1
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		return -1
	}
	return pid
}

// launchPostgres starts the store and cluster parts' throwaway
// PostgreSQL, durable as a deployment runs it (bbolt syncs every write
// too; the test defaults turn fsync off), with extra settings too.
func launchPostgres(extra ...string) (*pgtest.Server, error) {
	settings := []string{"fsync=on", "full_page_writes=on", "synchronous_commit=on"}
	pg, err := pgtest.Launch(append(settings, extra...)...)
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL: %w (apt-get install postgresql)", err)
	}
	return pg, nil
}

// launchDB is launchPostgres with one database, name, made on it: the
// server and the database's URL.
func launchDB(name string, extra ...string) (*pgtest.Server, string, error) {
	pg, err := launchPostgres(extra...)
	if err != nil {
		return nil, "", err
	}
	url, err := pg.CreateDB(name)
	if err != nil {
		pg.Close()
		return nil, "", err
	}
	return pg, url, nil
}
