package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// storeSide is one relay of the PostgreSQL-against-bbolt comparison.
type storeSide struct {
	name  string
	te    *tetherEnv
	setup []time.Duration // tech connect dev -- true
	proto []time.Duration // in-process technician and device, to consent
	fleet *fleet
	rss0  int64   // KiB, before the idle agents
	rss1  int64   // KiB, with them
	perAg float64 // KiB per idle agent
}

// benchStore: the same measurements on a relay keeping its state in bbolt
// and on one keeping it in PostgreSQL (a throwaway server the driver starts,
// on a Unix socket, as an unprivileged user, durable: fsync on; more
// settings in BENCH_STORE_PG_SETTINGS, e.g. log_statement=all), in one run: session setup
// `tech connect dev -- true`, the two relays taking turns in blocks, and
// relay RSS per idle agent (the driver's agents).
func benchStore(ctx context.Context, cfg *config, ps *procs, dir string, t *table) error {
	rows := newStoreRows(cfg, t)
	var settings []string
	for _, kv := range strings.Split(os.Getenv("BENCH_STORE_PG_SETTINGS"), ",") {
		if kv = strings.TrimSpace(kv); kv != "" {
			settings = append(settings, kv)
		}
	}
	pg, url, err := launchDB("tetherbench", settings...)
	if err != nil {
		return err
	}
	defer pg.Close()
	bolt := &storeSide{name: "bbolt"}
	pgs := &storeSide{name: "PostgreSQL"}
	if bolt.te, err = startTetherWith(ctx, cfg, ps, filepath.Join(dir, "store-bolt"), tetherOpts{}); err != nil {
		return fmt.Errorf("bbolt relay: %w", err)
	}
	defer bolt.te.stop()
	if pgs.te, err = startTetherWith(ctx, cfg, ps, filepath.Join(dir, "store-pg"), tetherOpts{relayFlags: []string{"--store", url}}); err != nil {
		return fmt.Errorf("PostgreSQL relay: %w", err)
	}
	defer pgs.te.stop()
	sides := []*storeSide{bolt, pgs}
	// Sessions from tech first, with nothing else on the relays (the
	// transaction count is theirs alone); then memory with the idle
	// agents; then sessions from the driver's technician to those agents.
	var xact0 int64
	if !cfg.quick {
		xact0, _ = pgXacts(ctx, url)
	}
	if err := storeSetups(ctx, sides, cfg.setupN); err != nil {
		return err
	}
	if xact1, err := pgXacts(ctx, url); err == nil && !cfg.quick {
		// Everything the PostgreSQL relay did meanwhile counts: the
		// agent's pings and the sessions' ends as well as their setup.
		t.note("store: PostgreSQL committed %.1f transactions per `tech connect dev -- true` (%d over %d sessions, everything the relay did meanwhile included)",
			float64(xact1-xact0)/float64(cfg.setupN), xact1-xact0, cfg.setupN)
	}
	defer func() {
		for _, s := range sides {
			if s.fleet != nil {
				s.fleet.close()
			}
		}
	}()
	if err := storeIdle(ctx, cfg, sides); err != nil {
		return fmt.Errorf("idle agents: %w", err)
	}
	if err := protoSetups(sides, cfg.storeProtoN); err != nil {
		return err
	}
	rows.fill(bolt, pgs)
	t.note("store: setup with in-process protocol peers (request to consent, no tech process) p50 %s (bbolt) vs %s (PostgreSQL), p99 %s vs %s",
		ms(pct(bolt.proto, 50)), ms(pct(pgs.proto, 50)), ms(pct(bolt.proto, 99)), ms(pct(pgs.proto, 99)))
	t.note("store: setup p50 %s (bbolt) vs %s (PostgreSQL), p99 %s vs %s over %d runs each, in alternating blocks; relay RSS before the %d agents %.1f vs %.1f MiB, %.1f vs %.1f KiB per agent; machine load %s",
		ms(pct(bolt.setup, 50)), ms(pct(pgs.setup, 50)), ms(pct(bolt.setup, 99)), ms(pct(pgs.setup, 99)), cfg.setupN,
		cfg.storeAgents, float64(bolt.rss0)/1024, float64(pgs.rss0)/1024, bolt.perAg, pgs.perAg, loadAvgs())
	logf("%s", t.notes[len(t.notes)-1])
	return nil
}

// storeRows are the comparison's rows in the table; the tether cell is
// PostgreSQL's figure and the text says bbolt's and the ratio.
type storeRows struct {
	p50, p99, proto50, proto99, rss *row
}

func newStoreRows(cfg *config, t *table) *storeRows {
	r := &storeRows{
		p50:     t.add(newRow(fmt.Sprintf("PostgreSQL ÷ bbolt: session setup `… true` p50, %d runs", cfg.setupN), "×", 2)),
		p99:     t.add(newRow(fmt.Sprintf("PostgreSQL ÷ bbolt: session setup `… true` p99, %d runs", cfg.setupN), "×", 2)),
		proto50: t.add(newRow(fmt.Sprintf("PostgreSQL ÷ bbolt: session setup p50, protocol peers in-process, %d runs", cfg.storeProtoN), "×", 2)),
		proto99: t.add(newRow(fmt.Sprintf("PostgreSQL ÷ bbolt: session setup p99, protocol peers in-process, %d runs", cfg.storeProtoN), "×", 2)),
		rss:     t.add(newRow(fmt.Sprintf("PostgreSQL ÷ bbolt: relay RSS with %d idle agents", cfg.storeAgents), "×", 2)),
	}
	r.p50.target, r.p50.check = "≤ 1.5×", atMost(1.5)
	r.proto50.target, r.proto50.check = "≤ 1.5×", atMost(1.5)
	r.rss.target = "≤ 1.1× (no regression)"
	if !cfg.quick {
		// A smoke run's few agents weigh less than the garbage a relay
		// has not yet handed back since its start.
		r.rss.check = atMost(1.1)
	}
	return r
}

// fill writes the ratios, with both figures in the cell.
func (r *storeRows) fill(bolt, pgs *storeSide) {
	set := func(rw *row, b, p float64, unit string) {
		rw.tether = p / b
		rw.tetherText = fmt.Sprintf("%.2f (%.1f vs %.1f %s)", rw.tether, p, b, unit)
	}
	set(r.p50, float64(pct(bolt.setup, 50))/1e6, float64(pct(pgs.setup, 50))/1e6, "ms")
	set(r.p99, float64(pct(bolt.setup, 99))/1e6, float64(pct(pgs.setup, 99))/1e6, "ms")
	set(r.proto50, float64(pct(bolt.proto, 50))/1e6, float64(pct(pgs.proto, 50))/1e6, "ms")
	set(r.proto99, float64(pct(bolt.proto, 99))/1e6, float64(pct(pgs.proto, 99))/1e6, "ms")
	set(r.rss, float64(bolt.rss1)/1024, float64(pgs.rss1)/1024, "MiB")
}

// storeSetups times n sessions on each side, in blocks of 5 taking turns.
func storeSetups(ctx context.Context, sides []*storeSide, n int) error {
	const block = 5
	for done := 0; done < n; done += block {
		k := min(block, n-done)
		for _, s := range sides {
			ds, err := setupTimes(ctx, s.te.techArgv("--", "true"), k)
			if err != nil {
				return fmt.Errorf("%s relay: %w", s.name, err)
			}
			s.setup = append(s.setup, ds...)
		}
	}
	return nil
}

// storeIdle enrolls cfg.storeAgents devices on each side's relay, then
// (both relays having idled alike) connects their agents and measures each
// relay's RSS before and with them, as the idle part does.
func storeIdle(ctx context.Context, cfg *config, sides []*storeSide) error {
	for _, s := range sides {
		f, err := newFleet(ctx, s.te, cfg.storeAgents)
		if f != nil {
			s.fleet = f // the caller closes it
		}
		if err != nil {
			return fmt.Errorf("%s relay: %w", s.name, err)
		}
	}
	time.Sleep(cfg.settle) // let start-up and enrolment garbage go
	var err error
	for _, s := range sides {
		if s.rss0, err = rssKiB(s.te.relay.PID()); err != nil {
			return err
		}
		if err := s.fleet.connectAll(); err != nil {
			return fmt.Errorf("%s relay: %w", s.name, err)
		}
	}
	time.Sleep(cfg.settle) // let the connection burst's garbage be collected
	for _, s := range sides {
		if s.rss1, err = rssKiB(s.te.relay.PID()); err != nil {
			return err
		}
		s.perAg = float64(s.rss1-s.rss0) / float64(len(s.fleet.devs))
		logf("%s relay: RSS %d → %d KiB with %d idle agents: %.1f KiB per agent", s.name, s.rss0, s.rss1, len(s.fleet.devs), s.perAg)
	}
	return nil
}

// protoSetups times n sessions on each side with the fleet's in-process
// technician and devices: from the request to the device's consent (TLS,
// pairing, the end-to-end handshake), a different device each time, in
// blocks of 5 taking turns.
func protoSetups(sides []*storeSide, n int) error {
	const block = 5
	closed := make(chan struct{})
	close(closed)
	sink := make(chan time.Duration)
	for done := 0; done < n; done += block {
		for _, s := range sides {
			for i := done; i < min(done+block, n); i++ {
				t0 := time.Now()
				var d time.Duration
				ready := func() { d = time.Since(t0) }
				if err := s.fleet.techSession(s.fleet.devs[i%len(s.fleet.devs)], time.Hour, ready, closed, sink); err != nil {
					return fmt.Errorf("%s relay: %w", s.name, err)
				}
				s.proto = append(s.proto, d)
			}
		}
	}
	return nil
}

// pgXacts is how many transactions the database at url has committed or
// rolled back.
func pgXacts(ctx context.Context, url string) (int64, error) {
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		return 0, err
	}
	defer c.Close(ctx)
	// A backend flushes its statistics at most once a second, and an idle
	// one 10 s after its last transaction (PGSTAT_IDLE_INTERVAL).
	time.Sleep(11 * time.Second)
	var n int64
	err = c.QueryRow(ctx, "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()").Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("pg_stat_database: %w", err)
	}
	return n, nil
}
