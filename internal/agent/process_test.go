package agent

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/protocol"
)

// scriptReader returns its chunks one per Read; once they run out it
// reports a deadline expiry if a deadline is set (as a pollable file would
// after waiting) and io.EOF otherwise.
type scriptReader struct {
	chunks      [][]byte
	deadlineSet bool
	deadlines   int
}

func (r *scriptReader) Read(p []byte) (int, error) {
	if len(r.chunks) == 0 {
		if r.deadlineSet {
			return 0, os.ErrDeadlineExceeded
		}
		return 0, io.EOF
	}
	n := copy(p, r.chunks[0])
	if n < len(r.chunks[0]) {
		r.chunks[0] = r.chunks[0][n:]
	} else {
		r.chunks = r.chunks[1:]
	}
	return n, nil
}

func (r *scriptReader) SetReadDeadline(t time.Time) error {
	r.deadlineSet = !t.IsZero()
	if r.deadlineSet {
		r.deadlines++
	}
	return nil
}

func chunk(n int) []byte { return bytes.Repeat([]byte{'a'}, n) }

func TestPumpStreamCoalescing(t *testing.T) {
	tests := []struct {
		name      string
		chunks    []int
		want      []int // message sizes
		deadlines int   // lingers started
	}{
		{"keystroke leaves alone", []int{1}, []int{1}, 0},
		{"small reads never linger", []int{100, 200, 3}, []int{100, 200, 3}, 0},
		{"bulk gathered until a small read", []int{4096, 4096, 4096, 100}, []int{12388}, 1},
		{"bulk gathered until nearly full", []int{4096, 4096, 4096, 4096, 4096, 4096, 4096, 4096, 4096}, []int{28672, 8192}, 2},
		{"bulk then silence", []int{4096, 4096}, []int{8192}, 1},
		{"small after bulk leaves at once", []int{4096, 10, 20}, []int{4106, 20}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &scriptReader{}
			total := 0
			for _, n := range tt.chunks {
				r.chunks = append(r.chunks, chunk(n))
				total += n
			}
			var got []int
			pumpStream(r, protocol.InStdout, func(typ protocol.InnerType, b []byte) error {
				if typ != protocol.InStdout {
					t.Errorf("type %v, want stdout", typ)
				}
				got = append(got, len(b))
				return nil
			})
			if !equalInts(got, tt.want) {
				t.Fatalf("message sizes %v, want %v", got, tt.want)
			}
			if r.deadlines != tt.deadlines {
				t.Fatalf("%d lingers, want %d", r.deadlines, tt.deadlines)
			}
		})
	}
}

func TestPumpStreamStopsOnSendError(t *testing.T) {
	r := &scriptReader{chunks: [][]byte{chunk(10), chunk(10), chunk(10)}}
	calls := 0
	pumpStream(r, protocol.InStdout, func(protocol.InnerType, []byte) error {
		calls++
		return errors.New("connection lost")
	})
	if calls != 1 {
		t.Fatalf("send called %d times after failing, want 1", calls)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// collect runs pr's output pump and returns everything it sent.
func collect(t *testing.T, pr *process) string {
	t.Helper()
	var mu sync.Mutex
	var out bytes.Buffer
	done := make(chan struct{})
	pr.readOutputs(func(_ protocol.InnerType, b []byte) error {
		mu.Lock()
		defer mu.Unlock()
		out.Write(b)
		return nil
	}, done)
	pr.wait(done)
	mu.Lock()
	defer mu.Unlock()
	return out.String()
}

func TestPTYIsPollableAndResizable(t *testing.T) {
	pr, err := startProcess(protocol.Start{Argv: []string{"read line; stty size"}, PTY: true, Rows: 30, Cols: 100}, testScope(t))
	if err != nil {
		t.Fatal(err)
	}
	// A deadline works only on a file in Go's poller.
	if err := pr.pty.SetReadDeadline(time.Now().Add(10 * time.Millisecond)); err != nil {
		t.Fatalf("set deadline: %v", err)
	}
	buf := make([]byte, 64)
	if _, err := pr.pty.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read with an expired deadline: %v, want a deadline error", err)
	}
	pr.pty.SetReadDeadline(time.Time{})
	pr.resize(40, 120)
	pr.write([]byte("go\r"))
	out := collect(t, pr)
	if !strings.Contains(out, "40 120") {
		t.Fatalf("stty size after resize printed %q, want 40 120", out)
	}
}

func TestPTYBulkOutputArrivesWhole(t *testing.T) {
	const n = 1 << 20
	pr, err := startProcess(protocol.Start{Argv: []string{"head -c 1048576 /dev/zero | tr '\\0' a"}, PTY: true}, testScope(t))
	if err != nil {
		t.Fatal(err)
	}
	out := collect(t, pr)
	if len(out) != n || strings.Trim(out, "a") != "" {
		t.Fatalf("got %d bytes (want %d of 'a')", len(out), n)
	}
}

// testScope returns a scope whose processes and cgroup go when t ends.
func testScope(t *testing.T) *scope {
	sc := newScope("test"+randHex(4), slog.Default())
	t.Cleanup(sc.kill)
	return sc
}
