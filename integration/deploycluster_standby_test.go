package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tether-support/tether/internal/store/pgtest"
)

// guideStandbyData is the standby's data directory in the guide.
const guideStandbyData = "/var/lib/postgresql/15/main"

// replicationSettings are the keys of the guide's postgresql.conf block
// that replication depends on (the others, TLS and listen addresses,
// cannot apply to a throwaway server on a Unix socket).
var replicationSettings = map[string]bool{
	"wal_level": true, "max_wal_senders": true, "max_replication_slots": true,
	"hot_standby": true,
}

// guideReplicationConf returns the replication settings of the guide's
// postgresql.conf block, as written.
func guideReplicationConf(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	b := mustRead(t, clusterGuide)
	inBlock := false
	for _, l := range strings.Split(b, "\n") {
		if fenceRe.MatchString(l) {
			inBlock = !inBlock
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !inBlock || !ok {
			continue
		}
		k = strings.TrimSpace(k)
		if v, _, _ = strings.Cut(v, "#"); replicationSettings[k] {
			out[k] = strings.TrimSpace(v)
		}
	}
	if len(out) != len(replicationSettings) {
		t.Fatalf("the guide's postgresql.conf sets %v, want all of %v", out, replicationSettings)
	}
	return out
}

// standby is a streaming standby started from the guide's pg_basebackup
// line.
type standby struct {
	dir  string
	proc *exec.Cmd
	done chan struct{}
}

// startStandby makes dir/data with the guide's pg_basebackup line (the
// primary's socket and superuser in place of db1.example and replicator)
// and starts PostgreSQL on it, listening on a socket in dir only, as the
// user pgtest runs servers as.
func startStandby(t *testing.T, primary *pgtest.Server) *standby {
	t.Helper()
	dir, err := os.MkdirTemp("", "tether-standby-")
	if err != nil {
		t.Fatal(err)
	}
	sb := &standby{dir: dir}
	t.Cleanup(func() {
		if sb.proc != nil {
			syscall.Kill(-sb.proc.Process.Pid, syscall.SIGQUIT)
			select {
			case <-sb.done:
			case <-time.After(20 * time.Second):
				syscall.Kill(-sb.proc.Process.Pid, syscall.SIGKILL)
				<-sb.done
			}
		}
		os.RemoveAll(dir)
	})
	data := filepath.Join(dir, "data")
	line := guideLines(t, "pg_basebackup ")[0]
	for _, r := range [][2]string{{"host=db1.example", "host=" + primary.Dir}, {"user=replicator", "user=" + pgtest.Superuser},
		{guideStandbyData, data}} {
		if !strings.Contains(line, r[0]) {
			t.Fatalf("the guide's pg_basebackup line lacks %q: %s", r[0], line)
		}
		line = strings.ReplaceAll(line, r[0], r[1])
	}
	(&pgGuide{t: t, host: primary.Dir}).run(line)
	cred := serverCred(t)
	if cred != nil {
		if out, err := exec.Command("chown", "-R", fmt.Sprintf("%d:%d", cred.Uid, cred.Gid), dir).CombinedOutput(); err != nil {
			t.Fatalf("chown the standby: %v %s", err, out)
		}
	}
	log, err := os.Create(filepath.Join(dir, "postgres.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	sb.proc = exec.Command(filepath.Join(pgBinDir(), "postgres"), "-D", data, "-k", dir,
		"-c", "listen_addresses=", "-c", "fsync=off", "-c", "max_connections=200") // a standby needs at least the primary's (pgtest: 200)
	sb.proc.Env = append(os.Environ(), "LC_ALL=C")
	sb.proc.Stdout, sb.proc.Stderr = log, log
	sb.proc.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true}
	if err := sb.proc.Start(); err != nil {
		t.Fatalf("start the standby: %v", err)
	}
	sb.done = make(chan struct{})
	go func() { sb.proc.Wait(); close(sb.done) }()
	eventually(t, "the standby to accept connections", 60*time.Second, func() bool {
		select {
		case <-sb.done:
			t.Fatalf("the standby exited: %s", mustRead(t, filepath.Join(dir, "postgres.log")))
		default:
		}
		return pgQuery(sb.url("postgres"), "SELECT 1") == "1"
	})
	return sb
}

// url is the standby's URL for database db.
func (s *standby) url(db string) string {
	return fmt.Sprintf("postgres://%s@/%s?host=%s&sslmode=disable", pgtest.Superuser, db, s.dir)
}

// serverCred is the user pgtest runs PostgreSQL as: nobody when the tests
// run as root, else the tests' own user (nil).
func serverCred(t *testing.T) *syscall.Credential {
	t.Helper()
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
}

// pgQuery returns the first column of the first row of query, as text, or
// "" on any error.
func pgQuery(url, query string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		return ""
	}
	defer c.Close(ctx)
	var out string
	if err := c.QueryRow(ctx, query).Scan(&out); err != nil {
		return ""
	}
	return out
}

// TestDeployClusterStandbyFailover proves the guide's PostgreSQL section:
// a primary with the guide's replication settings and slot, a standby
// made with the guide's pg_basebackup line, streaming synchronously. A
// relay whose URL lists the standby first reaches the primary
// (target_session_attrs=read-write) and works; the primary dies, the
// relay answers 503 and stays up; the guide's promotion lines make the
// standby the primary, and the relay recovers by itself with everything
// that was committed, the audit chain verifying.
func TestDeployClusterStandbyFailover(t *testing.T) {
	t.Parallel()
	primary := pgtest.Start(t)
	g := &pgGuide{t: t, host: primary.Dir}
	for k, v := range guideReplicationConf(t) {
		g.run(fmt.Sprintf(`psql --dbname=postgres --set=ON_ERROR_STOP=1 --command="ALTER SYSTEM SET %s = %s"`, k, v))
	}
	primary.Stop()
	if err := primary.Restart(); err != nil {
		t.Fatal(err)
	}
	g.run(guideLines(t, "createdb ")[0])
	g.run(guideLines(t, `psql -c "SELECT pg_create_physical_replication_slot`)[0])
	sb := startStandby(t, primary)
	eventually(t, "the standby streaming", 30*time.Second, func() bool {
		return pgQuery(primary.URL("postgres"), "SELECT state FROM pg_stat_replication WHERE application_name = 'tether_standby'") == "streaming"
	})
	g.run(guideLines(t, `psql --command="ALTER SYSTEM SET synchronous_standby_names = 'tether_standby'"`)[0])
	g.run(guideLines(t, `psql --command='SELECT pg_reload_conf()'`)[0])
	eventually(t, "the standby streaming synchronously", 30*time.Second, func() bool {
		return pgQuery(primary.URL("postgres"), "SELECT state || ' ' || sync_state FROM pg_stat_replication WHERE application_name = 'tether_standby'") == "streaming sync"
	})

	url := fmt.Sprintf("postgres://%s@/tether?host=%s,%s&target_session_attrs=read-write&sslmode=disable", pgtest.Superuser, sb.dir, primary.Dir)
	e := newEnv(t, "--store", url) // the standby listed first
	d := e.populate()
	if got := pgQuery(sb.url("tether"), "SELECT count(*)::text FROM users"); got == "" || got == "0" {
		t.Fatalf("the standby holds %q users, want the replicated ones", got)
	}

	// The primary dies: clear refusals, the relay stays up.
	primary.Stop()
	eventually(t, "the relay to refuse with the database gone", 30*time.Second, func() bool {
		r := e.techRun("", "users", "list")
		return r.code != 0 && strings.Contains(r.stderr, "the database is unreachable")
	})
	if !e.healthy() {
		t.Fatal("the relay stopped when the primary died")
	}

	// The guide's promotion, on the standby.
	sg := &pgGuide{t: t, host: sb.dir}
	for _, prefix := range []string{`psql --command='SELECT pg_promote()'`, `psql --command="ALTER SYSTEM SET synchronous_standby_names = ''"`, `psql --command='SELECT pg_reload_conf()'`} {
		sg.run(guideLines(t, prefix)[0])
	}
	eventually(t, "the relay to recover on the promoted standby", 60*time.Second, func() bool {
		r := e.techRun("", "users", "list")
		return r.code == 0 && strings.Contains(r.stdout, "bob")
	})
	other := filepath.Join(e.dir, "tech-after")
	if r := run(t, e.dir, e.adminPW+"\n", bin.tech, "--config", other, "login", "--relay", e.url, "--user", "admin", "--ca-fingerprint", e.fp, "--password-stdin"); r.code != 0 {
		t.Fatalf("sign-in after the failover: %s", r.stderr)
	}
	if r := e.techRun("", "users", "add", "carol", "--role", "technician"); r.code != 0 {
		t.Fatalf("a write after the failover: %s", r.stderr)
	}
	e.waitOnline(d.name)
	if r := e.techRun("", "connect", d.name, "--", "true"); r.code != 0 {
		t.Fatalf("session after the failover: %s", r.stderr)
	}
	if r := run(t, e.dir, "", bin.relay, "audit", "verify", "--data", filepath.Join(e.dir, "data")); r.code != 0 {
		t.Fatalf("relay audit verify after the failover: %s", r.stderr)
	}
}
