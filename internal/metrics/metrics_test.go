package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestLiveGaugesReadAtScrape(t *testing.T) {
	m := New()
	live := Live{Agents: 2, Sessions: []LiveSession{
		{Path: PathRelay, Granted: []string{"shell", "files", "shell"}},
		{Path: PathRelay, Granted: []string{"shell", "\x1b[31mevil"}},
		{Path: "bogus"},
	}}
	m.Observe(func() Live { return live })
	want := `
# HELP tether_agents_connected Devices with a live control connection to this relay.
# TYPE tether_agents_connected gauge
tether_agents_connected 2
# HELP tether_session_capabilities_active Capabilities granted in the live sessions, by path and capability (a session counts once per capability it holds).
# TYPE tether_session_capabilities_active gauge
tether_session_capabilities_active{capability="files",path="relay"} 1
tether_session_capabilities_active{capability="other",path="relay"} 1
tether_session_capabilities_active{capability="shell",path="relay"} 2
# HELP tether_sessions_active Sessions this relay is brokering now, by path (relay or direct).
# TYPE tether_sessions_active gauge
tether_sessions_active{path="relay"} 3
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want),
		"tether_agents_connected", "tether_sessions_active", "tether_session_capabilities_active"); err != nil {
		t.Error(err)
	}
}

func TestCountersMove(t *testing.T) {
	m := New()
	m.Login(true)
	m.Login(false)
	m.Login(false)
	m.Lockout()
	m.ConsentAnswer(false)
	m.Forwarded(true, 100)
	m.Forwarded(false, 7)
	m.QueueDrop()
	m.RecordingStored(42)
	m.SessionOpened(PathRelay)
	m.AuditAppended(3*time.Millisecond, true)
	checks := []struct {
		got  float64
		want float64
		what string
	}{
		{testutil.ToFloat64(m.logins.WithLabelValues("success")), 1, "logins success"},
		{testutil.ToFloat64(m.logins.WithLabelValues("failure")), 2, "logins failure"},
		{testutil.ToFloat64(m.lockouts), 1, "lockouts"},
		{testutil.ToFloat64(m.consent.WithLabelValues("refused")), 1, "consent refused"},
		{testutil.ToFloat64(m.consent.WithLabelValues("granted")), 0, "consent granted"},
		{testutil.ToFloat64(m.toTech), 100, "bytes to tech"},
		{testutil.ToFloat64(m.toDevice), 7, "bytes to device"},
		{testutil.ToFloat64(m.queueDrops), 1, "queue drops"},
		{testutil.ToFloat64(m.recordingBytes), 42, "recording bytes"},
		{testutil.ToFloat64(m.sessionsStarted.WithLabelValues(PathRelay)), 1, "sessions"},
		{testutil.ToFloat64(m.auditFailures), 1, "audit failures"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
	if n := testutil.CollectAndCount(m.auditAppend); n != 1 {
		t.Errorf("audit append histogram: %d series", n)
	}
}

func TestCheckListen(t *testing.T) {
	tests := []struct {
		addr   string
		remote bool
		ok     bool
	}{
		{"127.0.0.1:9464", false, true},
		{"[::1]:9464", false, true},
		{"localhost:9464", false, true},
		{"0.0.0.0:9464", false, false},
		{":9464", false, false},
		{"10.0.0.5:9464", false, false},
		{"metrics.example:9464", false, false},
		{"0.0.0.0:9464", true, true},
		{"no-port", true, false},
	}
	for _, tc := range tests {
		err := CheckListen(tc.addr, tc.remote)
		if (err == nil) != tc.ok {
			t.Errorf("CheckListen(%q, %v) = %v, want ok=%v", tc.addr, tc.remote, err, tc.ok)
		}
	}
}

func TestStoreWritesReadAtScrape(t *testing.T) {
	m := New()
	w := StoreWrites{Waiting: 12, Dropped: 3}
	m.ObserveStoreWrites(func() StoreWrites { return w })
	want := `
# HELP tether_store_writes_dropped_total Records of running sessions dropped because too many waited for the database.
# TYPE tether_store_writes_dropped_total counter
tether_store_writes_dropped_total 3
# HELP tether_store_writes_waiting Records of running sessions (audit entries, session state, files, recordings index) waiting in memory for the database.
# TYPE tether_store_writes_waiting gauge
tether_store_writes_waiting 12
`
	names := []string{"tether_store_writes_waiting", "tether_store_writes_dropped_total"}
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	w.Waiting = 0
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(strings.Replace(want, "waiting 12", "waiting 0", 1)), names...); err != nil {
		t.Error(err)
	}
}

func TestSTUNCountsReadAtScrape(t *testing.T) {
	m := New()
	if n, err := testutil.GatherAndCount(m.Registry(), "tether_stun_datagrams_total"); err != nil || n != 0 {
		t.Fatalf("STUN series without a STUN server: %d %v", n, err)
	}
	c := STUNCounts{Answered: 3, Dropped: 40, Limited: 7}
	m.ObserveSTUN(func() STUNCounts { return c })
	want := `
# HELP tether_stun_datagrams_total Datagrams the STUN listener read, by outcome (answered; dropped: not a Binding request it answers; limited: over a rate limit).
# TYPE tether_stun_datagrams_total counter
tether_stun_datagrams_total{outcome="answered"} 3
tether_stun_datagrams_total{outcome="dropped"} 40
tether_stun_datagrams_total{outcome="limited"} 7
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), "tether_stun_datagrams_total"); err != nil {
		t.Error(err)
	}
	c.Dropped = 41
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(strings.Replace(want, "} 40", "} 41", 1)), "tether_stun_datagrams_total"); err != nil {
		t.Error(err)
	}
}
