package integration

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// metricsURL returns the relay's metrics URL, as `relay serve` printed it
// (the harness starts it on a free loopback port).
func (e *env) metricsURL() string {
	e.t.Helper()
	out := e.relay.Output()
	i := strings.Index(out, "Metrics on ")
	if i < 0 {
		e.t.Fatalf("relay serve did not print its metrics address:\n%s", out)
	}
	return strings.Fields(out[i+len("Metrics on "):])[0]
}

// scrape fetches /metrics and parses the text exposition format.
func (e *env) scrape() map[string]*dto.MetricFamily {
	e.t.Helper()
	resp, err := http.Get(e.metricsURL())
	if err != nil {
		e.t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("scrape: status %d", resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		e.t.Fatalf("parse the text format: %v", err)
	}
	return fams
}

// metricValue is the value of the series of name whose labels include
// every pair in labels (counter, gauge or a histogram's count); -1 if none.
func metricValue(fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	f := fams[name]
	if f == nil {
		return -1
	}
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		ok := true
		for i := 0; i+1 < len(labels); i += 2 {
			ok = ok && have[labels[i]] == labels[i+1]
		}
		if !ok {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return -1
}

// TestMetricsCountASession scrapes /metrics while a real session runs and
// checks that the counters and gauges move: sign-ins and failures, devices
// online, the live session and its capability, consent, forwarded and
// recorded bytes, audit appends.
func TestMetricsCountASession(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	before := e.scrape()
	if v := metricValue(before, "tether_logins_total", "outcome", "success"); v < 1 {
		t.Errorf("the admin's sign-in is not counted: %v", v)
	}
	bad := run(t, e.dir, "not the password\n", bin.tech, "--config", filepath.Join(e.dir, "tech-bad"), "login", "--relay", e.url,
		"--user", "admin", "--ca-fingerprint", e.fp, "--password-stdin")
	if bad.code == 0 {
		t.Fatal("a wrong password signed in")
	}
	d := e.enroll("dev")
	e.runAgent(d, "exit 0")
	eventually(t, "the device counted online", 10*time.Second, func() bool {
		return metricValue(e.scrape(), "tether_agents_connected") == 1
	})
	sh := start(t, e.dir, nil, bin.tech, "--config", e.tech, "connect", d.name, "--caps", "shell", "--", "sh", "-c", "echo metrics-output; sleep 60")
	id := e.liveSession()
	eventually(t, "the live session and its output counted", 10*time.Second, func() bool {
		m := e.scrape()
		return metricValue(m, "tether_sessions_active", "path", "relay") == 1 &&
			metricValue(m, "tether_session_capabilities_active", "path", "relay", "capability", "shell") == 1 &&
			metricValue(m, "tether_forwarded_bytes_total", "direction", "to_tech") > 0 &&
			metricValue(m, "tether_forwarded_bytes_total", "direction", "to_device") > 0
	})
	if r := e.techRun("", "sessions", "kill", id); r.code != 0 {
		t.Fatalf("sessions kill: %s", r.stderr)
	}
	<-sh.done
	eventually(t, "the ended session counted out", 10*time.Second, func() bool {
		return metricValue(e.scrape(), "tether_sessions_active", "path", "relay") == 0
	})
	after := e.scrape()
	grew := []struct {
		name   string
		labels []string
	}{
		{"tether_logins_total", []string{"outcome", "failure"}},
		{"tether_sessions_total", []string{"path", "relay"}},
		{"tether_consent_answers_total", []string{"answer", "granted"}},
		{"tether_forwarded_bytes_total", []string{"direction", "to_tech"}},
		{"tether_recording_bytes_total", nil},
		{"tether_audit_append_seconds", nil},
	}
	for _, g := range grew {
		b, a := metricValue(before, g.name, g.labels...), metricValue(after, g.name, g.labels...)
		if a <= b {
			t.Errorf("%s%v did not grow: %v before, %v after", g.name, g.labels, b, a)
		}
	}
	if v := metricValue(after, "tether_session_capabilities_active", "capability", "shell"); v > 0 {
		t.Errorf("the ended session's capability is still counted: %v", v)
	}
}

// TestReadyzAndHealthz checks the two probes on the main listener.
func TestReadyzAndHealthz(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := insecureClient().Get(e.url + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
	}
}

// TestSessionReportAndAuditSearch copies a file to a device and checks the
// session report in its three forms (table, --json, --csv parsed with
// encoding/csv) shows the session with the file's SHA-256; the audit search
// filters on the relay; a technician without audit.read is refused both.
func TestSessionReportAndAuditSearch(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.enroll("dev")
	e.runAgent(d, "exit 0")
	src := filepath.Join(e.dir, "report.pdf")
	data := writeRandom(t, src, 3000, 0o644)
	sum := sha256.Sum256(data)
	hash := hex.EncodeToString(sum[:])
	if r := e.techRun("", "cp", src, d.name+":report.pdf"); r.code != 0 {
		t.Fatalf("cp: %s", r.stderr)
	}
	since := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)

	var reports []struct {
		ID              string   `json:"id"`
		TechUser        string   `json:"tech_user"`
		DeviceName      string   `json:"device_name"`
		Granted         []string `json:"granted"`
		DurationSeconds int64    `json:"duration_seconds"`
		EndReason       string   `json:"end_reason"`
		RecordingID     string   `json:"recording_id"`
		Files           []struct {
			Direction, Path, SHA256 string
			Size                    int64
		} `json:"files"`
	}
	eventually(t, "the report to list the ended session", 10*time.Second, func() bool {
		r := e.techRun("", "reports", "sessions", "--since", since, "--json")
		return r.code == 0 && json.Unmarshal([]byte(r.stdout), &reports) == nil && len(reports) == 1 && reports[0].EndReason != ""
	})
	s := reports[0]
	if s.TechUser != "admin" || s.DeviceName != d.name || s.RecordingID == "" || len(s.Granted) == 0 ||
		len(s.Files) != 1 || s.Files[0].SHA256 != hash || s.Files[0].Size != 3000 {
		t.Fatalf("report: %+v, want admin, %s, a recording, the file with SHA-256 %s", s, d.name, hash)
	}
	if r := e.techRun("", "reports", "sessions"); r.code != 0 || !strings.Contains(r.stdout, hash) || !strings.Contains(r.stdout, s.ID) {
		t.Errorf("table report: code %d stdout %q", r.code, r.stdout)
	}
	r := e.techRun("", "reports", "sessions", "--since", since, "--csv")
	rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if r.code != 0 || err != nil || len(rows) != 2 {
		t.Fatalf("csv report: code %d err %v rows %d\n%s", r.code, err, len(rows), r.stdout)
	}
	row := map[string]string{}
	for i, h := range rows[0] {
		row[h] = rows[1][i]
	}
	if row["session_id"] != s.ID || row["device"] != d.name || !strings.Contains(row["files"], hash) || row["recording_id"] != s.RecordingID {
		t.Errorf("csv row: %v", row)
	}
	if r := e.techRun("", "reports", "sessions", "--since", time.Now().Add(time.Hour).UTC().Format(time.RFC3339), "--json"); r.code != 0 || strings.TrimSpace(r.stdout) != "[]" {
		t.Errorf("a report of the future: code %d stdout %q", r.code, r.stdout)
	}
	if r := e.techRun("", "reports", "sessions", "--since", "yesterday"); r.code != 1 || !strings.Contains(r.stderr, "RFC 3339") {
		t.Errorf("bad --since: code %d stderr %q", r.code, r.stderr)
	}

	// The audit search filters on the relay.
	found := e.techRun("", "audit", "search", "--action", "session.*", "--outcome", "upload", "--device", d.name, "--json")
	var entries []struct{ Action, Outcome, Target string }
	if found.code != 0 || json.Unmarshal([]byte(found.stdout), &entries) != nil || len(entries) != 1 ||
		entries[0].Action != "session.file" || entries[0].Target != s.ID {
		t.Errorf("audit search for the upload: code %d stdout %q stderr %q", found.code, found.stdout, found.stderr)
	}
	byName := e.techRun("", "audit", "search", "--actor", "admin", "--action", "login", "--outcome", "success", "--json")
	if byName.code != 0 || !strings.Contains(byName.stdout, `"action":"login"`) || strings.Contains(byName.stdout, `"outcome":"failure"`) {
		t.Errorf("audit search by username: code %d stdout %q", byName.code, byName.stdout)
	}
	verified := e.techRun("", "audit", "search", "--verify", "--outcome", "upload", "--json")
	if verified.code != 0 || strings.Contains(verified.stderr, "warning") || !strings.Contains(verified.stdout, hash) {
		t.Errorf("verified audit search: code %d stdout %q stderr %q", verified.code, verified.stdout, verified.stderr)
	}

	// A technician holds no audit.read: refused, and the refusal is audited.
	home := e.addUser("tina", "technician")
	for _, args := range [][]string{{"reports", "sessions"}, {"audit", "search"}} {
		r := run(t, e.dir, "", bin.tech, append([]string{"--config", home}, args...)...)
		if r.code != 1 || !strings.Contains(r.stderr, "permission denied: audit.read is required") || r.stdout != "" {
			t.Errorf("tech %v as a technician: code %d stdout %q stderr %q", args, r.code, r.stdout, r.stderr)
		}
	}
	denied := e.techRun("", "audit", "search", "--action", "access.denied", "--json")
	if n := strings.Count(denied.stdout, "audit.read"); n != 2 {
		t.Errorf("%d audited refusals naming audit.read, want 2: %s", n, denied.stdout)
	}
}

// TestAgentLogsStayOffTheEndUsersTerminal runs `agent run` on a PTY and
// serves a session: the terminal shows the prompt and the banner but no
// log line; agent.log in the config directory (mode 0600) has them.
// --verbose brings them back to the terminal.
func TestAgentLogsStayOffTheEndUsersTerminal(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.enroll("dev")
	agent := startPTYEnv(t, e.dir, []string{"HOME=" + d.userHome}, bin.agent, "--config", d.home, "run", "--lock-cmd", "echo locked >> "+d.lockLog)
	e.waitOnline(d.name)
	sh := start(t, e.dir, nil, bin.tech, "--config", e.tech, "connect", d.name, "--", "true")
	agent.expect("Allow?", 10*time.Second)
	agent.send("y\r")
	<-sh.done
	eventually(t, "screen lock", 10*time.Second, func() bool { return d.locks() == 1 })
	logFile := filepath.Join(d.home, "agent.log")
	eventually(t, "the session's end in agent.log", 10*time.Second, func() bool {
		b, _ := os.ReadFile(logFile)
		return bytes.Contains(b, []byte(`msg="session ended"`)) && bytes.Contains(b, []byte(`msg="connected to relay"`))
	})
	if st, err := os.Stat(logFile); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("agent.log: %v, mode %v", err, st.Mode().Perm())
	}
	screen := agent.screen()
	for _, logLine := range []string{"level=", "msg=", "connected to relay", "process started"} {
		if strings.Contains(screen, logLine) {
			t.Errorf("the end user's terminal shows a log line (%q):\n%s", logLine, screen)
		}
	}
	if !strings.Contains(screen, "Session") {
		t.Errorf("the terminal lost the session banner:\n%s", screen)
	}

	// --verbose: the log on the terminal too, here as JSON.
	d2 := e.enroll("dev2")
	verbose := startPTYEnv(t, e.dir, []string{"HOME=" + d2.userHome}, bin.agent, "--config", d2.home, "run", "--verbose",
		"--log-format", "json", "--log-file", filepath.Join(e.dir, "dev2.log"), "--lock-cmd", "true")
	e.waitOnline(d2.name)
	verbose.expect(`"msg":"connected to relay"`, 10*time.Second)
	if b, _ := os.ReadFile(filepath.Join(e.dir, "dev2.log")); !bytes.Contains(b, []byte(`"msg":"connected to relay"`)) {
		t.Errorf("--log-file has no JSON log: %q", b)
	}
}

// TestMetricsListenRefusesNonLoopback checks that relay serve refuses to
// expose the unauthenticated metrics listener beyond loopback unless told
// to, with one line, before it makes a data directory.
func TestMetricsListenRefusesNonLoopback(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	r := run(t, dir, "", bin.relay, "serve", "--data", data, "--listen", "127.0.0.1:0", "--metrics-listen", "0.0.0.0:0")
	if r.code != 1 || !strings.Contains(r.stderr, "--metrics-allow-remote") || len(lines(r.stderr)) > 2 {
		t.Errorf("non-loopback metrics address: code %d stderr %q", r.code, r.stderr)
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Errorf("a refused start made the data directory: %v", err)
	}
}
