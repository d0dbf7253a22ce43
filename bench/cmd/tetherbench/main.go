// Command tetherbench measures Tether against OpenSSH on one machine in one
// run: terminal throughput, keystroke echo, session setup, file transfer,
// relay capacity with idle agents and busy sessions (the relay on a core of
// its own), the relay on PostgreSQL against bbolt, a relay cluster
// (sessions per second with 1, 2 and 3 relays, idle agents spread over
// three), and the cost of recording. It starts every process it needs on loopback (a relay, an
// agent, two sshd), stops each by its PID when done, and prints a markdown
// table. `make bench` runs it; see the README for the environment variables.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// config is what the environment asks for. BENCH_QUICK=1 shrinks every size
// for a smoke run.
type config struct {
	binDir     string
	termBytes  int64
	termRuns   int
	echoN      int
	setupN     int
	fileBytes  int64
	idleAgents int
	busySess   int
	busyFor    time.Duration
	// The busy part's CPUs (BENCH_BUSY_RELAY_CPU, BENCH_BUSY_GEN_CPU; -1:
	// the relay on the last allowed CPU, the generator on the others).
	busyRelayCPU int
	busyGenCPU   int
	storeAgents  int           // idle agents on each relay of the store part
	storeProtoN  int           // in-process session setups on each
	settle       time.Duration // wait for a relay's garbage to be collected
	quick        bool
	floodN       int
	floodRate    int
	deskFor      time.Duration   // each desktop workload, per contender
	deskLoadFor  time.Duration   // the overload workload, per contender
	deskOnly     map[string]bool // BENCH_DESK_WORKLOADS: idle,typing,term,page (empty: all)
	skip         map[string]bool
	resultsPath  string
	// agentB is another agent binary to compare with (the "ab" part).
	agentB string
	// The far-relay part: the delay added each way, and its sizes.
	farDelay     time.Duration
	farEchoN     int
	farSetupN    int
	farTermBytes int64
	farFileBytes int64
}

func (c *config) bin(name string) string { return filepath.Join(c.binDir, name) }

// deskWork reports whether the desktop workload key is to run.
func (c *config) deskWork(key string) bool { return c.deskOnly == nil || c.deskOnly[key] }

func loadConfig() *config {
	quick := os.Getenv("BENCH_QUICK") == "1"
	pick := func(full, small int64) int64 {
		if quick {
			return small
		}
		return full
	}
	c := &config{
		binDir:       envStr("BENCH_BIN", "bin"),
		termBytes:    envInt("BENCH_TERM_MB", pick(200, 20)) << 20,
		termRuns:     int(envInt("BENCH_TERM_RUNS", pick(3, 1))),
		echoN:        int(envInt("BENCH_ECHO_N", pick(2000, 200))),
		setupN:       int(envInt("BENCH_SETUP_N", pick(50, 10))),
		fileBytes:    envInt("BENCH_FILE_MB", pick(1024, 64)) << 20,
		idleAgents:   int(envInt("BENCH_IDLE_AGENTS", pick(10000, 200))),
		busySess:     int(envInt("BENCH_BUSY_SESSIONS", pick(500, 20))),
		busyFor:      time.Duration(envInt("BENCH_BUSY_SECONDS", pick(20, 5))) * time.Second,
		busyRelayCPU: envCPU("BENCH_BUSY_RELAY_CPU"),
		busyGenCPU:   envCPU("BENCH_BUSY_GEN_CPU"),
		storeAgents:  int(envInt("BENCH_STORE_AGENTS", pick(2000, 100))),
		storeProtoN:  int(envInt("BENCH_STORE_PROTO_N", pick(200, 20))),
		settle:       time.Duration(pick(10, 2)) * time.Second,
		quick:        quick,
		floodN:       int(envInt("BENCH_FLOOD_N", pick(50, 20))),
		floodRate:    int(envInt("BENCH_FLOOD_RATE", 1000)),
		deskFor:      time.Duration(envInt("BENCH_DESK_SECONDS", pick(20, 5))) * time.Second,
		deskLoadFor:  time.Duration(envInt("BENCH_DESK_OVERLOAD_SECONDS", pick(60, 10))) * time.Second,
		skip:         map[string]bool{},
		resultsPath:  os.Getenv("BENCH_RESULTS"),
		agentB:       os.Getenv("BENCH_AGENT_B"),
		farDelay:     time.Duration(envInt("BENCH_FAR_DELAY_MS", 20)) * time.Millisecond,
		farEchoN:     int(envInt("BENCH_FAR_ECHO_N", pick(300, 50))),
		farSetupN:    int(envInt("BENCH_FAR_SETUP_N", pick(20, 5))),
		farTermBytes: envInt("BENCH_FAR_TERM_MB", pick(100, 10)) << 20,
		farFileBytes: envInt("BENCH_FAR_FILE_MB", pick(256, 16)) << 20,
	}
	for _, s := range strings.Split(os.Getenv("BENCH_DESK_WORKLOADS"), ",") {
		if s = strings.TrimSpace(s); s != "" {
			if c.deskOnly == nil {
				c.deskOnly = map[string]bool{}
			}
			c.deskOnly[s] = true
		}
	}
	for _, s := range strings.Split(os.Getenv("BENCH_SKIP"), ",") {
		if s = strings.TrimSpace(s); s != "" {
			c.skip[s] = true
		}
	}
	// BENCH_ONLY=desktop,echo runs only the parts named (OpenSSH only when
	// a part that compares with it is named).
	if only := os.Getenv("BENCH_ONLY"); only != "" {
		want := map[string]bool{}
		for _, s := range strings.Split(only, ",") {
			want[strings.TrimSpace(s)] = true
		}
		for _, p := range partNames {
			if !want[p] {
				c.skip[p] = true
			}
		}
		if !want["term"] && !want["echo"] && !want["setup"] && !want["files"] && !want["far"] {
			c.skip["ssh"] = true
		}
	}
	if abs, err := filepath.Abs(c.binDir); err == nil {
		c.binDir = abs
	}
	return c
}

func envStr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func envInt(k string, def int64) int64 {
	if v, err := strconv.ParseInt(os.Getenv(k), 10, 64); err == nil && v > 0 {
		return v
	}
	return def
}

// envCPU is a CPU number from the environment, or -1.
func envCPU(k string) int {
	if v, err := strconv.Atoi(os.Getenv(k)); err == nil && v >= 0 {
		return v
	}
	return -1
}

func main() {
	cfg := loadConfig()
	raiseFileLimit()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ps := &procs{}
	dir, err := os.MkdirTemp("", "tetherbench-")
	if err != nil {
		fatal(err)
	}
	t := &table{}
	ft := &farTable{}
	err = run(ctx, cfg, ps, dir, t, ft)
	ps.stopAll()
	os.RemoveAll(dir)
	md := t.markdown(cfg) + ft.markdown()
	fmt.Print(md)
	if cfg.resultsPath != "" {
		os.WriteFile(cfg.resultsPath, []byte(md), 0o644)
	}
	if err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "tetherbench: error:", err)
	os.Exit(1)
}

// logf reports progress on stderr.
func logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "[%s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, a...))
}

// partNames are the parts run measures, in order (BENCH_SKIP, BENCH_ONLY).
var partNames = []string{"term", "echo", "setup", "files", "recording", "flood", "idle", "busy", "store", "ab", "far", "desktop", "cluster", "clusteridle"}

// run measures everything in turn; a failed part is reported and skipped.
func run(ctx context.Context, cfg *config, ps *procs, dir string, t *table, ft *farTable) error {
	logf("machine: %s", machine())
	te, err := startTether(ctx, cfg, ps, filepath.Join(dir, "tether"))
	if err != nil {
		return fmt.Errorf("start tether: %w", err)
	}
	var se *sshEnv
	if !cfg.skip["ssh"] {
		if se, err = startSSH(ctx, ps, filepath.Join(dir, "ssh")); err != nil {
			logf("openssh: %v (its columns stay empty)", err)
			se = nil
		}
	}
	parts := []struct {
		name string
		fn   func() error
	}{
		{"term", func() error { return benchTerm(cfg, te, se, t) }},
		{"echo", func() error { return benchEcho(cfg, te, se, t) }},
		{"setup", func() error { return benchSetup(ctx, cfg, te, se, t) }},
		{"files", func() error { return benchFiles(ctx, cfg, te, se, t, filepath.Join(dir, "files")) }},
		{"recording", func() error { return benchRecording(ctx, cfg, te, t) }},
		{"flood", func() error { return benchFlood(ctx, cfg, te, t) }},
		{"idle", func() error { return benchIdle(ctx, cfg, te, t) }},
		{"busy", func() error { return benchBusy(ctx, cfg, ps, dir, t) }},
		{"store", func() error { return benchStore(ctx, cfg, ps, dir, t) }},
		{"ab", func() error { return benchAgentAB(ctx, cfg, te, t) }},
		{"far", func() error { return benchFar(ctx, cfg, ps, filepath.Join(dir, "far"), se, ft) }},
		{"desktop", func() error { return benchDesktop(ctx, cfg, te, t, filepath.Join(dir, "desktop")) }},
		{"cluster", func() error { return benchClusterSetup(ctx, cfg, ps, filepath.Join(dir, "cluster"), t) }},
		{"clusteridle", func() error { return benchClusterIdle(ctx, cfg, ps, filepath.Join(dir, "cluster"), t) }},
	}
	for _, p := range parts {
		if cfg.skip[p.name] || ctx.Err() != nil {
			continue
		}
		logf("== %s", p.name)
		if err := p.fn(); err != nil {
			logf("%s: %v", p.name, err)
			t.note("%s: %v", p.name, err)
		}
	}
	return ctx.Err()
}

// machine describes where the run happens.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				model = strings.TrimSpace(l[strings.IndexByte(l, ':')+1:])
				break
			}
		}
	}
	var u syscall.Utsname
	syscall.Uname(&u)
	rel := utsString(u.Release[:])
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 1 {
			if kb, err := strconv.Atoi(f[1]); err == nil {
				mem = fmt.Sprintf(", %.0f GiB RAM", float64(kb)/(1<<20))
			}
		}
	}
	ssh, _ := runOut(context.Background(), "", "sh", "-c", "ssh -V 2>&1")
	return fmt.Sprintf("%d × %s%s, Linux %s, %s, %s", runtime.NumCPU(), model, mem, rel, runtime.Version(), strings.TrimSpace(ssh))
}

func utsString(b []int8) string {
	s := make([]byte, 0, len(b))
	for _, c := range b {
		if c == 0 {
			break
		}
		s = append(s, byte(c))
	}
	return string(s)
}

// raiseFileLimit lifts the soft open-file limit to the hard one; the relay
// started later inherits it.
func raiseFileLimit() {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) == nil && l.Cur < l.Max {
		l.Cur = l.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}
