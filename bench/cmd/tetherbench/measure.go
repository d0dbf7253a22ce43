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

// termRun runs argv once on a PTY and returns the bytes of output, the
// time from the first byte to the last and the command's own CPU time.
func termRun(argv []string, want int64) (n int64, d, cpu time.Duration, err error) {
	// Let the previous run's disk writes (a finished session's recording
	// is fsynced when it ends) settle first, so they are not charged to
	// whatever runs next.
	exec.Command("sync").Run()
	r, err := startPTY(nil, argv...)
	if err != nil {
		return 0, 0, 0, err
	}
	n, d, err = r.countOutput(5 * time.Minute)
	r.close()
	if st := r.cmd.ProcessState; st != nil {
		cpu = st.UserTime() + st.SystemTime()
	}
	if err != nil {
		return 0, 0, 0, err
	}
	if n < want {
		return 0, 0, 0, fmt.Errorf("%s: got %d bytes of output, want at least %d", argv[0], n, want)
	}
	return n, d, cpu, nil
}

// contender is one command in an interleaved throughput comparison.
type contender struct {
	name string
	argv []string
	best float64       // MB/s, the best run
	busy time.Duration // the whole machine's CPU during its runs
	cpu  time.Duration // the command's own CPU (children not counted)
	wall time.Duration
	n    int64
}

// termThroughputs runs each contender's argv on a PTY, runs times, in
// rounds (each contender once per round, in turn), so that the machine's
// slow and fast spells fall on all of them alike, and keeps each one's
// best rate.
func termThroughputs(cs []*contender, want int64, runs int) error {
	for range runs {
		for _, c := range cs {
			busy0, t0 := systemBusy(), time.Now()
			n, d, cpu, err := termRun(c.argv, want)
			if err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
			c.busy += systemBusy() - busy0
			c.cpu += cpu
			c.wall += time.Since(t0)
			c.n += n
			c.best = max(c.best, mbps(n, d))
		}
	}
	for _, c := range cs {
		// CPU per MB over the whole machine: less sensitive to other load
		// than the rate, and what a 2-core machine runs out of.
		logf("%s: %.1f MB/s best of %d, machine CPU %.1f ms per MB (%.0f%% of the CPUs busy)", c.name, c.best, runs,
			float64(c.busy.Milliseconds())/(float64(c.n)/1e6),
			100*c.busy.Seconds()/c.wall.Seconds()/float64(runtime.NumCPU()))
	}
	return nil
}

// echoSession starts argv (which must run echoCmd remotely) on a PTY and
// waits until it is ready and warmed up.
func echoSession(argv []string) (*ptyRun, error) {
	r, err := startPTY(nil, argv...)
	if err != nil {
		return nil, err
	}
	if _, err := r.expect("READY", 30*time.Second); err != nil {
		r.close()
		return nil, err
	}
	r.drain(200 * time.Millisecond)              // let the prompt's tail arrive
	if _, err := r.echoLatency(20); err != nil { // warm up
		r.close()
		return nil, err
	}
	return r, nil
}

// echoBlock is how many round trips one session makes before the next
// takes its turn.
const echoBlock = 100

// termEchoes times n single-byte round trips through each of the sessions
// started from argvs, all open at once and taking turns in blocks of
// echoBlock, so that bursts of noise on the machine (which last tens of
// milliseconds here) hit each of them alike.
func termEchoes(argvs [][]string, n int) ([][]time.Duration, error) {
	rs := make([]*ptyRun, len(argvs))
	defer func() {
		for _, r := range rs {
			if r != nil {
				r.close()
			}
		}
	}()
	for i, argv := range argvs {
		var err error
		if rs[i], err = echoSession(argv); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Base(argv[0]), err)
		}
	}
	out := make([][]time.Duration, len(argvs))
	for done := 0; done < n; done += echoBlock {
		for i, r := range rs {
			ds, err := r.echoLatency(min(echoBlock, n-done))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", filepath.Base(argvs[i][0]), err)
			}
			out[i] = append(out[i], ds...)
		}
	}
	return out, nil
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
