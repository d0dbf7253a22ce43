package agent

import (
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/trust"
	"github.com/tether-support/tether/recordings"
)

func TestCheckSigned(t *testing.T) {
	t.Parallel()
	signed := func() *signedPolicy {
		return &signedPolicy{version: 7, group: "servers", body: &trust.PolicyBody{
			Recipients: []string{"tether-rec1aaa", "tether-rec1bbb"}, RecordInput: true,
			Ceilings: []trust.RoleCeiling{
				{Role: "auditor", Capabilities: []string{}},
				{Role: "technician", Capabilities: []string{protocol.CapFiles, protocol.CapShell}},
			},
			UnattendedGroups: []string{"servers"}, IdleSeconds: 600, AbsoluteSeconds: 3600}}
	}
	honest := func() protocol.SessionInfo {
		return protocol.SessionInfo{Recorded: true, Recipients: []string{"tether-rec1bbb"}, RecordInput: true,
			Caps: []string{protocol.CapShell, protocol.CapFilesTo}, Roles: []string{"technician"},
			Allowed:     []string{protocol.CapShell, protocol.CapFiles, protocol.CapClipboard},
			IdleTimeout: 5 * time.Minute, MaxDuration: time.Hour}
	}
	tests := []struct {
		name    string
		edit    func(*protocol.SessionInfo, *signedPolicy)
		wantErr string
		check   func(*testing.T, protocol.SessionInfo)
	}{
		{name: "honest session", check: func(t *testing.T, i protocol.SessionInfo) {
			if !slices.Equal(i.Allowed, []string{protocol.CapShell, protocol.CapFiles}) {
				t.Errorf("allowed = %v; clipboard is above the ceiling", i.Allowed)
			}
			if i.IdleTimeout != 5*time.Minute || i.MaxDuration != time.Hour {
				t.Errorf("limits = %v, %v; want the relay's lower ones", i.IdleTimeout, i.MaxDuration)
			}
		}},
		{name: "absent values take the signed ones", edit: func(i *protocol.SessionInfo, _ *signedPolicy) {
			i.Recipients, i.IdleTimeout, i.MaxDuration = nil, 0, 0
		}, check: func(t *testing.T, i protocol.SessionInfo) {
			if len(i.Recipients) != 2 || i.IdleTimeout != 10*time.Minute || i.MaxDuration != time.Hour {
				t.Errorf("recipients %v, limits %v, %v; want the signed ones", i.Recipients, i.IdleTimeout, i.MaxDuration)
			}
		}},
		{name: "relay adds its own recipient", edit: func(i *protocol.SessionInfo, _ *signedPolicy) {
			i.Recipients = append(i.Recipients, "tether-rec1evil")
		}, wantErr: "recording recipient tether-rec1evil, which the signed policy does not list"},
		{name: "relay says not recorded", edit: func(i *protocol.SessionInfo, _ *signedPolicy) { i.Recorded = false },
			wantErr: "not recorded, but the signed policy records every session"},
		{name: "relay turns input recording off", edit: func(i *protocol.SessionInfo, _ *signedPolicy) { i.RecordInput = false },
			wantErr: "turns input recording off"},
		{name: "input recording optional when not signed", edit: func(i *protocol.SessionInfo, sp *signedPolicy) {
			i.RecordInput, sp.body.RecordInput = false, false
		}},
		{name: "idle limit raised", edit: func(i *protocol.SessionInfo, _ *signedPolicy) { i.IdleTimeout = 11 * time.Minute },
			wantErr: "idle limit to 11m0s, above the signed 10m0s"},
		{name: "absolute limit raised", edit: func(i *protocol.SessionInfo, _ *signedPolicy) { i.MaxDuration = 2 * time.Hour },
			wantErr: "absolute limit to 2h0m0s, above the signed 1h0m0s"},
		{name: "capability above the ceiling", edit: func(i *protocol.SessionInfo, _ *signedPolicy) {
			i.Caps = append(i.Caps, protocol.CapClipboard)
		}, wantErr: "capability clipboard, above the signed ceiling of the technician's roles technician"},
		{name: "role without a ceiling", edit: func(i *protocol.SessionInfo, _ *signedPolicy) { i.Roles = []string{"auditor"} },
			wantErr: "capability shell, above the signed ceiling"},
		{name: "no roles named", edit: func(i *protocol.SessionInfo, _ *signedPolicy) { i.Roles = nil },
			wantErr: "roles (none named)"},
		{name: "no ceilings signed bounds nothing", edit: func(i *protocol.SessionInfo, sp *signedPolicy) {
			sp.body.Ceilings, i.Caps = nil, []string{protocol.CapClipboard}
		}},
		{name: "unattended in a signed group", edit: func(i *protocol.SessionInfo, _ *signedPolicy) { i.ConsentPolicy = consentUnattended }},
		{name: "unattended in an unsigned group", edit: func(i *protocol.SessionInfo, sp *signedPolicy) {
			i.ConsentPolicy, sp.group = consentUnattended, "desks"
		}, wantErr: `unattended session in device group "desks"`},
		{name: "consent group anywhere", edit: func(i *protocol.SessionInfo, sp *signedPolicy) {
			i.ConsentPolicy, sp.group = "consent", "desks"
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			info, sp := honest(), signed()
			if tc.edit != nil {
				tc.edit(&info, sp)
			}
			got, err := checkSigned(info, sp)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "signed policy version 7") {
					t.Fatalf("err = %v; want one containing %q and the version", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.check != nil {
				tc.check(t, got)
			}
		})
	}
}

func TestPolicyVersionNeverGoesBack(t *testing.T) {
	t.Parallel()
	ps := &policySource{home: t.TempDir(), mu: &sync.Mutex{}}
	steps := []struct {
		v      uint64
		wantOK bool
	}{{3, true}, {3, true}, {5, true}, {4, false}, {1, false}, {6, true}}
	for _, s := range steps {
		err := ps.acceptVersion(s.v)
		if (err == nil) != s.wantOK {
			t.Fatalf("version %d: err = %v; want ok %v", s.v, err, s.wantOK)
		}
		if err != nil && !strings.Contains(err.Error(), "rollback refused") {
			t.Errorf("version %d: err = %v; want a rollback refusal", s.v, err)
		}
	}
	p, err := readPolicyVersion(ps.home)
	if err != nil || p.Highest != 6 {
		t.Fatalf("stored %+v, %v; want 6", p, err)
	}
	fi, err := os.Stat(policyVersionPath(ps.home))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v; want 0600", fi.Mode().Perm())
	}
}

// TestDecidePolicyChecksSigned: decidePolicy refuses through checkSigned
// when a signed policy is in force, and otherwise takes the signed
// recipients and limits where the relay sent none.
func TestDecidePolicyChecksSigned(t *testing.T) {
	t.Parallel()
	id, err := recordings.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	rcpt := id.Recipient().String()
	sp := &signedPolicy{version: 2, body: &trust.PolicyBody{Recipients: []string{rcpt}, IdleSeconds: 60, AbsoluteSeconds: 600}}
	info := protocol.SessionInfo{Recorded: true, Recipients: []string{"tether-rec1evil"}, Caps: []string{protocol.CapShell}}
	if _, err := decidePolicy(info, Config{}, sp); err == nil || !strings.Contains(err.Error(), "does not list") {
		t.Fatalf("err = %v; want the unsigned recipient refused", err)
	}
	info.Recipients = nil
	p, err := decidePolicy(info, Config{}, sp)
	if err != nil || p.idle != time.Minute || p.limit != 10*time.Minute {
		t.Fatalf("policy %+v, %v; want the signed limits", p, err)
	}
	if recordingBuiltIn && len(p.recipients) != 1 {
		t.Errorf("recipients %v; want the signed one", p.recipients)
	}
}

// TestSignedPolicyNeverAllowsUnattendedControl: a signed policy cannot say
// a group may have screen-control without an end user, so under one the
// relay's unattended-control is plain unattended.
func TestSignedPolicyNeverAllowsUnattendedControl(t *testing.T) {
	t.Parallel()
	id, err := recordings.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	rcpt := id.Recipient().String()
	sp := &signedPolicy{version: 2, group: "servers", body: &trust.PolicyBody{Recipients: []string{rcpt}, IdleSeconds: 60,
		AbsoluteSeconds: 600, UnattendedGroups: []string{"servers"}}}
	info := protocol.SessionInfo{Recorded: true, Caps: []string{protocol.CapScreenControl}, ConsentPolicy: "unattended-control"}
	p, err := decidePolicy(info, Config{AllowUnattended: true}, sp)
	if err != nil || !p.unattended || p.unattendedControl {
		t.Fatalf("policy %+v, %v; want unattended without control", p, err)
	}
}
