package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tether-support/tether/internal/store/pgtest"
)

// unreachable is the exact refusal a relay gives while its database is down.
const unreachable = "the database is unreachable"

// pgLoad is a bounded loop of user additions and sign-ins against a relay,
// noting which were acknowledged and how the others were refused.
type pgLoad struct {
	e       *env
	stop    atomic.Bool
	done    chan struct{}
	mu      sync.Mutex
	added   []string // users whose addition was acknowledged
	refused []string // stderr of every refused operation
	ok      int
}

// startLoad runs the loop (at most max operations) until stopLoad.
func startLoad(e *env, max int) *pgLoad {
	l := &pgLoad{e: e, done: make(chan struct{})}
	other := filepath.Join(e.dir, "tech-load")
	go func() {
		defer close(l.done)
		for i := 0; i < max && !l.stop.Load(); i++ {
			var r result
			name := fmt.Sprintf("load%d", i)
			if i%3 == 2 {
				r = run(e.t, e.dir, e.adminPW+"\n", bin.tech, "--config", other, "login", "--relay", e.url, "--user", "admin", "--ca-fingerprint", e.fp, "--password-stdin")
			} else {
				r = run(e.t, e.dir, "", bin.tech, "--config", e.tech, "users", "add", name, "--role", "technician")
			}
			l.mu.Lock()
			switch {
			case r.code != 0:
				l.refused = append(l.refused, strings.TrimSpace(r.stderr))
			case i%3 != 2:
				l.added = append(l.added, name)
				l.ok++
			default:
				l.ok++
			}
			l.mu.Unlock()
		}
	}()
	return l
}

// counts returns how many operations were acknowledged and refused.
func (l *pgLoad) counts() (ok, refused int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ok, len(l.refused)
}

// stopLoad ends the loop and waits for it.
func (l *pgLoad) stopLoad() {
	l.stop.Store(true)
	<-l.done
}

// TestPostgresStoppedUnderLoad stops PostgreSQL under a relay serving a
// loop of sign-ins and user additions and a live interactive session: the
// session keeps echoing and even ends (its records wait in the relay),
// every refused operation says "the database is unreachable", new
// sessions, sign-ins and enrolments too, /readyz is 503, and an agent
// starting meanwhile keeps trying. Once PostgreSQL is back the relay
// recovers by itself: every acknowledged operation is there, the session
// that ended during the outage is recorded as ended with its audit entry
// and a complete recording, the waiting agent comes online, and the chain
// verifies.
func TestPostgresStoppedUnderLoad(t *testing.T) {
	t.Parallel()
	srv := pgtest.Start(t)
	url := srv.NewDB(t)
	e := newEnv(t, "--store", url, "--store-retry", "100ms", "--store-connect-timeout", "1s", "--store-timeout", "3s")
	d := e.enroll("pc-1")
	e.runAgent(d, "exit 0")
	d2 := e.enroll("pc-2")
	late := filepath.Join(e.dir, "agent-late")
	tok := e.techRun("", "devices", "enroll-token")
	if tok.code != 0 {
		t.Fatalf("enroll-token: %s", tok.stderr)
	}
	p := startPTY(t, e.dir, bin.tech, "--config", e.tech, "connect", d.name)
	p.expect("Consent granted", 15*time.Second)
	p.send("echo up-$((20+22))\r")
	p.expect("up-42", 10*time.Second)
	var sessions []struct {
		ID    string `json:"id"`
		State string `json:"state"`
	}
	if r := e.techRun("", "sessions", "list", "--json"); r.code != 0 || json.Unmarshal([]byte(r.stdout), &sessions) != nil || len(sessions) != 1 {
		t.Fatalf("sessions list: %q %s", r.stdout, r.stderr)
	}
	live := sessions[0].ID

	attended := start(t, e.dir, nil, bin.tech, "--config", e.tech, "session", "new", "--", "echo", "attended-ok")
	code := joinCode(t, attended)
	join := func() result { return e.agentJoin("attended", code, e.url) }

	load := startLoad(e, 400)
	eventually(t, "some acknowledged operations", 60*time.Second, func() bool { ok, _ := load.counts(); return ok >= 6 })
	srv.Stop()
	okAtStop, _ := load.counts()

	// The live session goes on while the database is down.
	for i := range 3 {
		m := p.mark()
		p.send(fmt.Sprintf("echo down-$((%d+1000))\r", i))
		p.expectSince(m, fmt.Sprintf("down-%d", i+1000), 10*time.Second)
	}
	// Everything new is refused with the clear error.
	eventually(t, "the load to be refused", 30*time.Second, func() bool { _, n := load.counts(); return n >= 3 })
	if r := e.techRun("", "connect", d.name, "--", "true"); r.code == 0 || !strings.Contains(r.stderr, unreachable) {
		t.Fatalf("session with the database down: code %d, %q", r.code, r.stderr)
	}
	if r := e.techRun("", "session", "new"); r.code == 0 || !strings.Contains(r.stderr, unreachable) {
		t.Fatalf("attended session with the database down: code %d, %q", r.code, r.stderr)
	}
	r := run(t, e.dir, "", bin.agent, "--config", late, "enroll", "--relay", e.url, "--token", strings.TrimSpace(tok.stdout), "--name", "pc-late")
	if r.code == 0 || !strings.Contains(r.stderr, unreachable) {
		t.Fatalf("enrolment with the database down: code %d, %q", r.code, r.stderr)
	}
	if r := join(); r.code == 0 || !strings.Contains(r.stderr, unreachable) {
		t.Fatalf("join with the database down: code %d, %q", r.code, r.stderr)
	}
	if code := readyz(t, e); code != 503 {
		t.Fatalf("/readyz with the database down: %d", code)
	}
	if r := run(t, e.dir, "", bin.relay, "audit", "verify", "--data", filepath.Join(e.dir, "data")); r.code == 0 || !strings.Contains(r.stderr, unreachable) {
		t.Fatalf("relay audit verify with the database down: code %d, %q", r.code, r.stderr)
	}
	// An agent connecting now is told why and keeps trying.
	e.runAgentNoWait(d2)
	eventually(t, "the agent to be told the database is unreachable", 30*time.Second, func() bool {
		return strings.Contains(d2.proc.Output(), unreachable)
	})
	// The live session ends during the outage: its end waits in the relay.
	p.send("exit 7\r")
	if code := p.exitCode(30 * time.Second); code != 7 {
		t.Fatalf("tech exited %d during the outage, want 7", code)
	}
	// Its end, audit entries and recording's index entry wait in the relay.
	if n := metricValue(e.scrape(), "tether_store_writes_waiting"); n < 1 {
		t.Fatalf("tether_store_writes_waiting = %v after a session ended during the outage", n)
	}
	select {
	case <-d2.proc.done:
		t.Fatalf("the agent gave up while the database was down:\n%s", d2.proc.Output())
	default:
	}
	if !e.healthy() {
		t.Fatal("the relay stopped while the database was down")
	}

	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "acknowledged operations again", 60*time.Second, func() bool { ok, _ := load.counts(); return ok > okAtStop+3 })
	load.stopLoad()
	for _, msg := range load.refused {
		if !strings.Contains(msg, unreachable) {
			t.Errorf("an operation was refused without the clear error: %q", msg)
		}
	}
	r = e.techRun("", "users", "list", "--json")
	if r.code != 0 {
		t.Fatalf("users list after recovery: %s", r.stderr)
	}
	for _, name := range load.added {
		if !strings.Contains(r.stdout, `"username":"`+name+`"`) {
			t.Errorf("acknowledged user %s lost across the outage", name)
		}
	}
	// The last acknowledged sign-in of the loop holds.
	if r := run(t, e.dir, "", bin.tech, "--config", filepath.Join(e.dir, "tech-load"), "devices", "list"); r.code != 0 {
		t.Fatalf("the load's last sign-in after recovery: %s", r.stderr)
	}
	ok, refused := load.counts()
	t.Logf("load: %d acknowledged (%d users added), %d refused while the database was down", ok, len(load.added), refused)

	// What the session recorded during the outage reached the database.
	eventually(t, "the session's end to be recorded", 30*time.Second, func() bool {
		r := e.techRun("", "sessions", "list", "--json")
		if json.Unmarshal([]byte(r.stdout), &sessions) != nil {
			return false
		}
		for _, s := range sessions {
			if s.ID == live {
				return s.State == "ended"
			}
		}
		return false
	})
	if r := e.techRun("", "audit", "search", "--action", "session.end", "--json"); !strings.Contains(r.stdout, live) {
		t.Fatalf("session.end of %s missing after recovery: %q %s", live, r.stdout, r.stderr)
	}
	eventually(t, "the recording to be complete", 30*time.Second, func() bool {
		r := e.techRun("", "recordings", "list", "--json")
		return strings.Contains(r.stdout, `"id":"`+live+`"`) && strings.Contains(r.stdout, `"state":"complete"`)
	})
	eventually(t, "no session record to wait", 30*time.Second, func() bool {
		return metricValue(e.scrape(), "tether_store_writes_waiting") == 0
	})
	if n := metricValue(e.scrape(), "tether_store_writes_dropped_total"); n != 0 {
		t.Fatalf("%v session records dropped", n)
	}
	// The relay was never restarted: new sessions, sign-ins, enrolments and
	// the agent that waited all work.
	if code := readyz(t, e); code != 200 {
		t.Fatalf("/readyz after recovery: %d", code)
	}
	r = run(t, e.dir, "", bin.agent, "--config", late, "enroll", "--relay", e.url, "--token", strings.TrimSpace(tok.stdout), "--name", "pc-late")
	if r.code != 0 {
		t.Fatalf("enrolment after recovery (the token must not have been spent): %s", r.stderr)
	}
	// The join code was not spent by the refused join.
	if r := join(); r.code != 0 {
		t.Fatalf("join after recovery: %s", r.stderr)
	}
	<-attended.done
	if !strings.Contains(attended.Output(), "attended-ok") {
		t.Fatalf("attended session after recovery: %q", attended.Output())
	}
	// Its backoff grew during the outage (up to a minute between tries).
	eventually(t, "the agent that waited to come online", 90*time.Second, func() bool {
		r := e.techRun("", "devices", "list", "--json")
		return strings.Contains(r.stdout, `"name":"pc-2","group":"default","online":true`)
	})
	if r := e.techRun("", "connect", d2.name, "--", "true"); r.code != 0 {
		t.Fatalf("session after recovery with the agent that waited: %s", r.stderr)
	}
	data := filepath.Join(e.dir, "data")
	if r := run(t, e.dir, "", bin.relay, "audit", "verify", "--data", data, "--store", url); r.code != 0 {
		t.Fatalf("audit verify --store while serving: %s", r.stderr)
	}
	e.stopRelay()
	if r := run(t, e.dir, "", bin.relay, "audit", "verify", "--data", data, "--store", url); r.code != 0 {
		t.Fatalf("audit verify --store after the relay stopped: %s", r.stderr)
	}
}

// runAgentNoWait starts `agent run` for d without waiting for it to be
// online.
func (e *env) runAgentNoWait(d *device) {
	e.t.Helper()
	d.proc = start(e.t, e.dir, append([]string{"HOME=" + d.userHome}, d.env...), bin.agent,
		"--config", d.home, "run", "--lock-cmd", "echo locked >> "+d.lockLog, "--consent-cmd", "exit 0")
}

// TestPostgresCrashMidAuditAppend kills the relay (SIGKILL) while bursts
// of audited operations from several clients are in flight, a few times
// with different timing: each time the chain in PostgreSQL verifies, and
// the restarted relay appends on.
func TestPostgresCrashMidAuditAppend(t *testing.T) {
	t.Parallel()
	srv := pgtest.Start(t)
	url := srv.NewDB(t)
	e := newEnv(t, "--store", url)
	addr := strings.TrimPrefix(e.url, "https://")
	data := filepath.Join(e.dir, "data")
	verify := func(when string) {
		t.Helper()
		if r := run(t, e.dir, "", bin.relay, "audit", "verify", "--data", data, "--store", url); r.code != 0 {
			t.Fatalf("audit verify %s: %s", when, r.stderr)
		}
	}
	watch, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close(context.Background())
	caught := 0
	for round := range 3 {
		var wg sync.WaitGroup
		var acked atomic.Int64
		stop := make(chan struct{})
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					name := fmt.Sprintf("r%dg%du%d", round, g, i)
					if run(t, e.dir, "", bin.tech, "--config", e.tech, "users", "add", name, "--role", "technician").code == 0 {
						acked.Add(1)
					}
				}
			}()
		}
		// Different timing each round: the kill lands somewhere in the
		// burst, after at least one append went through, the moment an
		// append holds the chain's lock in PostgreSQL.
		eventually(t, "appends in flight", 30*time.Second, func() bool { return acked.Load() >= 1 })
		time.Sleep(time.Duration(rand.IntN(300)) * time.Millisecond)
		if appendInFlight(t, watch) {
			caught++
		}
		e.relay.kill9()
		close(stop)
		wg.Wait()
		verify(fmt.Sprintf("after kill %d", round+1))
		e.url, e.fp = "", ""
		e.startRelay("--store", url, "--listen", addr)
		if r := e.techRun("", "users", "add", fmt.Sprintf("after%d", round), "--role", "technician"); r.code != 0 {
			t.Fatalf("the restarted relay does not append: %s", r.stderr)
		}
		if r := e.techRun("", "audit", "search", "--action", "user.add", "--json"); !strings.Contains(r.stdout, fmt.Sprintf("after%d", round)) {
			t.Fatalf("the restarted relay's entry is not in the chain: %q %s", r.stdout, r.stderr)
		}
		verify(fmt.Sprintf("after restart %d", round+1))
		t.Logf("round %d: %d additions acknowledged before the kill", round+1, acked.Load())
	}
	if caught == 0 {
		t.Fatal("no kill landed while an audit append held the chain's lock")
	}
	t.Logf("%d of 3 kills landed while an append held the chain's lock", caught)
}

// appendInFlight polls PostgreSQL for up to 10 s until some transaction
// holds an advisory lock (the audit chain's, the only one the relay takes)
// and reports whether it saw one.
func appendInFlight(t *testing.T, c *pgx.Conn) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		var n int
		if err := c.QueryRow(ctx, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted").Scan(&n); err == nil && n > 0 {
			return true
		}
	}
	return false
}
