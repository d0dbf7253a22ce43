package tlsconf

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestRotateFinishPromote(t *testing.T) {
	dir := t.TempDir()
	if err := Generate(dir, []string{"relay.example.com", "192.0.2.7"}); err != nil {
		t.Fatal(err)
	}
	old, _ := Load(dir)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	r, err := Rotate(dir, time.Hour, now)
	if err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	if r.Due(now) || !r.Due(now.Add(time.Hour)) {
		t.Errorf("rotation due at %v, want %v", r.SwitchAt, now.Add(time.Hour))
	}
	got, err := ReadRotation(dir)
	if err != nil || *got != *r {
		t.Fatalf("ReadRotation = %+v, %v; want %+v", got, err, r)
	}
	next, err := LoadNext(dir, r)
	if err != nil {
		t.Fatalf("LoadNext: %v", err)
	}
	if Fingerprint(next.Leaf) == Fingerprint(old.Leaf) {
		t.Fatal("the next key is the current one")
	}
	if !slices.Equal(next.Leaf.DNSNames, old.Leaf.DNSNames) || len(next.Leaf.IPAddresses) != len(old.Leaf.IPAddresses) {
		t.Errorf("next SANs %v %v, want the current ones %v %v", next.Leaf.DNSNames, next.Leaf.IPAddresses, old.Leaf.DNSNames, old.Leaf.IPAddresses)
	}
	if _, err := Rotate(dir, time.Hour, now); !errors.Is(err, ErrRotationPending) {
		t.Errorf("second Rotate error = %v, want ErrRotationPending", err)
	}
	f, err := FinishRotation(dir, now.Add(time.Minute))
	if err != nil || !f.Due(now.Add(time.Minute)) {
		t.Fatalf("FinishRotation = %+v, %v; want due now", f, err)
	}
	if err := Promote(dir, f); err != nil {
		t.Fatalf("Promote: %v", err)
	}
	cur, err := Load(dir)
	if err != nil || Fingerprint(cur.Leaf) != r.Next {
		t.Fatalf("after Promote the current key is %v (%v), want %s", cur.Leaf, err, r.Next)
	}
	for _, p := range []string{RotationFile, NextDir} {
		if _, err := os.Stat(filepath.Join(dir, p)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left after Promote (%v)", p, err)
		}
	}
	if r, err := ReadRotation(dir); r != nil || err != nil {
		t.Errorf("ReadRotation after Promote = %v, %v; want none", r, err)
	}
	if _, err := FinishRotation(dir, now); !errors.Is(err, ErrNoRotation) {
		t.Errorf("FinishRotation with none pending = %v, want ErrNoRotation", err)
	}
}

// TestPromoteInterrupted: a switch stopped after the key moved, before the
// certificate did, is completed by Promote from the file's state.
func TestPromoteInterrupted(t *testing.T) {
	dir := t.TempDir()
	if err := Generate(dir, nil); err != nil {
		t.Fatal(err)
	}
	r, err := Rotate(dir, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	r.Switching = true
	if err := writeRotation(dir, r); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, NextDir, KeyFile), filepath.Join(dir, KeyFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err == nil {
		t.Fatal("the half-switched pair loads; the test does not interrupt anything")
	}
	again, err := ReadRotation(dir)
	if err != nil || !again.Switching || !again.Due(time.Time{}) {
		t.Fatalf("ReadRotation = %+v, %v; want a switching rotation", again, err)
	}
	if err := Promote(dir, again); err != nil {
		t.Fatalf("Promote after interruption: %v", err)
	}
	if cur, err := Load(dir); err != nil || Fingerprint(cur.Leaf) != r.Next {
		t.Fatalf("after completing, Load = %v; want %s", err, r.Next)
	}
}

func TestCancelRotation(t *testing.T) {
	dir := t.TempDir()
	if err := Generate(dir, nil); err != nil {
		t.Fatal(err)
	}
	before, _ := Load(dir)
	if _, err := Rotate(dir, time.Hour, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := CancelRotation(dir); err != nil {
		t.Fatalf("CancelRotation: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, NextDir)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("next key left after cancel: %v", err)
	}
	if cur, _ := Load(dir); Fingerprint(cur.Leaf) != Fingerprint(before.Leaf) {
		t.Error("cancel changed the current key")
	}
	if _, err := CancelRotation(dir); !errors.Is(err, ErrNoRotation) {
		t.Errorf("second cancel = %v, want ErrNoRotation", err)
	}
}

// TestLoadNextMismatch: a next key that is not the one the rotation file
// names is refused.
func TestLoadNextMismatch(t *testing.T) {
	dir := t.TempDir()
	if err := Generate(dir, nil); err != nil {
		t.Fatal(err)
	}
	r, err := Rotate(dir, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	r.Next = "SHA256:" + strings.Repeat("ab", 32)
	if _, err := LoadNext(dir, r); err == nil || !strings.Contains(err.Error(), "names") {
		t.Errorf("LoadNext with a wrong fingerprint = %v, want refused", err)
	}
	if err := Promote(dir, r); err == nil {
		t.Error("Promote to a key the rotation does not name succeeded")
	}
}

func TestParseRotation(t *testing.T) {
	fp := "SHA256:" + strings.Repeat("ab", 32)
	ok := `{"version":1,"next":"` + fp + `","started":"2026-01-01T00:00:00Z","switch_at":"2026-01-08T00:00:00Z"}`
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"valid", ok, true},
		{"switching", strings.Replace(ok, `"version":1`, `"version":1,"switching":true`, 1), true},
		{"version", strings.Replace(ok, `"version":1`, `"version":2`, 1), false},
		{"upper pin", strings.Replace(ok, fp, strings.ToUpper(fp), 1), false},
		{"bad pin", strings.Replace(ok, fp, "SHA256:zz", 1), false},
		{"no switch", `{"version":1,"next":"` + fp + `","started":"2026-01-01T00:00:00Z"}`, false},
		{"switch before start", strings.Replace(ok, "2026-01-08", "2025-01-08", 1), false},
		{"unknown field", strings.Replace(ok, `"version":1`, `"version":1,"x":1`, 1), false},
		{"trailing", ok + "{}", false},
		{"not json", "next=" + fp, false},
		{"empty", "", false},
		{"huge", ok + strings.Repeat(" ", maxRotationFile), false},
	}
	for _, tt := range tests {
		r, err := ParseRotation([]byte(tt.in))
		if (err == nil) != tt.ok {
			t.Errorf("%s: ParseRotation = %+v, %v; want ok %v", tt.name, r, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrBadRotation) {
			t.Errorf("%s: error %v does not wrap ErrBadRotation", tt.name, err)
		}
	}
}

func FuzzParseRotation(f *testing.F) {
	f.Add([]byte(`{"version":1,"next":"SHA256:` + strings.Repeat("ab", 32) + `","started":"2026-01-01T00:00:00Z","switch_at":"2026-01-08T00:00:00Z"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseRotation(b)
		if err != nil {
			if r != nil || !errors.Is(err, ErrBadRotation) {
				t.Fatalf("ParseRotation error %v with %+v; want nil and ErrBadRotation", err, r)
			}
			return
		}
		if fp, err := ParseFingerprint(r.Next); err != nil || fp != r.Next {
			t.Fatalf("accepted next %q is not canonical", r.Next)
		}
		if r.Version != 1 || r.SwitchAt.Before(r.Started) || r.Started.IsZero() {
			t.Fatalf("accepted %+v", r)
		}
	})
}
