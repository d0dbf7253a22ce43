package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/tech"
	"github.com/tether-support/tether/internal/transport"
)

// This file covers the screen capabilities' consent and authorization
// (issue 14): the prompt, grants of view without control, revocation,
// mid-session requests, roles, unattended groups, the desktop policy
// knobs, and the audit events and recording markers of each change. The
// desktop handler itself is not needed: consent is decided before it runs.

// revokedCaps waits for the next InCapRevoked and returns what stays.
func revokedCaps(t *testing.T, ch *transport.Channel) protocol.Consent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := awaitMsg(ctx, ch, protocol.InCapRevoked)
	if err != nil {
		t.Fatalf("waiting for the revocation: %v", err)
	}
	var c protocol.Consent
	if err := protocol.DecodeJSON(p, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// consents returns the session.consent audit records, oldest first.
func (e *env) consents() []auditRecord {
	e.t.Helper()
	recs, _ := e.auditLog()
	return slices.DeleteFunc(recs, func(r auditRecord) bool { return r.Action != "session.consent" })
}

// TestScreenConsentPromptAndRevoke asks for screen-control (the relay adds
// screen-view): the terminal prompt shows each on its own line in plain
// words; the end user revokes control (view stays), then view (nothing of
// the screen stays); each change reaches the technician, the audit log and
// the recording.
func TestScreenConsentPromptAndRevoke(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.enroll("dev")
	agent := e.startAgentPTY(t, d)
	m := agent.mark()
	ch, _ := e.openGranted(t, agent, d, nil, protocol.CapShell, protocol.CapScreenControl)
	prompt := agent.screen()[m:]
	for _, want := range []string{"- screen-view: see your screen", "- screen-control: control your mouse and keyboard"} {
		if strings.Count(prompt, want) != 1 {
			t.Fatalf("the prompt does not show %q once:\n%s", want, prompt)
		}
	}

	agent.send("revoke screen-control\r")
	if got := revokedCaps(t, ch); !slices.Equal(got.Caps, []string{"shell", "screen-view"}) {
		t.Fatalf("after revoking control the technician has %+v, want shell and screen-view", got)
	}
	agent.send("revoke screen-view\r")
	if got := revokedCaps(t, ch); !slices.Equal(got.Caps, []string{"shell"}) {
		t.Fatalf("after revoking view the technician has %+v, want shell", got)
	}
	m = agent.mark()
	agent.send("revoke screen-control\r")
	agent.expectSince(m, "Nothing revoked: screen-control is not granted. Granted now: shell.", 5*time.Second)
	// Revoking view while control is granted takes both.
	ch2, _ := e.openGranted(t, agent, d, nil, protocol.CapScreenControl)
	agent.send("revoke screen-view\r")
	if got := revokedCaps(t, ch2); len(got.Caps) != 0 {
		t.Fatalf("after revoking view the second session has %+v, want nothing", got)
	}
	m = agent.mark()
	agent.send("end\r")
	agent.expectSince(m, "Session ended", 15*time.Second)

	var cast string
	eventually(t, "two complete recordings", 10*time.Second, func() bool {
		rs := e.recordings()
		return len(rs) == 2 && !slices.ContainsFunc(slices.Collect(maps.Values(rs)), func(s string) bool { return s != "complete" })
	})
	for id := range e.recordings() {
		out := filepath.Join(e.dir, id+".cast")
		if r := e.techRun("", "recordings", "export", id, "--identity", e.reviewer, "-o", out); r.code != 0 {
			t.Fatalf("export: %s", r.stderr)
		}
		cast += mustRead(t, out)
	}
	for _, want := range []string{"screen-view granted", "screen-control granted",
		"screen-control revoked by the end user", "screen-view revoked by the end user"} {
		if !strings.Contains(cast, want) {
			t.Errorf("the recording lacks the marker %q", want)
		}
	}
	if n := strings.Count(cast, "screen-control revoked by the end user"); n != 2 {
		t.Errorf("screen-control revoked %d times in the recordings, want 2 (once by name, once with view)", n)
	}
	var got []string
	for _, r := range e.consents() {
		got = append(got, r.Outcome+" "+r.Details["caps"]+" ("+r.Details["why"]+")")
	}
	want := []string{"granted shell,screen-view,screen-control ()",
		"granted shell,screen-view (revoked by the end user: screen-control)",
		"granted shell (revoked by the end user: screen-view)",
		"granted screen-view,screen-control ()",
		"granted  (revoked by the end user: screen-view,screen-control)"}
	if !slices.Equal(got, want) {
		t.Errorf("audited consent changes:\n%q\nwant\n%q", got, want)
	}
}

// TestScreenCapsThroughConsentCmd runs an agent whose --consent-cmd logs
// each prompt's TETHER_CAPABILITIES and never grants screen-control.
func TestScreenCapsThroughConsentCmd(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.enroll("dev")
	asked := filepath.Join(e.dir, "asked.log")
	prompts := func() []string { return lines(mustRead(t, asked)) }
	os.WriteFile(asked, nil, 0o600)
	refuse := filepath.Join(e.dir, "refuse")
	e.runAgent(d, `echo "$TETHER_CAPABILITIES" >> `+asked+`; [ -e `+refuse+` ] && exit 1
		case "$TETHER_CAPABILITIES" in *screen-control*) echo shell,screen-view ;; esac`)

	t.Run("consent command grants view without control", func(t *testing.T) {
		r := e.techRun("", "connect", "--caps", "shell,screen-control", d.name, "--", "echo", "ok")
		if r.code != 0 || r.stdout != "ok\n" || !strings.Contains(r.stderr, "Consent granted for: shell, screen-view\n") {
			t.Fatalf("code %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
		}
		if p := prompts(); p[len(p)-1] != "shell,screen-view,screen-control" {
			t.Fatalf("the consent command was asked %q", p)
		}
	})

	t.Run("unknown capability at the start", func(t *testing.T) {
		n := len(prompts())
		r := e.techRun("", "connect", "--caps", "shell,screen", d.name, "--", "echo", "ok")
		if r.code == 0 || !strings.Contains(r.stderr, `unknown capability "screen"`) || !strings.Contains(r.stderr, "screen-view, screen-control") {
			t.Fatalf("code %d stderr %q", r.code, r.stderr)
		}
		if len(prompts()) != n {
			t.Fatal("the end user was asked about an unknown capability")
		}
	})

	t.Run("mid-session request through the tech library", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := tech.New(e.tech)
		if err != nil {
			t.Fatal(err)
		}
		var events []tech.Event
		c.Observer = tech.ObserverFunc(func(ev tech.Event) { events = append(events, ev) })
		s, err := c.Open(ctx, tech.SessionRequest{Device: d.name, Caps: []string{"shell", "clipboard"}})
		if err != nil {
			t.Fatal(err)
		}
		defer s.End("done")
		a, err := s.RequestCaps(ctx, []string{"screen-control"})
		if err != nil {
			t.Fatal(err)
		}
		// The end user (the command) grants view only.
		if !a.Granted || !slices.Equal(a.Caps, []string{"shell", "clipboard", "screen-view"}) ||
			!slices.Equal(s.Granted(), a.Caps) {
			t.Fatalf("answer %+v, Granted %v", a, s.Granted())
		}
		if p := prompts(); p[len(p)-1] != "screen-view,screen-control" {
			t.Fatalf("the mid-session prompt asked %q", p[len(p)-1])
		}
		if _, ok := events[len(events)-1].(tech.CapAnswered); !ok {
			t.Errorf("no CapAnswered event: %#v", events)
		}
		// Asking again at once, right after the answer: refused, no prompt.
		n := len(prompts())
		a, err = s.RequestCaps(ctx, []string{"screen-control"})
		if err != nil || a.Granted || !strings.Contains(a.Why, "too frequent") {
			t.Fatalf("second request at once: %+v %v", a, err)
		}
		if len(prompts()) != n {
			t.Fatal("the end user was asked again too soon")
		}
		if err := s.SendCapRequest(ctx, []string{"screen-contol"}); err == nil || !strings.Contains(err.Error(), "unknown capability") {
			t.Fatalf("a misspelt capability was sent: %v", err)
		}
	})

	t.Run("hostile requests", func(t *testing.T) {
		tests := []struct {
			name string
			caps []string
			// end: the session ends with this reason; else the answer's Why
			// holds why (empty: granted).
			end, why string
			prompt   string // the consent command's TETHER_CAPABILITIES, "" none
		}{
			{"unknown name", []string{"screen-control "}, "unknown capability", "", ""},
			{"no name", []string{}, "named no capability", "", ""},
			{"repeated names", slices.Repeat([]string{"screen-control"}, 200), "", "", "screen-view,screen-control"},
			{"control alone is asked as view and control", []string{"screen-control"}, "", "", "screen-view,screen-control"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				ch := e.rawSession(t, e.tech, d.name, "shell")
				n := len(prompts())
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				if err := ch.SendJSON(ctx, protocol.InCapRequest, protocol.CapRequest{Caps: tc.caps}); err != nil {
					t.Fatal(err)
				}
				p, err := awaitMsg(ctx, ch, protocol.InCapAnswer)
				if tc.end != "" {
					if err == nil || !strings.Contains(err.Error(), tc.end) {
						t.Fatalf("session went on (%s) or ended otherwise: %v", p, err)
					}
					if len(prompts()) != n {
						t.Fatal("the end user was asked")
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				var a protocol.Consent
				protocol.DecodeJSON(p, &a)
				if !strings.Contains(a.Why, tc.why) {
					t.Fatalf("answer %+v, want why %q", a, tc.why)
				}
				if got := prompts()[n:]; !slices.Equal(got, []string{tc.prompt}) {
					t.Fatalf("prompts %q, want one for %q", got, tc.prompt)
				}
			})
		}
	})

	t.Run("asking again right after a refusal", func(t *testing.T) {
		ch := e.rawSession(t, e.tech, d.name, "shell")
		os.WriteFile(refuse, nil, 0o600)
		first := capAnswer(t, ch, "screen-control")
		os.Remove(refuse)
		if first.Granted || !slices.Equal(first.Caps, []string{"shell"}) {
			t.Fatalf("first request: %+v", first)
		}
		n := len(prompts())
		for range 3 {
			a := capAnswer(t, ch, "screen-control")
			if a.Granted || !strings.Contains(a.Why, "too frequent") || !slices.Equal(a.Caps, []string{"shell"}) {
				t.Fatalf("request right after the refusal: %+v", a)
			}
		}
		if len(prompts()) != n {
			t.Fatal("the end user was asked again too soon")
		}
		eventually(t, "the refusal audited", 10*time.Second, func() bool {
			cs := e.consents()
			last := cs[len(cs)-1]
			return last.Outcome == "denied" && strings.HasPrefix(last.Details["why"], "screen-view,screen-control refused: ")
		})
	})

	t.Run("view-only role", func(t *testing.T) {
		if r := e.techRun("", "roles", "create", "viewer", "--allow", "session.start,session.unattended,session.screen_view"); r.code != 0 {
			t.Fatalf("roles create: %s", r.stderr)
		}
		home := e.addUser("vera", "viewer")
		n := len(prompts())
		r := run(t, e.dir, "", bin.tech, "--config", home, "connect", "--caps", "shell,screen-control", d.name, "--", "true")
		if r.code == 0 || !strings.Contains(r.stderr, "permission denied: capability screen-control needs session.screen_control") {
			t.Fatalf("control at the start: code %d stderr %q", r.code, r.stderr)
		}
		if len(prompts()) != n {
			t.Fatal("the end user was asked for what the role forbids")
		}
		ch := e.rawSession(t, home, d.name, "shell", "screen-view")
		n = len(prompts())
		a := capAnswer(t, ch, "screen-control")
		if a.Granted || !strings.Contains(a.Why, "role does not allow screen-control") {
			t.Fatalf("control mid-session: %+v", a)
		}
		if len(prompts()) != n {
			t.Fatal("the end user was asked for what the role forbids")
		}
		eventually(t, "the refusal audited", 10*time.Second, func() bool {
			cs := e.consents()
			last := cs[len(cs)-1]
			return last.Outcome == "denied" && strings.Contains(last.Details["why"], "screen-view,screen-control refused without asking") &&
				last.Details["caps"] == "shell,screen-view"
		})
	})
}

// TestUnattendedScreenControlNeedsGroupPolicy: without an end user,
// screen-control needs the group policy unattended-control; plain
// unattended leaves it out of the grant and says why.
func TestUnattendedScreenControlNeedsGroupPolicy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.enroll("dev")
	if r := e.techRun("", "devices", "group-policy", "default", "unattended"); r.code != 0 {
		t.Fatalf("group-policy: %s", r.stderr)
	}
	e.runAgent(d, "", "--allow-unattended")
	connect := func() result {
		return e.techRun("", "connect", "--reason", "ticket 12", "--caps", "shell,screen-control", d.name, "--", "echo", "ok")
	}
	r := connect()
	if r.code != 0 || !strings.Contains(r.stderr, "Consent granted for: shell, screen-view\n") {
		t.Fatalf("unattended: code %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	cs := e.consents()
	if last := cs[len(cs)-1]; last.Details["caps"] != "shell,screen-view" || !strings.Contains(last.Details["why"], "screen-control needs an end user") {
		t.Errorf("audited %+v", last)
	}
	r = e.techRun("", "devices", "group-policy", "default", "unattended-controls")
	if r.code == 0 || !strings.Contains(r.stderr, "unattended-control") {
		t.Fatalf("misspelt group policy: code %d stderr %q", r.code, r.stderr)
	}
	if r := e.techRun("", "devices", "group-policy", "default", "unattended-control"); r.code != 0 {
		t.Fatalf("group-policy: %s", r.stderr)
	}
	r = connect()
	if r.code != 0 || !strings.Contains(r.stderr, "Consent granted for: shell, screen-view, screen-control\n") {
		t.Fatalf("unattended-control: code %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
}

// TestScreenPolicyKnobs sets the desktop's organisation policy: the frame
// rate cap is checked (5..60), shown, and sent to the agent with the
// session; record-input likewise.
func TestScreenPolicyKnobs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, bad := range []string{"4", "61", "0", "-5"} {
		r := e.techRun("", "policy", "set", "--screen-max-fps", bad)
		if r.code == 0 || !strings.Contains(r.stderr, "--screen-max-fps "+bad+" is outside the allowed range 5..60") {
			t.Fatalf("--screen-max-fps %s: code %d stderr %q", bad, r.code, r.stderr)
		}
	}
	show := func() (org, eff map[string]any) {
		var v struct{ Policy, Effective map[string]any }
		r := e.techRun("", "policy", "show", "--json")
		if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
			t.Fatalf("policy show --json: %v in %q", err, r.stdout)
		}
		return v.Policy, v.Effective
	}
	if p, _ := show(); p["screen_max_fps"] != float64(30) || p["record_input"] != false {
		t.Fatalf("default policy %v", p)
	}
	if r := e.techRun("", "policy", "set", "--screen-max-fps", "12", "--record-input"); r.code != 0 {
		t.Fatalf("policy set: %s", r.stderr)
	}
	if p, eff := show(); p["screen_max_fps"] != float64(12) || eff["screen_max_fps"] != float64(12) || p["record_input"] != true {
		t.Fatalf("policy after set %v / %v", p, eff)
	}
	if r := e.techRun("", "policy", "show"); !strings.Contains(r.stdout, "screen-max-fps") || !bytes.Contains([]byte(r.stdout), []byte("12")) {
		t.Fatalf("policy show: %q", r.stdout)
	}
	// The session offer carries the cap to the agent.
	d := e.enroll("dev")
	e.runAgent(d, "exit 1")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tok := strings.TrimSpace(mustRead(t, filepath.Join(e.tech, "token")))
	c, err := transport.Dial(ctx, transport.Endpoint{URL: e.url, Pin: e.fp, Token: tok}, protocol.PathTechSession)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	c.WriteControl(ctx, &protocol.Control{Type: protocol.CtlRequest, Version: protocol.Version, Device: d.name,
		Caps: []string{"screen-control"}})
	m, err := c.ReadControl(ctx)
	if err != nil || m.Type != protocol.CtlPaired {
		t.Fatalf("pairing: %v %+v", err, m)
	}
	if m.Session.ScreenMaxFPS != 12 || !m.Session.RecordInput || !slices.Equal(m.Session.Caps, []string{"screen-view", "screen-control"}) ||
		!slices.Contains(m.Session.Allowed, "screen-control") {
		t.Fatalf("session info: fps %d record input %v caps %v allowed %v", m.Session.ScreenMaxFPS, m.Session.RecordInput,
			m.Session.Caps, m.Session.Allowed)
	}
}

// TestSignedPolicyBoundsScreenCaps: under a pinned trust root the signed
// policy's role ceilings decide the screen capabilities too. A policy
// signed from today's settings allows the superadmin control; one whose
// ceiling stops at screen-view makes the agent refuse screen-control and
// keep it out of the capabilities that may be asked for later.
func TestSignedPolicyBoundsScreenCaps(t *testing.T) {
	t.Parallel()
	e := newPolicyEnv(t)
	if r, ran := e.connect("--caps", "shell,screen-control"); r.code != 0 || !ran ||
		!strings.Contains(r.stderr, "Consent granted for: shell, screen-view, screen-control") {
		t.Fatalf("screen-control under the signed policy: code %d ran %v stderr %q", r.code, ran, r.stderr)
	}
	r := e.techRun("", "policy", "show", "--verify")
	var doc struct {
		Policy map[string]any `json:"policy"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || doc.Policy == nil {
		t.Fatalf("policy show --verify: %v %q", err, r.stdout)
	}
	ceilings := doc.Policy["ceilings"].(map[string]any)
	if !slices.Contains(ceilings["technician"].([]any), any("screen-control")) {
		t.Fatalf("the signed technician ceiling lacks screen-control: %v", ceilings["technician"])
	}
	ceilings["superadmin"] = []any{"shell", "screen-view"}
	b, _ := json.Marshal(doc.Policy)
	from := filepath.Join(e.dir, "view-only.json")
	os.WriteFile(from, b, 0o600)
	if r := e.techRun("", "policy", "sign", "--from", from, "--yes", "--passphrase-file", e.pass); r.code != 0 {
		t.Fatalf("policy sign --from: %s", r.stderr)
	}
	e.refused("screen-control above the signed ceiling", "asks for capability screen-control, above the signed ceiling", "--caps", "shell,screen-control")
	if r, ran := e.connect("--caps", "shell,screen-view"); r.code != 0 || !ran {
		t.Fatalf("screen-view within the signed ceiling: code %d ran %v stderr %q", r.code, ran, r.stderr)
	}
}
