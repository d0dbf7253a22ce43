package main

import (
	"bytes"
	"context"
	"fmt"
	"time"
)

// switchAlphabet are the bytes farSwitch echoes: none of them appears in
// tech's "Session path: …" line, which shares the terminal.
const switchAlphabet = "#%&*+=@^~"

// farSwitch: the longest keystroke echo while a session moves from the
// relay path to the direct path. tech starts with --path auto and offers
// the direct path a second after consent (test knob start=1s), so the move
// happens while a byte is echoed at a time; echoing goes on for a second
// after tech says "Session path: direct". The echoes before the move
// travel the relay path, so with an added delay the maximum is at least
// the relay path's round trip.
func farSwitch(_ context.Context, _ *config, f *farEnv, label string, delay time.Duration, ft *farTable) error {
	if !f.direct {
		return nil
	}
	row := ft.add(label+": echo max while the session moves to the direct path", "µs", 0)
	if delay == 0 {
		// With a delay the relay path's own echo is above 50 ms (four
		// one-way delays), so the bound only means something without one.
		row.target = "no echo above 50 ms during the switch"
		row.check = func(r *farRow) (bool, bool) { return r.direct <= 50000, known(r.direct) }
	}
	r, err := startPTY([]string{"TETHER_TEST_DIRECT=start=1s"}, f.connect("auto", "-t", "--", echoCmd)...)
	if err != nil {
		return err
	}
	defer r.close()
	if _, err := r.expect("READY", 30*time.Second); err != nil {
		return err
	}
	max, n, err := switchEchoes(r, 20*time.Second)
	if err != nil {
		return err
	}
	row.direct = float64(max) / 1e3
	ft.note("%s: the switch check echoed %d bytes one at a time, the move among them", label, n)
	return nil
}

// switchEchoes echoes one byte at a time until a second after the output
// says the session moved to the direct path (or limit passes: an error),
// and returns the longest round trip and how many there were.
func switchEchoes(r *ptyRun, limit time.Duration) (time.Duration, int, error) {
	data := r.reader()
	var seen bytes.Buffer
	var max time.Duration
	var moved time.Time
	deadline := time.Now().Add(limit)
	for i := 0; ; i++ {
		if !moved.IsZero() && time.Since(moved) > time.Second {
			return max, i, nil
		}
		if time.Now().After(deadline) {
			return max, i, fmt.Errorf("no move to the direct path within %v (output: %q)", limit, tail(seen.String(), 200))
		}
		b := switchAlphabet[i%len(switchAlphabet)]
		t0 := time.Now()
		if _, err := r.tty.Write([]byte{b}); err != nil {
			return max, i, err
		}
		for got := false; !got; {
			select {
			case in, ok := <-data:
				if !ok {
					return max, i, fmt.Errorf("echo %d: terminal closed", i)
				}
				seen.Write(in)
				got = bytes.IndexByte(in, b) >= 0
			case <-time.After(10 * time.Second):
				return max, i, fmt.Errorf("echo %d: no echo within 10s", i)
			}
		}
		max = maxDur(max, time.Since(t0))
		if moved.IsZero() && bytes.Contains(seen.Bytes(), []byte("Session path: direct")) {
			moved = time.Now()
		}
		if seen.Len() > 1<<16 {
			seen.Next(seen.Len() - 1<<10)
		}
	}
}

func maxDur(a, b time.Duration) time.Duration {
	if a > b {
		return a
	}
	return b
}
