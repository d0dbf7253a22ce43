package integration

import (
	"encoding/binary"
	"encoding/json"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/tether-support/tether/internal/audit"
	"github.com/tether-support/tether/internal/store"
)

// stopRelay stops the relay gracefully (it signs the audit head on the way
// out) so the database can be opened offline.
func (e *env) stopRelay() {
	e.t.Helper()
	e.relay.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-e.relay.done:
	case <-time.After(10 * time.Second):
		e.t.Fatal("relay did not stop on SIGTERM")
	}
}

func TestAuditTrailExportsAndDetectsTampering(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.enroll("dev")
	e.runAgent(d, "exit 0")
	if r := e.techRun("", "connect", d.name, "--", "true"); r.code != 0 {
		t.Fatalf("session: %s", r.stderr)
	}
	r := e.techRun("", "audit", "export")
	if r.code != 0 {
		t.Fatalf("audit export: %s", r.stderr)
	}
	for _, action := range []string{`"relay.init"`, `"login"`, `"device.enroll"`, `"session.request"`, `"session.consent"`, `"session.end"`} {
		if !strings.Contains(r.stdout, action) {
			t.Errorf("audit export lacks %s", action)
		}
	}
	if err := audit.VerifyExport(strings.NewReader(r.stdout)); err != nil {
		t.Fatalf("exported JSONL does not verify: %v", err)
	}
	csv := e.techRun("", "audit", "export", "--format", "csv")
	if csv.code != 0 || !strings.HasPrefix(csv.stdout, "seq,") {
		t.Fatalf("csv export: code %d, starts %q", csv.code, csv.stdout[:min(len(csv.stdout), 40)])
	}

	d.proc.kill9()
	e.stopRelay()
	data := filepath.Join(e.dir, "data")
	if r := run(t, e.dir, "", bin.relay, "audit", "verify", "--data", data); r.code != 0 {
		t.Fatalf("intact chain fails verification: %s", r.stderr)
	}
	tampers := []struct {
		name string
		edit func(b *bolt.Bucket) uint64 // returns the seq it broke
	}{
		{"edit a field", func(b *bolt.Bucket) uint64 {
			return rewrite(t, b, 3, func(r *store.AuditRecord) { r.Outcome = "nothing happened" })
		}},
		{"delete an entry", func(b *bolt.Bucket) uint64 { b.Delete(seqKey(4)); return 4 }},
		{"delete the newest", func(b *bolt.Bucket) uint64 {
			k, _ := b.Cursor().Last()
			b.Delete(k)
			return binary.BigEndian.Uint64(k)
		}},
	}
	for _, tc := range tampers {
		t.Run(tc.name, func(t *testing.T) {
			copyDB := filepath.Join(t.TempDir(), "data")
			run(t, e.dir, "", "cp", "-a", data, copyDB)
			bdb, err := bolt.Open(filepath.Join(copyDB, "relay.db"), 0o600, &bolt.Options{Timeout: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			bdb.Update(func(tx *bolt.Tx) error { tc.edit(tx.Bucket([]byte(store.AuditBucket))); return nil })
			bdb.Close()
			r := run(t, e.dir, "", bin.relay, "audit", "verify", "--data", copyDB)
			if r.code == 0 || !strings.Contains(r.stderr, "audit: verify") {
				t.Fatalf("tampering (%s) not detected: code %d stderr %q", tc.name, r.code, r.stderr)
			}
			t.Logf("relay audit verify: %s", strings.TrimSpace(r.stderr))
		})
	}
}

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// rewrite changes entry seq in place (without fixing its hash or MAC).
func rewrite(t *testing.T, b *bolt.Bucket, seq uint64, fn func(*store.AuditRecord)) uint64 {
	var r store.AuditRecord
	if err := json.Unmarshal(b.Get(seqKey(seq)), &r); err != nil {
		t.Fatal(err)
	}
	fn(&r)
	v, _ := json.Marshal(&r)
	b.Put(seqKey(seq), v)
	return seq
}
