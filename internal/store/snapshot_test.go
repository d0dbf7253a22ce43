package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/tether-support/tether/internal/ids"
)

// TestSnapshotWhileWriting: a snapshot taken while another goroutine
// writes is a valid database of its own, of the length begin announced,
// holding every record committed before it began.
func TestSnapshotWhileWriting(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(filepath.Join(dir, "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.PutMeta("before", []byte("1")); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := db.PutSession(&Session{State: SessionEnded}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	var buf bytes.Buffer
	var announced int64
	n, err := db.WriteSnapshot(&buf, func(size int64) error { announced = size; return nil })
	close(stop)
	wg.Wait()
	if err != nil || n != announced || int64(buf.Len()) != n {
		t.Fatalf("snapshot: n %d, announced %d, buffer %d, err %v", n, announced, buf.Len(), err)
	}
	copyPath := filepath.Join(dir, "copy.db")
	if err := os.WriteFile(copyPath, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := CheckFile(copyPath); err != nil {
		t.Fatalf("snapshot does not check: %v", err)
	}
	cp, err := Open(copyPath)
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	if v, err := cp.GetMeta("before"); err != nil || string(v) != "1" {
		t.Errorf("snapshot lacks a record committed before it: %q, %v", v, err)
	}
}

// TestSnapshotBeginError: an error from begin stops the snapshot before
// anything is written.
func TestSnapshotBeginError(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	boom := errors.New("boom")
	var buf bytes.Buffer
	if _, err := db.WriteSnapshot(&buf, func(int64) error { return boom }); !errors.Is(err, boom) || buf.Len() != 0 {
		t.Errorf("got %v with %d bytes written", err, buf.Len())
	}
}

// TestCheckFileRefuses: a file that is not a bbolt database, or is one
// without Tether's buckets, or is truncated, is refused.
func TestCheckFileRefuses(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(filepath.Join(dir, "good.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.PutSession(&Session{ID: ids.SessionID("s1"), State: SessionEnded}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := db.WriteSnapshot(&buf, nil); err != nil {
		t.Fatal(err)
	}
	db.Close()
	good := buf.Bytes()
	cases := map[string][]byte{
		"garbage":   bytes.Repeat([]byte("not a database "), 1000),
		"truncated": good[:len(good)/2],
		"empty":     {},
	}
	for name, data := range cases {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := CheckFile(p); err == nil {
			t.Errorf("%s: CheckFile accepted it", name)
		}
	}
	p := filepath.Join(dir, "copy.db")
	os.WriteFile(p, good, 0o600)
	if err := CheckFile(p); err != nil {
		t.Errorf("good copy refused: %v", err)
	}
}
