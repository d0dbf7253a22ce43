package agent

import (
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/protocol"
)

// signedHead is a head at seq with a hash derived from tag, signed by key.
func signedHead(key ed25519.PrivateKey, seq uint64, tag string) *protocol.AuditHead {
	h := sha256.Sum256([]byte(tag))
	at := time.Unix(1700000000, 0).Add(time.Duration(seq) * time.Second).UTC()
	return &protocol.AuditHead{Key: key.Public().(ed25519.PublicKey), Seq: seq, Hash: h[:], Time: at,
		Sig: ed25519.Sign(key, protocol.AuditHeadMessage(seq, h[:], at))}
}

// TestHeadWatch: the first head pins the key; later heads must verify
// under it, not go below the newest seen, and agree at the same entry.
func TestHeadWatch(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(nil)
	_, other, _ := ed25519.GenerateKey(nil)
	forged := signedHead(key, 12, "a")
	forged.Sig = signedHead(other, 12, "a").Sig
	tests := []struct {
		name     string
		head     *protocol.AuditHead
		rollback bool // refused as errAuditRollback
		refused  bool
		wantSeq  uint64 // remembered afterwards
	}{
		{"first head pins", signedHead(key, 10, "a"), false, false, 10},
		{"same head again", signedHead(key, 10, "a"), false, false, 10},
		{"newer head", signedHead(key, 12, "a"), false, false, 12},
		{"older head", signedHead(key, 11, "a"), true, true, 12},
		{"same entry, other hash", signedHead(key, 12, "b"), true, true, 12},
		{"another head key", signedHead(other, 20, "a"), true, true, 12},
		{"bad signature", forged, false, true, 12},
		{"no head", nil, true, true, 12},
		{"newest again", signedHead(key, 13, "a"), false, false, 13},
	}
	w := &headWatch{home: t.TempDir(), mu: &sync.Mutex{}}
	for _, tt := range tests {
		err := w.accept(tt.head)
		if (err != nil) != tt.refused || errors.Is(err, errAuditRollback) != tt.rollback {
			t.Errorf("%s: error %v, want refused=%v rollback=%v", tt.name, err, tt.refused, tt.rollback)
		}
		seen, rerr := readSeenHead(w.home)
		if rerr != nil || seen == nil || seen.Head.Seq != tt.wantSeq {
			t.Fatalf("%s: remembered %+v, %v; want entry %d", tt.name, seen, rerr, tt.wantSeq)
		}
	}
	fi, err := os.Stat(auditHeadPath(w.home))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("audit-head.json: %v %v", fi, err)
	}
}

// TestHeadWatchEdges: no head before any was seen is accepted (an older
// relay), a nil watch accepts everything, a corrupt file refuses.
func TestHeadWatchEdges(t *testing.T) {
	w := &headWatch{home: t.TempDir(), mu: &sync.Mutex{}}
	if err := w.accept(nil); err != nil {
		t.Fatalf("no head, none seen: %v", err)
	}
	if err := (*headWatch)(nil).accept(nil); err != nil {
		t.Fatalf("nil watch: %v", err)
	}
	os.WriteFile(auditHeadPath(w.home), []byte(`{"key":"AA==","head":null}`), 0o600)
	_, key, _ := ed25519.GenerateKey(nil)
	if err := w.accept(signedHead(key, 1, "a")); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("corrupt file: %v", err)
	}
}

// FuzzDecodeSeenHead: the remembered head's decoder never panics and
// accepts only heads that verify under their key.
func FuzzDecodeSeenHead(f *testing.F) {
	_, key, _ := ed25519.GenerateKey(nil)
	good, _ := jsonSeen(key)
	f.Add(good)
	f.Add([]byte(`{"key":"AA==","head":null}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		seen, err := decodeSeenHead(b)
		if err != nil {
			return
		}
		if seen.Head.Verify(seen.Key) != nil {
			t.Fatalf("accepted a head that does not verify: %s", b)
		}
	})
}

// jsonSeen is the file a device writes after seeing one head.
func jsonSeen(key ed25519.PrivateKey) ([]byte, error) {
	dir, err := os.MkdirTemp("", "seen")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	h := signedHead(key, 3, "a")
	if err := writeSeenHead(dir, &seenHead{Key: h.Key, Head: h}); err != nil {
		return nil, err
	}
	return os.ReadFile(auditHeadPath(dir))
}
