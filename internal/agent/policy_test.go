package agent

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/recordings"
)

func TestDecidePolicy(t *testing.T) {
	id, err := recordings.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	rcpt := id.Recipient().String()
	base := func() protocol.SessionInfo {
		return protocol.SessionInfo{ID: ids.SessionID(strings.Repeat("ab", 16)), Caps: []string{protocol.CapShell},
			Allowed: []string{protocol.CapShell, protocol.CapClipboard}, Recipients: []string{rcpt}}
	}
	tests := []struct {
		name    string
		edit    func(*protocol.SessionInfo)
		allow   bool // Config.AllowUnattended
		check   func(t *testing.T, p policy)
		wantErr string // only with recording built in
	}{
		{name: "defaults for unset limits", check: func(t *testing.T, p policy) {
			if p.idle != protocol.DefaultIdleTimeout || p.limit != protocol.DefaultMaxSession {
				t.Errorf("idle, limit = %v, %v; want the defaults", p.idle, p.limit)
			}
		}},
		{name: "negative limits take the defaults", edit: func(i *protocol.SessionInfo) {
			i.IdleTimeout, i.MaxDuration = -time.Second, -time.Minute
		}, check: func(t *testing.T, p policy) {
			if p.idle != protocol.DefaultIdleTimeout || p.limit != protocol.DefaultMaxSession {
				t.Errorf("idle, limit = %v, %v; want the defaults", p.idle, p.limit)
			}
		}},
		{name: "limits the relay sets", edit: func(i *protocol.SessionInfo) {
			i.IdleTimeout, i.MaxDuration = 3*time.Minute, 2*time.Hour
		}, check: func(t *testing.T, p policy) {
			if p.idle != 3*time.Minute || p.limit != 2*time.Hour {
				t.Errorf("idle, limit = %v, %v; want 3m, 2h", p.idle, p.limit)
			}
		}},
		{name: "unattended needs the group policy and the agent", edit: func(i *protocol.SessionInfo) {
			i.ConsentPolicy = "unattended"
		}, allow: true, check: func(t *testing.T, p policy) {
			if !p.unattended {
				t.Error("not unattended")
			}
		}},
		{name: "unattended group: no screen-control without an end user", edit: func(i *protocol.SessionInfo) {
			i.ConsentPolicy, i.Caps = "unattended", []string{protocol.CapScreenControl}
		}, allow: true, check: func(t *testing.T, p policy) {
			if !p.unattended || p.unattendedControl || !slices.Equal(p.requested, []string{"screen-view", "screen-control"}) {
				t.Errorf("unattended %v, control %v, requested %v", p.unattended, p.unattendedControl, p.requested)
			}
		}},
		{name: "unattended-control group", edit: func(i *protocol.SessionInfo) {
			i.ConsentPolicy = "unattended-control"
		}, allow: true, check: func(t *testing.T, p policy) {
			if !p.unattended || !p.unattendedControl {
				t.Errorf("unattended %v, control %v", p.unattended, p.unattendedControl)
			}
		}},
		{name: "unattended-control group, agent without --allow-unattended", edit: func(i *protocol.SessionInfo) {
			i.ConsentPolicy = "unattended-control"
		}, check: func(t *testing.T, p policy) {
			if p.unattended || p.unattendedControl {
				t.Errorf("unattended %v, control %v without the agent's consent", p.unattended, p.unattendedControl)
			}
		}},
		{name: "frame-rate cap from the relay, within bounds", edit: func(i *protocol.SessionInfo) {
			i.ScreenMaxFPS = 500
		}, check: func(t *testing.T, p policy) {
			if p.screenFPS != 60 {
				t.Errorf("screenFPS %d, want 60", p.screenFPS)
			}
		}},
		{name: "unattended group, agent without --allow-unattended", edit: func(i *protocol.SessionInfo) {
			i.ConsentPolicy = "unattended"
		}, check: func(t *testing.T, p policy) {
			if p.unattended {
				t.Error("unattended without the agent's consent")
			}
		}},
		{name: "consent group, agent allowing unattended", edit: func(i *protocol.SessionInfo) {
			i.ConsentPolicy = "consent"
		}, allow: true, check: func(t *testing.T, p policy) {
			if p.unattended {
				t.Error("unattended without the group policy")
			}
		}},
		{name: "other policy words are not unattended", edit: func(i *protocol.SessionInfo) {
			i.ConsentPolicy = "Unattended"
		}, allow: true, check: func(t *testing.T, p policy) {
			if p.unattended {
				t.Error("unattended for a policy word that is not exactly \"unattended\"")
			}
		}},
		{name: "capabilities, parent and input recording", edit: func(i *protocol.SessionInfo) {
			i.Parent, i.RecordInput = ids.SessionID(strings.Repeat("cd", 16)), true
		}, check: func(t *testing.T, p policy) {
			if p.parent.String() != strings.Repeat("cd", 16) || !p.recordInput {
				t.Errorf("parent, recordInput = %q, %v", p.parent, p.recordInput)
			}
			if len(p.requested) != 1 || p.requested[0] != protocol.CapShell {
				t.Errorf("requested = %v", p.requested)
			}
			if !p.mayAsk(protocol.CapClipboard) || p.mayAsk(protocol.CapFiles) {
				t.Errorf("allowed = %v; want shell and clipboard only", p.allowed)
			}
			if recordingBuiltIn && (len(p.recipients) != 1 || p.recipients[0].String() != rcpt) {
				t.Errorf("recipients = %v", p.recipients)
			}
		}},
		{name: "no recipient refuses the session", edit: func(i *protocol.SessionInfo) {
			i.Recipients = nil
		}, wantErr: "the relay named no recording recipient; refusing an unrecorded session"},
		{name: "a bad recipient refuses the session", edit: func(i *protocol.SessionInfo) {
			i.Recipients = []string{rcpt, "tether-rec1garbage"}
		}, wantErr: "recording recipient: "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			info := base()
			if tc.edit != nil {
				tc.edit(&info)
			}
			p, err := decidePolicy(info, Config{AllowUnattended: tc.allow}, nil)
			if tc.wantErr != "" && recordingBuiltIn {
				if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v; want one starting %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.check != nil {
				tc.check(t, p)
			}
		})
	}
}

// The policy keeps its own copies: the offer's slices changing later does
// not change what was decided.
func TestDecidePolicyCopies(t *testing.T) {
	id, err := recordings.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	info := protocol.SessionInfo{Caps: []string{protocol.CapShell}, Allowed: []string{protocol.CapShell},
		Recipients: []string{id.Recipient().String()}}
	p, err := decidePolicy(info, Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	info.Caps[0], info.Allowed[0] = protocol.CapFiles, protocol.CapFiles
	if p.requested[0] != protocol.CapShell || p.allowed[0] != protocol.CapShell {
		t.Errorf("policy changed with the offer: %v, %v", p.requested, p.allowed)
	}
}
