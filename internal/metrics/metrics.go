// Package metrics holds the relay's Prometheus collectors and the separate
// listener that serves them. One Relay value is made per relay process and
// handed to the parts that count (the broker, the audit writer, the
// sign-in handler); its collectors live in a private registry, never the
// process-global default, so tests and a second relay in one process do not
// share counters.
//
// Metric names and labels are a contract with dashboards and alert rules:
// docs/operations.md lists them. Labels take only values the relay chooses
// (path, capability names it knows, outcomes), never a name a peer sends, so
// a peer cannot grow the number of series.
package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Path label values of the session metrics.
const (
	// PathRelay is a session whose frames the relay forwards.
	PathRelay = "relay"
	// PathDirect is a session whose peers talk directly (not yet brokered
	// this way; the label value is reserved).
	PathDirect = "direct"
)

// Capabilities are the capability label values; a capability a peer
// names that is not one of these is counted as "other".
var Capabilities = []string{"shell", "files", "files:to-device", "files:from-device", "clipboard", "screen-view", "screen-control"}

// Relay is the relay's set of collectors. The zero value is not usable;
// make one with New. Its methods are safe for concurrent use.
type Relay struct {
	reg  *prometheus.Registry
	live *liveCollector

	sessionsStarted *prometheus.CounterVec
	consent         *prometheus.CounterVec
	logins          *prometheus.CounterVec
	lockouts        prometheus.Counter
	forwardedBytes  *prometheus.CounterVec
	toDevice        prometheus.Counter
	toTech          prometheus.Counter
	queueDrops      prometheus.Counter
	auditAppend     prometheus.Histogram
	auditFailures   prometheus.Counter
	recordingBytes  prometheus.Counter
}

// New returns a Relay with every collector registered in a new private
// registry, together with the Go runtime and process collectors. The
// gauges of what is live read zero until Observe gives them a source.
func New() *Relay {
	m := &Relay{reg: prometheus.NewRegistry(), live: newLiveCollector()}
	m.sessionsStarted = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tether_sessions_total",
		Help: "Sessions opened by technicians, by path."}, []string{"path"})
	m.consent = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tether_consent_answers_total",
		Help: "Consent answers the devices reported, by answer (granted or refused)."}, []string{"answer"})
	m.logins = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tether_logins_total",
		Help: "Technician sign-in attempts, by outcome (success or failure)."}, []string{"outcome"})
	m.lockouts = prometheus.NewCounter(prometheus.CounterOpts{Name: "tether_account_lockouts_total",
		Help: "Accounts locked after too many failed sign-ins."})
	m.forwardedBytes = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tether_forwarded_bytes_total",
		Help: "Session frame bytes forwarded between technician and device, by direction (to_device or to_tech)."},
		[]string{"direction"})
	m.queueDrops = prometheus.NewCounter(prometheus.CounterOpts{Name: "tether_frame_queue_drops_total",
		Help: "Frames a session could not queue for a peer that was too slow or gone (each ends its session)."})
	m.auditAppend = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tether_audit_append_seconds",
		Help:    "Time to append one entry to the hash-chained audit log (store transaction included).",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1}})
	m.auditFailures = prometheus.NewCounter(prometheus.CounterOpts{Name: "tether_audit_append_failures_total",
		Help: "Audit entries that could not be appended (see the relay's log)."})
	m.recordingBytes = prometheus.NewCounter(prometheus.CounterOpts{Name: "tether_recording_bytes_total",
		Help: "Encrypted recording bytes stored."})
	m.reg.MustRegister(m.live, m.sessionsStarted, m.consent, m.logins, m.lockouts,
		m.forwardedBytes, m.queueDrops, m.auditAppend, m.auditFailures, m.recordingBytes,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Series that exist from the start read 0 rather than being absent.
	m.sessionsStarted.WithLabelValues(PathRelay)
	for _, a := range []string{"granted", "refused"} {
		m.consent.WithLabelValues(a)
	}
	for _, o := range []string{"success", "failure"} {
		m.logins.WithLabelValues(o)
	}
	m.toDevice, m.toTech = m.forwardedBytes.WithLabelValues(ToDevice), m.forwardedBytes.WithLabelValues(ToTech)
	return m
}

// Registry returns the private registry the collectors are in.
func (m *Relay) Registry() *prometheus.Registry { return m.reg }

// Observe sets where the gauges of what is live (devices connected,
// sessions and their capabilities) are read at each scrape: counting at
// scrape time from the relay's own tables cannot drift from them.
func (m *Relay) Observe(fn func() Live) { m.live.set(fn) }

// SessionOpened counts a session the relay starts brokering on path.
func (m *Relay) SessionOpened(path string) { m.sessionsStarted.WithLabelValues(path).Inc() }

// ConsentAnswer counts a consent answer.
func (m *Relay) ConsentAnswer(granted bool) {
	a := "refused"
	if granted {
		a = "granted"
	}
	m.consent.WithLabelValues(a).Inc()
}

// Login counts a sign-in attempt that was checked.
func (m *Relay) Login(ok bool) {
	o := "failure"
	if ok {
		o = "success"
	}
	m.logins.WithLabelValues(o).Inc()
}

// Lockout counts an account locked by failed sign-ins.
func (m *Relay) Lockout() { m.lockouts.Inc() }

// Direction label values of tether_forwarded_bytes_total.
const (
	ToDevice = "to_device"
	ToTech   = "to_tech"
)

// Forwarded counts n frame bytes forwarded from the device to the
// technician (fromDevice) or the other way.
func (m *Relay) Forwarded(fromDevice bool, n int) {
	if fromDevice {
		m.toTech.Add(float64(n))
	} else {
		m.toDevice.Add(float64(n))
	}
}

// QueueDrop counts a frame a peer's queue could not take.
func (m *Relay) QueueDrop() { m.queueDrops.Inc() }

// AuditAppended observes one audit append that took d; failed says it did
// not succeed.
func (m *Relay) AuditAppended(d time.Duration, failed bool) {
	m.auditAppend.Observe(d.Seconds())
	if failed {
		m.auditFailures.Inc()
	}
}

// RecordingStored counts n recording bytes written to the store.
func (m *Relay) RecordingStored(n int) { m.recordingBytes.Add(float64(n)) }

// StoreWrites is what the relay's queue of session records holds and has
// dropped (writeq.Stats).
type StoreWrites struct {
	Waiting int
	Dropped uint64
}

// ObserveStoreWrites exports the queue of session records, read from fn at
// each scrape: tether_store_writes_waiting (records waiting in memory for
// the database) and tether_store_writes_dropped_total (records dropped
// because too many waited).
func (m *Relay) ObserveStoreWrites(fn func() StoreWrites) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tether_store_writes_waiting",
		Help: "Records of running sessions (audit entries, session state, files, recordings index) waiting in memory for the database."},
		func() float64 { return float64(fn().Waiting) }))
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "tether_store_writes_dropped_total",
		Help: "Records of running sessions dropped because too many waited for the database."},
		func() float64 { return float64(fn().Dropped) }))
}

// STUNCounts is what the relay's STUN server did with the datagrams it
// read (stunserver.Stats).
type STUNCounts struct{ Answered, Dropped, Limited uint64 }

// ObserveSTUN exports the STUN server's counts, read from fn at each
// scrape, as tether_stun_datagrams_total{outcome="answered|dropped|limited"}.
// Call it once, when the relay answers STUN; without it the series are
// absent.
func (m *Relay) ObserveSTUN(fn func() STUNCounts) {
	for outcome, get := range map[string]func(STUNCounts) uint64{
		"answered": func(c STUNCounts) uint64 { return c.Answered },
		"dropped":  func(c STUNCounts) uint64 { return c.Dropped },
		"limited":  func(c STUNCounts) uint64 { return c.Limited },
	} {
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "tether_stun_datagrams_total",
			Help:        "Datagrams the STUN listener read, by outcome (answered; dropped: not a Binding request it answers; limited: over a rate limit).",
			ConstLabels: prometheus.Labels{"outcome": outcome}}, func() float64 { return float64(get(fn())) }))
	}
}
