package main

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/audit"
	"github.com/tether-support/tether/internal/tech"
	"github.com/tether-support/tether/internal/trust"
)

// hostile is what a malicious relay or device might put in any string: a
// clipboard write (OSC 52), a bell and a screen clear.
const hostile = "\x1b]52;c;aGk=\x07\x1b[2J"

// TestRenderers checks what each admin command prints for what the tech
// client returns: the text tech has always printed, with every escape
// sequence a relay or device chose removed (tables, messages) or escaped
// (JSON).
func TestRenderers(t *testing.T) {
	at := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	local := at.Local().Format(time.DateTime)
	tests := []struct {
		name           string
		render         func(stdout, stderr io.Writer) error
		stdout, stderr string
	}{
		{"users table", func(o, _ io.Writer) error {
			return printUsers(o, []api.User{{ID: "u_1", Username: "alice" + hostile, State: "active", Roles: []string{"technician"},
				Orgs: []string{"clinic" + hostile}, MFA: true, FailedLogins: 2, LastLoginAt: at}, {ID: "u_2", Username: "bob", State: "deleted",
				Roles: []string{"technician"}, Orgs: []string{"clinic"}}}, false)
		}, "USERNAME  STATE    ROLES       ORGS    MFA  FAILED  LAST SIGN-IN         ID\n" +
			"alice     active   technician  clinic  yes  2       " + local + "  u_1\n" +
			"bob       deleted  technician  clinic  no   0       -                    u_2\n", ""},
		{"users json with last sign-in", func(o, _ io.Writer) error {
			return printUsers(o, []api.User{{ID: "u_2", Username: "bob", Roles: []string{}, Orgs: []string{}, State: "deleted",
				LastLoginAt: at, DeletedAt: at}}, true)
		}, `[{"id":"u_2","username":"bob","roles":[],"orgs":[],"state":"deleted","mfa":false,"failed_logins":0,"last_login_at":"2026-03-01T09:30:00Z","deleted_at":"2026-03-01T09:30:00Z"}]` + "\n", ""},
		{"users json", func(o, _ io.Writer) error {
			return printUsers(o, []api.User{{ID: "u_1", Username: "a" + hostile, Roles: []string{"admin"}, Orgs: []string{}, State: "locked",
				PasswordChangedAt: "2026-01-01T00:00:00Z"}}, true)
		}, `[{"id":"u_1","username":"a\u001b]52;c;aGk=\u0007\u001b[2J","roles":["admin"],"orgs":[],"state":"locked","mfa":false,"failed_logins":0}]` + "\n", ""},
		{"users json, none", func(o, _ io.Writer) error { return printUsers(o, nil, true) }, "[]\n", ""},
		{"user added", func(o, e io.Writer) error {
			printUserAdded(o, e, api.UserAdded{Username: "bob" + hostile, TemporaryPassword: "Tmp-pw" + hostile + "-1"}, "technician")
			return nil
		}, "Tmp-pw-1\n", "Created bob (role technician). The temporary password above works once: it must be changed at the first sign-in.\n"},
		{"user added pending", func(o, e io.Writer) error {
			printUserAdded(o, e, api.UserAdded{Username: "carol" + hostile, State: "pending"}, "auditor")
			return nil
		}, "", "Created carol (role auditor), pending: you cannot grant auditor, so an administrator who can\n" +
			"(for a role beyond admin, such as auditor: the service superadmin) must run `tech users approve carol`;\n" +
			"the temporary password is given to them, not to you.\n"},
		{"user done", func(_, e io.Writer) error { userDone(e, "dave"+hostile, "unlocked"); return nil }, "", "dave unlocked.\n"},
		{"devices", func(o, _ io.Writer) error {
			return printDevices(o, []api.Device{{Name: "pc" + hostile, Group: "front" + hostile, Online: true, LastSeen: at},
				{Name: "kiosk", Group: "default"}, {Name: "old", Group: "default", Online: true, RevokedAt: at}}, false)
		}, "NAME   GROUP    STATE    LAST SEEN\npc     front    online   " + local + "\nkiosk  default  offline  -\nold    default  revoked  -\n", ""},
		{"device action", func(_, e io.Writer) error {
			io.WriteString(e, "x"+endedText(2)+"\n")
			return nil
		}, "", "x 2 live sessions were ended (the device locks its screen).\n"},
		{"enroll token", func(o, e io.Writer) error {
			printEnrollToken(o, e, api.EnrollTokenResponse{Token: "et_1" + hostile, Group: "front", ExpiresAt: at}, "https://relay:8443")
			return nil
		}, "et_1\n", "One-time token for group \"front\", valid until " + at.Local().Format(time.RFC1123) +
			".\nOn the device run: agent enroll --relay https://relay:8443 --token <token>\n"},
		{"sessions table", func(o, _ io.Writer) error {
			return printSessions(o, []api.Session{{ID: "s_1", TechUser: "alice" + hostile, DeviceName: "pc" + hostile, State: "active",
				CreatedAt: at, Capabilities: []string{"shell", "files" + hostile}}}, false)
		}, "ID   TECHNICIAN  DEVICE  STATE   SINCE                CAPABILITIES\ns_1  alice       pc      active  " + local + "  shell,files\n", ""},
		{"sessions json", func(o, _ io.Writer) error {
			return printSessions(o, []api.Session{{ID: "s_1", TechID: "u_1", TechUser: "alice", DeviceName: "pc" + hostile, Mode: "unattended",
				State: "ended", CreatedAt: at, Duration: "1m"}}, true)
		}, `[{"id":"s_1","tech_user":"alice","device_name":"pc\u001b]52;c;aGk=\u0007\u001b[2J","mode":"unattended","capabilities":null,` +
			`"granted":null,"state":"ended","end_reason":"","created_at":"2026-03-01T09:30:00Z","live":false,"duration":"1m"}]` + "\n", ""},
		{"session report", func(o, _ io.Writer) error {
			return printSession(o, api.Session{ID: "s_1", TechUser: "alice" + hostile, DeviceName: "pc", Mode: "attended", State: "ended",
				CreatedAt: at, Duration: "2m", EndReason: "done" + hostile, Capabilities: []string{"shell"}, Granted: []string{"shell"},
				Reason: "ticket" + hostile, RecordingID: "s_1", RecordingState: "complete" + hostile})
		}, "Session:     s_1\nTechnician:  alice\nDevice:      pc\nMode:        attended\nState:       ended\nRequested:   " +
			at.Local().Format(time.RFC3339) + "\nDuration:    2m\nEnd reason:  done\nAsked:       shell\nGranted:     shell\n" +
			"Reason:      ticket\nRecording:   s_1 (complete)\n", ""},
		{"policy table", func(o, _ io.Writer) error {
			p := api.PolicyView{MinLength: 12, MaxLength: 128, PasswordMaxAge: "0", PasswordHistory: "0", IdleTimeout: "15m", TokenLifetime: "12h", RequireMFA: true, ScreenMaxFPS: 30, DirectPath: "deny" + hostile}
			return printPolicy(o, api.PolicyShow{Org: "icu" + hostile, Policy: p, YourOrgs: []string{"icu", "er" + hostile}, Effective: p}, false)
		}, "SETTING                 icu    EFFECTIVE FOR YOU (icu, er)\nmin-length              12     12\nmax-length              128    128\n" +
			"require-classes         0      0\npassword-max-age        0      0\npassword-history-count  0      0\npassword-history        0      0\n" +
			"lockout-threshold       0      0\nidle-timeout            15m    15m\ntoken-lifetime          12h    12h\nrequire-mfa             true   true\n" +
			"record-input            false  false\nscreen-max-fps          30     30\nretention-days          0      0\ndirect-path             deny   deny\n", ""},
		{"policy set", func(_, e io.Writer) error { printPolicySet(e, api.PolicySetResponse{Org: "icu" + hostile}); return nil },
			"", "Policy of icu updated; see `tech policy show --org icu`.\n"},
		{"roles", func(o, _ io.Writer) error {
			return printRoles(o, []api.Role{{Name: "admin", Builtin: true, Allow: []string{"user.manage"}},
				{Name: "x" + hostile, Allow: []string{"session.*"}, Deny: []string{"files" + hostile}}}, false)
		}, "ROLE   KIND      ALLOW        DENY\nadmin  built-in  user.manage  \nx      custom    session.*    files\n", ""},
		{"role saved", func(_, e io.Writer) error {
			printRoleSaved(e, api.Role{Name: "help" + hostile, Effective: []string{"session.start", "x" + hostile}})
			return nil
		}, "", "Role help saved; it grants: session.start, x\n"},
		{"orgs", func(o, _ io.Writer) error {
			return printOrgs(o, []api.Org{{Name: "icu" + hostile, Members: 3, Policy: api.PolicyView{MinLength: 14, LockoutThreshold: 5, IdleTimeout: "5m"}}}, false)
		}, "ORG  MEMBERS  MIN LENGTH  LOCKOUT  IDLE  MFA\nicu  3        14          5        5m    false\n", ""},
		{"recipients", func(o, _ io.Writer) error {
			return printRecipients(o, []api.Recipient{{KeyID: "k1" + hostile, AddedAt: at, Key: "tether-rec1" + hostile}}, false)
		}, "KEY ID  ADDED                PUBLIC KEY\nk1      " + local + "  tether-rec1\n", ""},
		{"recordings", func(o, _ io.Writer) error {
			return printRecordings(o, []api.Recording{{ID: "s_1", TechUser: "al" + hostile, DeviceName: "pc", State: "complete" + hostile, Size: 42, CreatedAt: at}}, false)
		}, "ID   TECHNICIAN  DEVICE  STATE     SIZE  STARTED              HOLD\ns_1  al          pc      complete  42    " + local + "  -\n", ""},
		{"recordings on hold", func(o, _ io.Writer) error {
			return printRecordings(o, []api.Recording{{ID: "s_2", TechUser: "al", DeviceName: "pc", State: "complete", Size: 1, CreatedAt: at,
				Hold: &api.Hold{By: "u_1", ByName: "lee" + hostile, Reason: "case 7" + hostile}}}, false)
		}, "ID   TECHNICIAN  DEVICE  STATE     SIZE  STARTED              HOLD\ns_2  al          pc      complete  1     " + local + "  held by lee: case 7\n", ""},
		{"recording verified", func(o, _ io.Writer) error {
			printVerified(o, "s_1", tech.RecordingCheck{Bytes: 10, Events: 2, State: "complete" + hostile})
			return nil
		}, "recording s_1 verified: 10 bytes, 2 events, complete\n", ""},
		{"recording exported", func(_, e io.Writer) error { printExported(e, "s_1", "out.cast", tech.Exported{Bytes: 9}); return nil },
			"", "Exported 9 bytes of asciicast v2 to out.cast.\n"},
		{"recording exported, incomplete", func(_, e io.Writer) error {
			printExported(e, "s_1", "out.cast", tech.Exported{Bytes: 9, Incomplete: true})
			return nil
		}, "", "tech: warning: recording s_1 is incomplete; exported the 9 bytes before the cut\n"},
		{"login", func(_, e io.Writer) error {
			printLogin(e, tech.LoginResult{Relay: "https://relay:8443", Username: "alice" + hostile, MustChangePassword: true}, nil, "/home/a")
			return nil
		}, "", "Signed in to https://relay:8443 as alice.\nYour password must be changed now: run `tech passwd`.\n"},
		{"login, first use, then an error", func(_, e io.Writer) error {
			printLogin(e, tech.LoginResult{Relay: "https://relay:8443", FirstUsePin: "SHA256:ab"}, errors.New("disk full"), "/home/a")
			return nil
		}, "", "tech: warning: trusting the relay's key on first use: SHA256:ab\ntech: hint: compare it with the fingerprint `relay init` printed; it is now pinned in /home/a\n"},
		{"recovery codes", func(o, e io.Writer) error {
			printRecoveryCodes(o, e, api.MFAConfirmResponse{RecoveryCodes: []string{"aaaa-bbbb" + hostile, "cccc"}})
			return nil
		}, "aaaa-bbbb\ncccc\n", "Two-factor sign-in is on: pass --totp CODE to `tech login`.\n" +
			"The recovery codes above are shown only now; each works once in place of a code. Keep them offline.\n"},
		{"audit report", func(_, e io.Writer) error {
			printAuditReport(e, &tech.AuditReport{Entries: 7, Remembered: &audit.SignedHead{Seq: 5, Time: at}, Checkpoints: 1, Uncovered: []string{"old"}})
			return nil
		}, "", "audit log intact: 7 entries verified; it extends the head this client saw at entry 5 (signed 2026-03-01T09:30:00Z); " +
			"1 administrator checkpoint(s) verified\ntech: warning: old\n"},
		{"audit entries", func(o, _ io.Writer) error {
			return printAuditEntries(o, []*tech.AuditEntry{{Seq: 3, Time: at, ActorID: "u_1" + hostile, Action: "session.request", Target: "pc" + hostile, Outcome: "ok"}}, false)
		}, "SEQ  TIME                  ACTOR  ACTION           TARGET  OUTCOME\n3    2026-03-01T09:30:00Z  u_1    session.request  pc      ok\n", ""},
		{"audit entries json, none", func(o, _ io.Writer) error { return printAuditEntries(o, nil, true) }, "[]\n", ""},
		{"audit unverified", func(_, e io.Writer) error { warnUnverified(e, "export", errors.New("bad chain")); return nil },
			"", "tech: warning: the export does not verify: bad chain (see `tech audit verify`)\n"},
		{"audit verified", func(_, e io.Writer) error { warnUnverified(e, "export", nil); return nil }, "", ""},
		{"trust root shown, followed, unpinned", func(o, e io.Writer) error {
			printTrustShown(o, e, tech.TrustShown{Root: &trust.Root{Body: &trust.RootBody{Org: "clinic" + hostile, Threshold: 1}, Version: 2, Fingerprint: trust.Fingerprint{0xab}},
				FollowedFrom: "SHA256:01"})
			return nil
		}, "SHA256:ab" + strings.Repeat("0", 62) + "\n", "Followed verified root changes from SHA256:01.\nOrganisation clinic: version 2, 1 of 0 administrator keys must sign\n" + tech.NoRootWarning + "\n"},
		{"trust root published after making a key", func(o, e io.Writer) error {
			printTrustOutcome(o, e, tech.TrustOutcome{MadeKey: &tech.MadeKey{ID: trust.KeyID{1}, File: "/h/admin.key"},
				Published: &tech.PublishedRoot{Fingerprint: trust.Fingerprint{0xcd}, Version: 1, Threshold: 1, Admins: 1}})
			return nil
		}, "SHA256:cd" + strings.Repeat("0", 62) + "\n", "Made your trust administrator key 01" + strings.Repeat("0", 62) + " (kept in /h/admin.key, encrypted; it never leaves this machine).\n" +
			"Published trust root version 1: 1 of 1 administrator keys must sign.\n"},
		{"trust root written for signatures", func(o, e io.Writer) error {
			printTrustOutcome(o, e, tech.TrustOutcome{Wrote: &tech.WrittenDocument{File: "root.doc", Need: 2}})
			return nil
		}, "", "Wrote root.doc with 1 of 2 signatures. Next: the other administrators run `tech trust sign root.doc`, then `tech trust publish root.doc`.\n"},
		{"revocation plan", func(_, e io.Writer) error {
			printRevokePlan(e, &tech.RevokePlan{Current: &trust.RevocationBody{TechCerts: []trust.KeyID{{1}}}, Version: 3, Need: 1,
				Added: []string{"technician certificate 02 (of alice)"}})
			return nil
		}, "", "Revocation list version 2 revokes 1 certificates, 0 reviewer keys, 0 administrator keys.\nVersion 3 (1 signatures needed) adds:\n+ technician certificate 02 (of alice)\n"},
		{"revocation list published", func(_, e io.Writer) error {
			printRevokeOutcome(e, tech.RevokeOutcome{Published: &tech.PublishedPolicy{Version: 3, Expiry: at, Signers: []string{"ab" + hostile}}})
			return nil
		}, "", "Published revocation list version 3, valid until 2026-03-01T09:30:00Z (signed by ab).\n"},
		{"trust signed", func(_, e io.Writer) error {
			printTrustSigned(e, tech.TrustSigned{Kind: trust.KindRoot, Version: 1, Signer: trust.KeyID{2}, Signatures: 2})
			return nil
		}, "", "Signed root version 1 as 02" + strings.Repeat("0", 62) + " (2 signatures).\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if err := tt.render(&stdout, &stderr); err != nil {
				t.Fatal(err)
			}
			if strings.ContainsAny(stdout.String()+stderr.String(), "\x1b\x07\u009b") {
				t.Errorf("an escape sequence reached the terminal: %q %q", stdout.String(), stderr.String())
			}
			if stdout.String() != tt.stdout || stderr.String() != tt.stderr {
				t.Errorf("stdout %q, stderr %q\nwant   %q, stderr %q", stdout.String(), stderr.String(), tt.stdout, tt.stderr)
			}
		})
	}
}
