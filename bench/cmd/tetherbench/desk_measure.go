package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"time"
)

// deskViewer is one contender's viewer during a workload: cumulative
// counters, and the marker codes it saw drawn.
type deskViewer interface {
	// counts returns the updates drawn and the bytes received and sent so far.
	counts() (updates int, down, up int64)
	// takeSeen returns the marker observations since the last call.
	takeSeen() []markSeen
	// serverPID is the capturing process (the agent, x11vnc).
	serverPID() int
	// check returns why the viewer stopped working, if it did.
	check() error
	close()
}

// deskResult is one contender's figures for one workload: updates, bytes
// and CPU from the throughput pass (dur long), latencies from the latency
// pass (latDur long).
type deskResult struct {
	updates  int
	down, up int64
	dur      time.Duration
	cpu      time.Duration // the capturing process's CPU time
	latDur   time.Duration
	lat      []time.Duration
	latAt    []time.Duration // when each measured change was made, from the start
	missed   int             // changes never seen drawn
	syncs    []time.Duration // X server round trips of the marker changes
	load     string          // the machine's load average after both passes
}

func (r *deskResult) perSec(n float64) float64 { return n / r.dur.Seconds() }

// growth is the lag growth over the run: the median latency of the changes
// made in the last third minus that of the first third.
func (r *deskResult) growth() time.Duration {
	var first, last []time.Duration
	for i, at := range r.latAt {
		switch {
		case at < r.latDur/3:
			first = append(first, r.lat[i])
		case at >= 2*r.latDur/3:
			last = append(last, r.lat[i])
		}
	}
	if len(first) == 0 || len(last) == 0 {
		return 0
	}
	return pct(last, 50) - pct(first, 50)
}

// measureDesk runs one workload against a connected viewer twice for dur:
// a throughput pass with the marker still, then a latency pass with it
// moving. The viewer must have drawn a first update.
func measureDesk(ctx context.Context, e *deskEnv, w *deskWorkload, v deskViewer, dur time.Duration) (*deskResult, error) {
	if err := waitFor(90*time.Second, "the viewer's first update", func() bool {
		n, _, _ := v.counts()
		return n > 0 || v.check() != nil
	}); err != nil {
		return nil, err
	}
	if err := v.check(); err != nil {
		return nil, err
	}
	// Warm up: 2 s of the workload before anything counts.
	if err := w.drive(ctx, e, time.Now().Add(2*time.Second), false); err != nil {
		return nil, fmt.Errorf("drive %s: %w", w.name, err)
	}
	// Each snapshot is taken the same way at both ends (a browser reports
	// its counts with a delay), and the interval runs between them.
	n0, d0, u0 := v.counts()
	c0, _ := cpuTime(v.serverPID())
	t0 := time.Now()
	if err := w.drive(ctx, e, t0.Add(dur), false); err != nil {
		return nil, fmt.Errorf("drive %s: %w", w.name, err)
	}
	n1, d1, u1 := v.counts()
	c1, _ := cpuTime(v.serverPID())
	r := &deskResult{dur: time.Since(t0)}
	r.updates, r.down, r.up, r.cpu = n1-n0, d1-d0, u1-u0, c1-c0

	e.marker.take()
	v.takeSeen()
	t0 = time.Now()
	if err := w.drive(ctx, e, t0.Add(dur), true); err != nil {
		return nil, fmt.Errorf("drive %s: %w", w.name, err)
	}
	r.latDur = time.Since(t0)
	sent, syncs := e.marker.take()
	r.syncs = syncs
	// Changes made near the end get up to 3 s to be drawn.
	var seen []markSeen
	waitFor(3*time.Second, "the last changes drawn", func() bool {
		seen = append(seen, v.takeSeen()...)
		return len(sent) == 0 || resolves(sent[len(sent)-1], seen)
	})
	if os.Getenv("BENCH_DESK_DEBUG") != "" {
		for _, s := range sent {
			logf("sent %d (code %d) at %s", s.seq, s.seq%markerCodes, s.at.Format("15:04:05.000"))
		}
		for _, o := range seen {
			logf("seen code %d at %s", o.code, o.at.Format("15:04:05.000"))
		}
	}
	r.lat, r.latAt, r.missed = matchMarks(sent, seen, t0)
	r.load = loadAvg()
	return r, v.check()
}

// resolves reports whether some observation shows s (or a later change).
func resolves(s markSent, seen []markSeen) bool {
	for _, o := range seen {
		if o.code == s.seq%markerCodes && !o.at.Before(s.at.Add(-clockSlack)) {
			return true
		}
	}
	return false
}

// clockSlack allows for a viewer's clock (a browser's) reading slightly
// behind the driver's.
const clockSlack = 2 * time.Millisecond

// matchMarks pairs marker changes with the first drawing that shows them
// or a later change: a change coalesced into the next one is drawn when
// that one is. It returns each matched change's latency and when it was
// made (from t0), and how many were never drawn.
func matchMarks(sent []markSent, seen []markSeen, t0 time.Time) (lat, at []time.Duration, missed int) {
	seen = slices.Clone(seen)
	slices.SortFunc(seen, func(a, b markSeen) int { return a.at.Compare(b.at) })
	next := 0 // the first change not drawn yet
	for _, o := range seen {
		// The newest change made before o with o's code is the one drawn.
		s := -1
		for i := len(sent) - 1; i >= 0; i-- {
			if sent[i].seq%markerCodes == o.code && !sent[i].at.After(o.at.Add(clockSlack)) {
				s = i
				break
			}
		}
		for ; next <= s; next++ {
			lat = append(lat, max(0, o.at.Sub(sent[next].at)))
			at = append(at, sent[next].at.Sub(t0))
		}
	}
	return lat, at, len(sent) - next
}
