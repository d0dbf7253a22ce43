package writeback

import (
	"bytes"
	"crypto/rand"
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "f")
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			w := New(f)
			var want bytes.Buffer
			for _, n := range tt.pieces {
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
			if w.started > w.off || w.waited > w.started || w.started%Window != 0 {
				t.Fatalf("bookkeeping off: written %d, started %d, waited %d", w.off, w.started, w.waited)
			}
		})
	}
}

func TestWriterReportsWriteErrors(t *testing.T) {
	f, err := os.Open(filepath.Join(t.TempDir(), "..")) // a directory: writes fail
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := New(f).Write([]byte("x")); err == nil {
		t.Fatal("Write to a directory succeeded")
	}
}
