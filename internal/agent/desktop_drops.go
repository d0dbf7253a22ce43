package agent

import (
	"os"
	"sync"
	"time"
)

// dropAuditWindow is how long a burst of dropped input is gathered before
// it is reported as one event.
var dropAuditWindow = desktopDuration(dropWindowEnv, time.Second)

// dropWindowEnv lets tests shorten dropAuditWindow; not for production use.
const dropWindowEnv = "TETHER_AGENT_TEST_DROP_WINDOW"

// desktopDuration is env's duration if set and positive, else def.
func desktopDuration(env string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(env)); err == nil && d > 0 {
		return d
	}
	return def
}

// dropAudit gathers dropped input events into bursts: the first drop opens
// a burst, which is reported (with its count and the first drop's reason)
// when the window has passed since it opened, or at flush. A technician
// sending thousands of events without control costs one report a window.
type dropAudit struct {
	window time.Duration
	report func(why string, n int)

	mu     sync.Mutex
	n      int
	why    string
	timer  *time.Timer
	closed bool
}

func newDropAudit(window time.Duration, report func(why string, n int)) *dropAudit {
	return &dropAudit{window: window, report: report}
}

// add counts one dropped event.
func (d *dropAudit) add(why string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	if d.n == 0 {
		d.why = why
		d.timer = time.AfterFunc(d.window, d.fire)
	}
	d.n++
}

// fire reports the burst gathered so far.
func (d *dropAudit) fire() {
	d.mu.Lock()
	n, why := d.n, d.why
	d.n = 0
	d.mu.Unlock()
	if n > 0 {
		d.report(why, n)
	}
}

// flush reports what is gathered now and takes no more.
func (d *dropAudit) flush() {
	d.mu.Lock()
	d.closed = true
	if d.timer != nil {
		d.timer.Stop()
	}
	d.mu.Unlock()
	d.fire()
}
