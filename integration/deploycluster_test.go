package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/tether-support/tether/internal/recstore/seaweedtest"
	"github.com/tether-support/tether/internal/store/pgtest"
)

// clusterGuide is the operator's guide whose backup and restore commands
// TestDeployClusterBackupRestore runs as written.
const clusterGuide = "../docs/deploy-cluster.md"

// guideBackups is the guide's backup directory; the test runs its
// commands with a temporary directory in its place.
const guideBackups = "/var/backups/tether"

// guideDumpRe matches a dated dump file name in the guide's restore line.
var guideDumpRe = regexp.MustCompile(`tether-[0-9]{4}-[0-9]{2}-[0-9]{2}\.dump`)

// guideLines returns the command lines of the guide's code blocks that
// start with prefix (after a leading `sudo -u postgres`), continuations
// joined, in the order they appear. It fails t if there are none.
func guideLines(t *testing.T, prefix string) []string {
	t.Helper()
	b, err := os.ReadFile(clusterGuide)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	lines := strings.Split(string(b), "\n")
	inBlock := false
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if fenceRe.MatchString(l) {
			inBlock = !inBlock
			continue
		}
		if !inBlock {
			continue
		}
		for strings.HasSuffix(l, "\\") && i+1 < len(lines) {
			i++
			l = strings.TrimSuffix(l, "\\") + " " + strings.TrimSpace(lines[i])
		}
		l = strings.TrimPrefix(strings.TrimSpace(l), "sudo -u postgres ")
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s has no command line starting with %q", clusterGuide, prefix)
	}
	return out
}

// pgGuide runs the guide's PostgreSQL command lines against a throwaway
// server: the guide's connection settings (its `export PG…` lines) are
// replaced by the server's socket and superuser, and its backup
// directory by a temporary one.
type pgGuide struct {
	t *testing.T
	// host is the server's socket directory (PGHOST).
	host    string
	backups string
}

// run runs one of the guide's lines through sh and fails t if it fails.
func (g *pgGuide) run(line string) string {
	g.t.Helper()
	line = strings.ReplaceAll(line, guideBackups, g.backups)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", line)
	// A command that hangs (a commit waiting for a standby) is killed with
	// everything it started, and its output is not waited for.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	cmd.Env = append(withoutPG(os.Environ()), "PGHOST="+g.host, "PGUSER="+pgtest.Superuser,
		"PATH="+pgBinDir()+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		g.t.Fatalf("the guide's command failed: %s\n%v\n%s", line, err, out)
	}
	return string(out)
}

// sql runs one statement with psql (for what the test does beyond the
// guide: destroying the database).
func (g *pgGuide) sql(stmt string) {
	g.t.Helper()
	g.run("psql --dbname=postgres --set=ON_ERROR_STOP=1 --command='" + stmt + "'")
}

// withoutPG drops libpq's PG* variables from env.
func withoutPG(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "PG") {
			out = append(out, kv)
		}
	}
	return out
}

// pgBinDir is the directory of Debian's PostgreSQL programs (the client
// programs are there too, whatever postgresql-common's wrappers choose).
func pgBinDir() string {
	m, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	if len(m) == 0 {
		return "/usr/bin"
	}
	return m[len(m)-1]
}

// TestDeployClusterBackupRestore proves the backup and restore sections of
// docs/deploy-cluster.md with the real programs: a relay on PostgreSQL
// (reached through a libpq URL listing a dead server first, with
// target_session_attrs=read-write, as the guide's URL does) with its
// recordings in a versioned SeaweedFS bucket gets a user, an enrolled
// device and a recorded session; the guide's pg_dump and pg_restore --list
// lines back it up while it serves. Then the database is destroyed and the
// recording deleted from the bucket; the guide's rename, createdb and
// pg_restore lines bring the database back, removing the delete marker
// brings the recording back, and the data directory, deleted too, is made
// again from the cluster bundle (relay cluster export, then join). The relay serves from the restored database:
// sign-in, the user, not what came after the dump, `relay audit verify
// --store`, the recording downloads and verifies, the agent is reachable
// and a new session works.
func TestDeployClusterBackupRestore(t *testing.T) {
	t.Parallel()
	srv := pgtest.Start(t) // private: the database has the guide's name, tether
	g := &pgGuide{t: t, host: srv.Dir, backups: t.TempDir()}
	createdb := guideLines(t, "createdb ")
	g.run(createdb[0])
	url := fmt.Sprintf("postgres://%s@/tether?host=%s,%s&target_session_attrs=read-write&sslmode=disable",
		pgtest.Superuser, filepath.Join(t.TempDir(), "gone"), srv.Dir)
	if !strings.Contains(mustRead(t, clusterGuide), "target_session_attrs=read-write") {
		t.Fatal("the guide's database URL no longer asks for target_session_attrs=read-write")
	}

	s3 := seaweedtest.Shared(t)
	bucket := s3.Bucket(t)
	cl := must(s3.Client())
	ctx := context.Background()
	// The guide: put-bucket-versioning Status=Enabled, then check it.
	if err := cl.EnableVersioning(ctx, bucket); err != nil {
		t.Fatalf("enable versioning: %v", err)
	}
	if v, err := cl.GetBucketVersioning(ctx, bucket); err != nil || !v.Enabled() {
		t.Fatalf("bucket versioning: %+v, %v", v, err)
	}
	recFlags := []string{"--recordings-store", "s3://" + bucket + "/tether?endpoint=" + s3.Endpoint + "&insecure=1"}
	e := newEnvFrom(t, &env{t: t, dir: t.TempDir(), relayEnv: s3.Env()}, append([]string{"--store", url}, recFlags...)...)
	data := filepath.Join(e.dir, "data")
	if _, err := os.Stat(filepath.Join(data, "relay.db")); !os.IsNotExist(err) {
		t.Fatalf("the relay made relay.db beside PostgreSQL: %v", err)
	}

	// Populate: a user, an enrolled device, a recorded session.
	if r := e.techRun("", "users", "add", "bob", "--role", "technician"); r.code != 0 {
		t.Fatalf("users add: %s", r.stderr)
	}
	d := e.enroll("pc-1")
	e.runAgent(d, "exit 0")
	if r := e.techRun("", "connect", d.name, "--", "echo", "BEFORE-THE-DUMP"); r.code != 0 || !strings.Contains(r.stdout, "BEFORE-THE-DUMP") {
		t.Fatalf("session: code %d %s", r.code, r.stderr)
	}
	id := e.onlyRecording("complete")
	key := "tether/" + id + ".rec"
	if _, err := cl.StatObject(ctx, bucket, key, minio.StatObjectOptions{}); err != nil {
		t.Fatalf("the recording is not in the bucket: %v", err)
	}

	// Back up while the relay serves: the guide's dump, and its check.
	g.run(guideLines(t, "pg_dump ")[0])
	g.run(guideLines(t, "pg_restore --list ")[0])
	dumps, _ := filepath.Glob(filepath.Join(g.backups, "tether-*.dump"))
	if len(dumps) != 1 {
		t.Fatalf("the guide's pg_dump wrote %v, want one tether-DATE.dump", dumps)
	}
	bundle := clusterExport(t, e, data)
	// relay backup is the bbolt backup: on PostgreSQL it refuses (the
	// guide sends the operator to pg_dump and the bundle).
	r := run(t, e.dir, "", bin.relay, "backup", "--data", data, "--out", filepath.Join(g.backups, "relay.tar"))
	if r.code == 0 || !strings.Contains(r.stderr, "back up the database with pg_dump") || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
		t.Fatalf("relay backup of a PostgreSQL data directory: code %d %q", r.code, r.stderr)
	}
	// After the dump: not in the restored database.
	if r := e.techRun("", "users", "add", "carol", "--role", "technician"); r.code != 0 {
		t.Fatalf("users add carol: %s", r.stderr)
	}
	if r := e.techRun("", "audit", "verify"); r.code != 0 {
		t.Fatalf("tech audit verify before the loss: %s", r.stderr)
	}

	// Destroy: the relay stops, the database is renamed aside (the
	// guide's line) and then dropped, the recording is deleted, and so
	// is the data directory.
	addr := strings.TrimPrefix(e.url, "https://")
	fp := e.fp
	e.stopRelay()
	g.run(guideLines(t, "psql --dbname=postgres --command='ALTER DATABASE")[0])
	g.sql("DROP DATABASE tether_damaged WITH (FORCE)")
	if err := cl.RemoveObject(ctx, bucket, key, minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.StatObject(ctx, bucket, key, minio.StatObjectOptions{}); minio.ToErrorResponse(err).StatusCode != 404 {
		t.Fatalf("the recording is still there after its deletion: %v", err)
	}
	if err := os.RemoveAll(data); err != nil {
		t.Fatal(err)
	}

	// Restore: the guide's createdb and pg_restore into a new database,
	// the recording's delete marker removed (the guide's delete-object
	// --version-id), the data directory joined from the bundle.
	g.run(createdb[len(createdb)-1])
	restore := guideLines(t, "pg_restore --exit-on-error ")[0]
	if !guideDumpRe.MatchString(restore) {
		t.Fatalf("the guide's pg_restore line names no dated dump: %s", restore)
	}
	g.run(guideDumpRe.ReplaceAllString(restore, filepath.Base(dumps[0])))
	removeDeleteMarker(t, cl, bucket, key)
	clusterJoin(t, e, data, bundle, fp)

	e.url, e.fp = "", ""
	e.startRelay(append([]string{"--listen", addr}, recFlags...)...) // the directory names its database
	if e.fp != fp {
		t.Fatalf("the restored relay presents %s, want the cluster's pin %s", e.fp, fp)
	}
	other := filepath.Join(e.dir, "tech-after")
	techAs := func(stdin string, args ...string) result {
		return run(t, e.dir, stdin, bin.tech, append([]string{"--config", other}, args...)...)
	}
	if r := techAs(e.adminPW+"\n", "login", "--relay", e.url, "--user", "admin", "--ca-fingerprint", fp, "--password-stdin"); r.code != 0 {
		t.Fatalf("sign-in on the restored relay: %s", r.stderr)
	}
	r = techAs("", "users", "list")
	if r.code != 0 || !strings.Contains(r.stdout, "bob") || strings.Contains(r.stdout, "carol") {
		t.Fatalf("users after the restore (want bob, not carol who came after the dump): %q %s", r.stdout, r.stderr)
	}
	if r := run(t, e.dir, "", bin.relay, "audit", "verify", "--data", data, "--store", url); r.code != 0 {
		t.Fatalf("relay audit verify --store on the restored database: %s", r.stderr)
	}
	if r := techAs("", "recordings", "verify", id, "--identity", e.reviewer); r.code != 0 || !strings.Contains(r.stdout, "verified") {
		t.Fatalf("recordings verify after the restore: code %d %s %s", r.code, r.stdout, r.stderr)
	}
	cast := filepath.Join(e.dir, "restored.cast")
	if r := techAs("", "recordings", "export", id, "--identity", e.reviewer, "-o", cast); r.code != 0 {
		t.Fatalf("recordings export after the restore: %s", r.stderr)
	}
	if !strings.Contains(mustRead(t, cast), "BEFORE-THE-DUMP") {
		t.Fatal("the restored recording lacks the session's output")
	}
	// The technician who saw the chain after the dump is told it no longer
	// extends what they saw; once they move their remembered heads aside
	// (as the guide says), the restored log verifies and is remembered.
	if r := e.techRun("", "audit", "verify"); r.code == 0 || !strings.Contains(r.stderr, "the audit log is not an extension of the head this client saw") {
		t.Fatalf("tech audit verify of a log cut back to the dump: code %d %q", r.code, r.stderr)
	}
	heads := filepath.Join(e.tech, "audit-heads.json")
	if err := os.Rename(heads, heads+".before-restore"); err != nil {
		t.Fatalf("the guide's audit-heads.json: %v", err)
	}
	if r := e.techRun("", "audit", "verify"); r.code != 0 {
		t.Fatalf("tech audit verify with the heads moved aside: %s", r.stderr)
	}
	// The agent kept retrying through the outage and is reachable again.
	// The dump holds the old relay's row and the device's presence on it,
	// with a heartbeat as recent as the dump: until that heartbeat expires
	// the device counts as online there, so wait until the restored
	// relay is the only live one.
	eventually(t, d.name+" online after the restore", 30*time.Second, func() bool {
		st := run(t, e.dir, "", bin.relay, "cluster", "status", "--data", data, "--json")
		if st.code != 0 || strings.Count(st.stdout, `"live":true`) != 1 {
			return false
		}
		r := techAs("", "devices", "list", "--json")
		return strings.Contains(r.stdout, `"name":"`+d.name+`","group":"default","online":true`)
	})
	if r := techAs("", "connect", d.name, "--", "echo", "AFTER-THE-RESTORE"); r.code != 0 || !strings.Contains(r.stdout, "AFTER-THE-RESTORE") {
		t.Fatalf("session after the restore: code %d %s", r.code, r.stderr)
	}
	e.stopRelay()
	if r := run(t, e.dir, "", bin.relay, "audit", "verify", "--data", data, "--store", url); r.code != 0 {
		t.Fatalf("relay audit verify after serving from the restored database: %s", r.stderr)
	}
}

// removeDeleteMarker brings back a deleted object of a versioned bucket by
// removing the delete marker that is its latest version.
func removeDeleteMarker(t *testing.T, cl *minio.Client, bucket, key string) {
	t.Helper()
	ctx := context.Background()
	var marker string
	versions := 0
	for o := range cl.ListObjects(ctx, bucket, minio.ListObjectsOptions{Prefix: key, WithVersions: true}) {
		if o.Err != nil {
			t.Fatalf("list object versions: %v", o.Err)
		}
		if o.Key != key {
			continue
		}
		versions++
		if o.IsDeleteMarker && o.IsLatest {
			marker = o.VersionID
		}
	}
	if marker == "" {
		t.Fatalf("no delete marker among the %d versions of %s", versions, key)
	}
	if err := cl.RemoveObject(ctx, bucket, key, minio.RemoveObjectOptions{VersionID: marker}); err != nil {
		t.Fatalf("remove the delete marker: %v", err)
	}
	if _, err := cl.StatObject(ctx, bucket, key, minio.StatObjectOptions{}); err != nil {
		t.Fatalf("the recording is not back after removing its delete marker: %v", err)
	}
}

// clusterExport writes the data directory's cluster bundle with the
// guide's `relay cluster export`, which prints the cluster's pin.
func clusterExport(t *testing.T, e *env, data string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "cluster.tar")
	if r := run(t, e.dir, "", bin.relay, "cluster", "export", "--data", data, "--out", out); r.code != 0 || strings.TrimSpace(r.stdout) != e.fp {
		t.Fatalf("relay cluster export: code %d, stdout %q (want the pin %s): %s", r.code, r.stdout, e.fp, r.stderr)
	}
	return out
}

// clusterJoin makes the data directory again from the bundle, as the guide
// does for a lost relay host; the pin it prints must be the cluster's.
func clusterJoin(t *testing.T, e *env, data, bundle, fp string) {
	t.Helper()
	r := run(t, e.dir, "", bin.relay, "cluster", "join", "--data", data, "--from", bundle)
	if r.code != 0 || strings.TrimSpace(r.stdout) != fp {
		t.Fatalf("relay cluster join: code %d, want the pin %s: %s %s", r.code, fp, r.stdout, r.stderr)
	}
}
