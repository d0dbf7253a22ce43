package relay

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/tether-support/tether/internal/audit"
)

// Bounds on what an unauthenticated failure writes to the audit log.
const (
	failTargetMax  = 64  // bytes of an entry's target
	failDetailMax  = 200 // bytes of each detail value
	failDetailKeys = 4   // detail pairs kept
	failSamples    = 4   // distinct targets named in a summary
	failActions    = 8   // distinct actions counted in a summary
	failSourceMax  = 64  // bytes of a source address
	// failBurst is how many failures of one source per window are written
	// in full before the rest are only counted: a few failed sign-ins stay
	// individually visible, a flood becomes a summary.
	failBurst = 8
)

// actionFailures is the summary entry's action.
const actionFailures = "auth.failures"

// failureLog bounds the audit entries that peers who have not authenticated
// can cause. The first failBurst failures from a source in each window are
// written in full (fields capped); the rest are only counted, and at the
// end of the window each source that had more gets one summary entry
// (count, actions, a few sample targets). Beyond maxSrc sources per window,
// failures are summarised together under one entry. So in one window a
// source writes at most failBurst+1 entries and all anonymous peers
// together at most (failBurst+1)·maxSrc+1, each of bounded size. Safe for
// concurrent use.
type failureLog struct {
	interval time.Duration
	maxSrc   int
	write    func(audit.Event)

	mu      sync.Mutex
	bySrc   map[string]*failures
	others  failures
	otherNo map[string]struct{} // sources summarised as others (up to maxSrc)
}

// failures are one source's failures in this window.
type failures struct {
	written int // in full
	count   int // only counted, for the summary
	actions map[string]int
	targets []string
}

func newFailureLog(lim Limits, write func(audit.Event)) *failureLog {
	return &failureLog{interval: lim.FailureInterval, maxSrc: lim.MaxFailureSources, write: write,
		bySrc: make(map[string]*failures), otherNo: make(map[string]struct{})}
}

// anonymousFailure reports whether e is a failure of a peer that has not
// authenticated: no actor, a source address, outcome "failure".
func anonymousFailure(e audit.Event) bool {
	return e.ActorID == "" && e.Outcome == "failure" && e.Source != ""
}

// capEvent bounds every field a peer may control. The text is kept as
// sent (cut on a character boundary): the audit export, not the log,
// makes it safe to display.
func capEvent(e audit.Event) audit.Event {
	e.Target = capText(e.Target, failTargetMax)
	e.Source = capText(e.Source, failSourceMax)
	if len(e.Details) > 0 {
		d := make(map[string]string, min(len(e.Details), failDetailKeys))
		for _, k := range slices.Sorted(maps.Keys(e.Details))[:min(len(e.Details), failDetailKeys)] {
			d[capText(k, 32)] = capText(e.Details[k], failDetailMax)
		}
		e.Details = d
	}
	return e
}

// capText cuts s to at most n bytes without splitting a UTF-8 sequence.
func capText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for i := 0; i < utf8.UTFMax && len(s) > 0; i++ {
		if r, size := utf8.DecodeLastRuneInString(s); r != utf8.RuneError || size != 1 {
			break
		}
		s = s[:len(s)-1]
	}
	return s
}

// note counts e (already capped). It reports whether e is to be written
// now: one of the first failBurst failures of its source in this window,
// if mayWrite.
func (f *failureLog) note(e audit.Event, mayWrite bool) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	fs := f.bySrc[e.Source]
	if fs == nil {
		if len(f.bySrc) >= f.maxSrc {
			if len(f.otherNo) < f.maxSrc {
				f.otherNo[e.Source] = struct{}{}
			}
			f.others.add(e)
			return false
		}
		fs = &failures{}
		f.bySrc[e.Source] = fs
	}
	if mayWrite && fs.written < failBurst {
		fs.written++
		return true
	}
	fs.add(e)
	return false
}

// add counts e.
func (fs *failures) add(e audit.Event) {
	fs.count++
	if fs.actions == nil {
		fs.actions = make(map[string]int)
	}
	if _, ok := fs.actions[e.Action]; ok || len(fs.actions) < failActions {
		fs.actions[e.Action]++
	}
	if e.Target != "" && len(fs.targets) < failSamples && !slices.Contains(fs.targets, e.Target) {
		fs.targets = append(fs.targets, e.Target)
	}
}

// flush writes the window's summaries and starts a new window.
func (f *failureLog) flush() {
	f.mu.Lock()
	var out []audit.Event
	for src, fs := range f.bySrc {
		if fs.count > 0 {
			out = append(out, fs.summary(src, f.interval))
		}
	}
	if f.others.count > 0 {
		e := f.others.summary("other sources", f.interval)
		e.Details["sources"] = fmt.Sprint(len(f.otherNo))
		if len(f.otherNo) >= f.maxSrc {
			e.Details["sources"] += " or more"
		}
		out = append(out, e)
	}
	f.bySrc, f.others, f.otherNo = make(map[string]*failures), failures{}, make(map[string]struct{})
	f.mu.Unlock()
	for _, e := range out {
		f.write(e)
	}
}

// summary is fs as one audit entry.
func (fs *failures) summary(src string, window time.Duration) audit.Event {
	acts := make([]string, 0, len(fs.actions))
	for _, a := range slices.Sorted(maps.Keys(fs.actions)) {
		acts = append(acts, fmt.Sprintf("%s=%d", a, fs.actions[a]))
	}
	return auditEvent("", actionFailures, "", "failure", src, "count", fmt.Sprint(fs.count),
		"actions", strings.Join(acts, ","), "targets", strings.Join(fs.targets, ","), "window", window.String())
}

// run flushes every interval until ctx ends (Close flushes the last window).
func (f *failureLog) run(ctx context.Context) { every(ctx, f.interval, f.flush) }

// refusedConn counts a connection closed by the pre-authentication caps;
// it never writes at once (it runs in the accept loop).
func (s *Server) refusedConn(src string) {
	s.failures.note(auditEvent("", "conn.refused", "", "failure", capText(src, failSourceMax)), false)
}
