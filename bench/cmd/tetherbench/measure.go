package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"
)

// throughputCmd prints n bytes of 'a' (no newlines) to the terminal.
func throughputCmd(n int64) string {
	return fmt.Sprintf(`head -c %d /dev/zero | tr '\0' a`, n)
}

// echoCmd puts the remote terminal in raw mode without echo and returns
// every byte as it comes, so each keystroke makes exactly one round trip.
const echoCmd = `stty raw -echo; echo READY; exec cat`

// termThroughput runs argv on a PTY and measures its output rate from the
// first byte to the last. It best of runs.
func termThroughput(argv []string, want int64, runs int) (float64, error) {
	best := 0.0
	busy0, t0 := systemBusy(), time.Now()
	var total int64
	defer func() {
		// CPU per MB over the whole machine: less sensitive to other load
		// than the rate, and what a 2-core machine runs out of.
		if busy := systemBusy() - busy0; total > 0 {
			logf("%s: machine CPU %.1f ms per MB (%.0f%% of the CPUs busy)", filepath.Base(argv[0]),
				float64(busy.Milliseconds())/(float64(total)/1e6),
				100*busy.Seconds()/time.Since(t0).Seconds()/float64(runtime.NumCPU()))
		}
	}()
	for range runs {
		// Let the previous run's disk writes (a finished session's
		// recording is fsynced when it ends) settle first, so they are not
		// charged to whatever runs next.
		exec.Command("sync").Run()
		r, err := startPTY(nil, argv...)
		if err != nil {
			return 0, err
		}
		n, d, err := r.countOutput(5 * time.Minute)
		total += n
		r.close()
		if st := r.cmd.ProcessState; st != nil {
			lastTechCPU = st.UserTime() + st.SystemTime()
		}
		if err != nil {
			return 0, err
		}
		if n < want {
			return 0, fmt.Errorf("%s: got %d bytes of output, want at least %d", argv[0], n, want)
		}
		best = max(best, mbps(n, d))
	}
	return best, nil
}

// lastTechCPU is the CPU time of the last command termThroughput ran.
var lastTechCPU time.Duration

// termEcho starts argv (which must run echoCmd remotely) on a PTY, waits
// until it is ready and times n single-byte round trips.
func termEcho(argv []string, n int) ([]time.Duration, error) {
	r, err := startPTY(nil, argv...)
	if err != nil {
		return nil, err
	}
	defer r.close()
	if _, err := r.expect("READY", 30*time.Second); err != nil {
		return nil, err
	}
	r.drain(200 * time.Millisecond)              // let the prompt's tail arrive
	if _, err := r.echoLatency(20); err != nil { // warm up
		return nil, err
	}
	return r.echoLatency(n)
}

// setupTimes runs argv to completion n times (stdin /dev/null) and returns
// the wall time of each run.
func setupTimes(ctx context.Context, argv []string, n int) ([]time.Duration, error) {
	out := make([]time.Duration, 0, n)
	for range n {
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Stdin = nil
		devnull, _ := os.Open(os.DevNull)
		cmd.Stdin = devnull
		t0 := time.Now()
		b, err := cmd.CombinedOutput()
		d := time.Since(t0)
		devnull.Close()
		if err != nil {
			return out, fmt.Errorf("%v: %w: %s", argv, err, tail(string(b), 300))
		}
		out = append(out, d)
	}
	return out, nil
}
