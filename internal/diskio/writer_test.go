package diskio

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func TestWriterWritesEverythingInOrder(t *testing.T) {
	tests := []struct {
		name   string
		pieces []int
	}{
		{"empty", nil},
		{"small", []int{1, 100, 4096}},
		{"crosses windows in odd pieces", []int{Window - 1, 2, Window, 3*Window + 17, 65536}},
		{"whole blocks only", []int{Block, 2 * Block}},
		{"block plus one", []int{Block + 1}},
	}
	for _, tt := range tests {
		for _, direct := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/direct=%v", tt.name, direct), func(t *testing.T) {
				testWrites(t, tt.pieces, direct)
			})
		}
	}
}

// testWrites writes pieces of random bytes through a Writer, in direct or
// buffered mode, and checks the file.
func testWrites(t *testing.T, pieces []int, direct bool) {
	path := filepath.Join(t.TempDir(), "f")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := NewWriter(f)
	if w.direct != direct {
		if direct {
			t.Skip("no direct I/O on this file system")
		}
		setDirect(f, false)
		w = &Writer{f: f}
	}
	var want bytes.Buffer
	for _, n := range pieces {
		p := make([]byte, n)
		rand.Read(p)
		if m, err := w.Write(p); err != nil || m != n {
			t.Fatalf("Write(%d bytes) = %d, %v", n, m, err)
		}
		want.Write(p)
	}
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("file has %d bytes, want %d (or content differs)", len(got), want.Len())
	}
	if w.off != int64(want.Len()) || w.started > w.off || w.waited > w.started || w.started%Window != 0 {
		t.Fatalf("bookkeeping off: written %d of %d, started %d, waited %d", w.off, want.Len(), w.started, w.waited)
	}
}

func TestWriterReportsWriteErrors(t *testing.T) {
	f, err := os.Open(filepath.Join(t.TempDir(), "..")) // a directory: writes fail
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := NewWriter(f).Write([]byte("x")); err == nil {
		t.Fatal("Write to a directory succeeded")
	}
}
