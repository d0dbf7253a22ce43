package diskio

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestReaderReadsWholeFile(t *testing.T) {
	sizes := []int{0, 1, 4095, 4096, Block - 1, Block, Block + 1, 3*Block + 12345}
	for _, size := range sizes {
		for _, cold := range []bool{false, true} {
			for _, chunk := range []int{7, 64 << 10, 2 * Block} {
				t.Run(fmt.Sprintf("size=%d/cold=%v/chunk=%d", size, cold, chunk), func(t *testing.T) {
					want, f := tempFile(t, size, cold)
					r := NewReader(f)
					got, err := io.ReadAll(struct{ io.Reader }{readSizes{r, chunk}})
					if err != nil {
						t.Fatalf("read: %v", err)
					}
					if !bytes.Equal(got, want) {
						t.Fatalf("read %d bytes, want %d (or content differs)", len(got), len(want))
					}
					if n, err := r.Read(make([]byte, 10)); n != 0 || err != io.EOF {
						t.Fatalf("Read after the end = %d, %v; want 0, EOF", n, err)
					}
				})
			}
		}
	}
}

// TestReaderChoosesPath checks that a file out of the page cache is read
// directly and a cached one through the cache, where direct I/O works.
func TestReaderChoosesPath(t *testing.T) {
	const size = 4 * Block
	for _, cold := range []bool{false, true} {
		_, f := tempFile(t, size, cold)
		if !setDirect(f, true) {
			t.Skip("no direct I/O on this file system")
		}
		setDirect(f, false)
		if pages, ok := cachedPages(f, 0, size); !ok {
			t.Skip("the kernel does not report page-cache residency")
		} else if cold && pages == size/directAlign {
			t.Skip("the kernel kept the pages cached after POSIX_FADV_DONTNEED")
		}
		r := NewReader(f)
		if _, err := io.Copy(io.Discard, r); err != nil {
			t.Fatal(err)
		}
		want := 0
		if cold {
			want = size / Block
		}
		if r.directBlocks != want {
			t.Errorf("cold=%v: %d blocks read directly, want %d", cold, r.directBlocks, want)
		}
	}
}

func TestReaderReportsErrors(t *testing.T) {
	f, err := os.Open(t.TempDir()) // a directory: reads fail
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.ReadAll(NewReader(f)); err == nil {
		t.Fatal("reading a directory succeeded")
	}
}

// tempFile writes size random bytes to a new file and, if cold, asks the
// kernel to drop it from the page cache. It returns the bytes and the file
// open for reading.
func tempFile(t *testing.T, size int, cold bool) ([]byte, *os.File) {
	t.Helper()
	want := make([]byte, size)
	rand.Read(want)
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, want, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if cold {
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
		dropCache(f)
	}
	return want, f
}

// readSizes hands at most n bytes to each Read.
type readSizes struct {
	r io.Reader
	n int
}

func (r readSizes) Read(p []byte) (int, error) { return r.r.Read(p[:min(len(p), r.n)]) }
