package integration

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// auditRecord is one exported audit event.
type auditRecord struct {
	ActorID string            `json:"actor_id"`
	Action  string            `json:"action"`
	Target  string            `json:"target"`
	Outcome string            `json:"outcome"`
	Details map[string]string `json:"details"`
}

// auditLog exports the audit log as the env's superadmin.
func (e *env) auditLog() ([]auditRecord, string) {
	e.t.Helper()
	r := e.admin().must("", "audit", "export")
	var out []auditRecord
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var rec auditRecord
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			e.t.Fatalf("audit line %q: %v", sc.Text(), err)
		}
		out = append(out, rec)
	}
	return out, r.stdout
}

// userID returns the ID of the user called name, as the superadmin sees it.
func (e *env) userID(name string) string {
	e.t.Helper()
	var users []struct{ ID, Username string }
	r := e.admin().must("", "users", "list", "--json")
	if err := json.Unmarshal([]byte(r.stdout), &users); err != nil {
		e.t.Fatalf("users list --json: %v", err)
	}
	for _, u := range users {
		if u.Username == name {
			return u.ID
		}
	}
	e.t.Fatalf("no user %q in %s", name, r.stdout)
	return ""
}

// signIn signs a in again with its current password.
func (a *acct) signIn() {
	a.e.t.Helper()
	if r := a.login(a.pw); r.code != 0 {
		a.e.t.Fatalf("%s sign-in: %s", a.name, r.stderr)
	}
}

// TestOrgAdminCannotActBeyondTheirRole: an organisation administrator whose
// role denies recording.review (the built-in admin) tries every way of
// reaching an auditor's rights; all are refused by name and audited.
func TestOrgAdminCannotActBeyondTheirRole(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	super := e.admin()
	boss := super.add("boss", "admin")
	boss.activate("Kestrel-Harbor-41!")
	audrey := super.add("audrey", "auditor")
	audrey.activate("Quiet-Ledger-2024!")
	dave := boss.add("dave", "technician")
	dave.activate("Maple-Ridge-2024!!")
	// A second organisation administered by boss only, and a user in both.
	boss.must("", "orgs", "create", "north")
	boss.add("nina", "technician", "--org", "north")
	boss.must("", "orgs", "add-member", "default", "nina")
	bert := super.add("bert", "admin")
	bert.activate("Granite-Pier-2024!")
	// An administrator limited to one device group.
	gina := super.add("gina", "admin", "--group", "ward-a")
	gina.activate("Willow-Creek-2024!")
	gina.add("walt", "technician", "--group", "ward-a")

	key := strings.TrimSpace(super.must("", "keys", "generate", "-o", filepath.Join(e.dir, "boss.key")).stdout)
	keyID := ""
	if r := super.must("", "recordings", "recipients", "list", "--json"); true {
		var rs []struct {
			KeyID string `json:"key_id"`
		}
		json.Unmarshal([]byte(r.stdout), &rs)
		if len(rs) == 0 {
			t.Fatalf("no recipient configured: %s", r.stdout)
		}
		keyID = rs[0].KeyID
	}

	tests := []struct {
		name   string
		as     *acct
		args   []string
		want   string
		action string // audit action that must record the refusal
	}{
		{"add own recording key", boss, []string{"recordings", "recipients", "add", key}, "recording.recipients is required", "access.denied"},
		{"remove the reviewer's key", boss, []string{"recordings", "recipients", "remove", keyID}, "recording.recipients is required", "access.denied"},
		{"reset auditor password", boss, []string{"users", "reset-password", "audrey"}, "who holds recording.review, which you do not hold", "user.reset_password"},
		{"disable auditor", boss, []string{"users", "disable", "audrey"}, "which you do not hold", "user.disable"},
		{"enable auditor", boss, []string{"users", "enable", "audrey"}, "which you do not hold", "user.enable"},
		{"unlock auditor", boss, []string{"users", "unlock", "audrey"}, "which you do not hold", "user.unlock"},
		{"reset auditor MFA", boss, []string{"users", "reset-mfa", "audrey"}, "which you do not hold", "user.reset_mfa"},
		{"change auditor email", boss, []string{"users", "email", "audrey", "boss@clinic.example"}, "which you do not hold", "user.email"},
		{"grant auditor a role", boss, []string{"users", "grant", "audrey", "technician"}, "which you do not hold", "user.grant"},
		{"revoke auditor role", boss, []string{"users", "revoke", "audrey", "auditor"}, "which you do not hold", "user.revoke"},
		{"limit auditor to a group", boss, []string{"users", "groups", "audrey", "ward-a"}, "which you do not hold", "user.groups"},
		{"grant self auditor", boss, []string{"users", "grant", "boss", "auditor"}, "you cannot grant your own account", "user.grant"},
		{"grant other admin auditor", bert, []string{"users", "grant", "dave", "auditor"}, "role \"auditor\" grants more than you hold", "user.grant"},
		{"role above own", boss, []string{"roles", "create", "peek", "--allow", "recording.review"}, "allows more than you hold", "role.put"},
		{"reset user of an org not administered", bert, []string{"users", "reset-password", "nina"}, "also belongs to organisation \"north\", which you do not administer", "user.reset_password"},
		{"group-limited admin resets unlimited user", gina, []string{"users", "reset-password", "dave"}, "may reach every device group while you are limited to ward-a", "user.reset_password"},
		{"group-limited admin creates unlimited user", gina, []string{"users", "add", "ursula", "--role", "technician"}, "cannot give an account every group", "user.add"},
		{"group-limited admin creates user of another group", gina, []string{"users", "add", "ursula", "--role", "technician", "--group", "ward-b"}, "device group \"ward-b\" is outside your device groups", "user.add"},
		{"group-limited admin lifts a user's limit", gina, []string{"users", "groups", "walt"}, "cannot give an account every group", "user.groups"},
		{"group-limited admin widens a user's limit", gina, []string{"users", "groups", "walt", "ward-a", "ward-b"}, "outside your device groups", "user.groups"},
		{"admin resets an admin of more organisations", bert, []string{"users", "reset-password", "boss"}, "also belongs to organisation \"north\"", "user.reset_password"},
	}
	for _, tc := range tests {
		if r := tc.as.run("", tc.args...); r.code == 0 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%s: tech %s as %s: code %d stderr %q, want a refusal saying %q", tc.name, strings.Join(tc.args, " "), tc.as.name, r.code, r.stderr, tc.want)
		}
	}
	// The auditor still signs in with their own password: nothing changed.
	audrey.signIn()
	audrey.must("", "recordings", "list")

	log, _ := e.auditLog()
	bossID, bertID, ginaID := e.userID("boss"), e.userID("bert"), e.userID("gina")
	actor := map[*acct]string{boss: bossID, bert: bertID, gina: ginaID}
	for _, tc := range tests {
		found := false
		for _, rec := range log {
			if rec.ActorID == actor[tc.as] && rec.Action == tc.action && rec.Outcome == "denied" {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no denied %s audit record by %s", tc.name, tc.action, tc.as.name)
		}
	}

	// The check is a superset check, not a ban: boss manages a technician.
	boss.must("", "users", "email", "dave", "dave@clinic.example")
	boss.must("", "users", "reset-mfa", "dave")
	boss.must("", "users", "disable", "dave")
	boss.refused("enable it first", "", "users", "reset-password", "dave")
	boss.must("", "users", "enable", "dave")
	gina.must("", "users", "reset-password", "walt")
}

// TestPendingAuditorIsApprovedBySuperadmin: an auditor created by an
// organisation administrator is pending, without a password its creator
// knows; only someone holding every auditor permission (the superadmin)
// approves it, and the approver alone receives the temporary password.
func TestPendingAuditorIsApprovedBySuperadmin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	super := e.admin()
	boss := super.add("boss", "admin")
	boss.activate("Kestrel-Harbor-41!")
	for role, refusal := range map[string]string{"auditor": "which you do not hold", "superadmin": "not in an organisation you administer"} {
		name := "new-" + role
		r := boss.must("", "users", "add", name, "--role", role)
		if strings.TrimSpace(r.stdout) != "" {
			t.Fatalf("%s: pending account creation printed a password: %q", role, r.stdout)
		}
		if !strings.Contains(r.stderr, "pending") || !strings.Contains(r.stderr, "tech users approve "+name) {
			t.Fatalf("%s: creation message: %q", role, r.stderr)
		}
		for _, action := range []string{"approve", "reset-password", "reset-mfa", "disable"} {
			boss.refused(refusal, "", "users", action, name)
		}
		// Nobody can sign in to it yet, whatever they guess.
		pending := &acct{e: e, name: name, home: filepath.Join(e.dir, "tech-"+name)}
		pending.refused("invalid username or password", "guess-Password-12\n", "login", "--relay", e.url, "--user", name, "--ca-fingerprint", e.fp, "--password-stdin")
	}
	r := super.must("", "users", "approve", "new-auditor")
	audrey := &acct{e: e, name: "new-auditor", home: filepath.Join(e.dir, "tech-new-auditor"), pw: strings.TrimSpace(r.stdout)}
	if len(audrey.pw) < 16 {
		t.Fatalf("approve printed %q, want the temporary password", r.stdout)
	}
	super.refused("not pending approval", "", "users", "approve", "new-auditor")
	audrey.activate("Quiet-Ledger-2024!")
	audrey.must("", "recordings", "list")
	if r := super.must("", "users", "list", "--json"); !strings.Contains(r.stdout, `"username":"new-superadmin"`) ||
		!strings.Contains(r.stdout, `"state":"pending"`) {
		t.Errorf("new-superadmin is not listed pending: %s", r.stdout)
	}
	log, _ := e.auditLog()
	approved := false
	for _, rec := range log {
		if rec.Action == "user.approve" && rec.Outcome == "success" && rec.ActorID == e.userID("admin") {
			approved = true
		}
	}
	if !approved {
		t.Error("the approval is not audited")
	}
}

// TestAdminResetKeepsPasswordHistory: after an administrator resets a
// password, the user cannot set the previous one back.
func TestAdminResetKeepsPasswordHistory(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	super := e.admin()
	super.must("", "policy", "set", "--password-history-count", "3")
	boss := super.add("boss", "admin")
	boss.activate("Kestrel-Harbor-41!")
	dave := boss.add("dave", "technician")
	dave.activate("Maple-Ridge-2024!!")
	for i, prev := range []string{"Maple-Ridge-2024!!", "Cedar-Lake-2025!!"} {
		r := boss.must("", "users", "reset-password", "dave")
		dave.pw = strings.TrimSpace(r.stdout)
		dave.signIn()
		dave.refused("reused", dave.pw+"\n"+prev+"\n", "passwd", "--password-stdin")
		next := []string{"Cedar-Lake-2025!!", "Birch-Field-2026!!"}[i]
		dave.must(dave.pw+"\n"+next+"\n", "passwd", "--password-stdin")
		dave.pw = next
	}
	// Both earlier passwords are still refused.
	for _, old := range []string{"Maple-Ridge-2024!!", "Cedar-Lake-2025!!"} {
		dave.refused("reused", dave.pw+"\n"+old+"\n", "passwd", "--password-stdin")
	}
}

// enrollIn enrolls a device called name into group and runs its agent.
func (e *env) enrollIn(name, group string) *device {
	e.t.Helper()
	r := e.techRun("", "devices", "enroll-token", "--group", group)
	if r.code != 0 {
		e.t.Fatalf("enroll-token: %s", r.stderr)
	}
	d := &device{name: name, home: filepath.Join(e.dir, "agent-"+name), lockLog: filepath.Join(e.dir, "lock-"+name+".log"),
		userHome: filepath.Join(e.dir, "home-"+name)}
	if err := os.MkdirAll(d.userHome, 0o700); err != nil {
		e.t.Fatal(err)
	}
	if r := run(e.t, e.dir, "", bin.agent, "--config", d.home, "enroll", "--relay", e.url, "--token", strings.TrimSpace(r.stdout), "--name", name); r.code != 0 {
		e.t.Fatalf("agent enroll: %s", r.stderr)
	}
	d.proc = start(e.t, e.dir, []string{"HOME=" + d.userHome}, bin.agent, "--config", d.home, "run", "--lock-cmd", "echo locked >> "+d.lockLog, "--consent-cmd", "exit 0")
	eventually(e.t, name+" online", 15*time.Second, func() bool {
		return strings.Contains(e.techRun("", "devices", "list", "--json").stdout, `"name":"`+name+`","group":"`+group+`","online":true`)
	})
	return d
}

// sessionIDs returns the IDs and device names of the sessions a sees.
func sessionIDs(t *testing.T, a *acct) map[string]string {
	t.Helper()
	var ss []struct {
		ID         string `json:"id"`
		DeviceName string `json:"device_name"`
	}
	r := a.must("", "sessions", "list", "--json")
	if err := json.Unmarshal([]byte(r.stdout), &ss); err != nil {
		t.Fatalf("sessions list --json: %v: %s", err, r.stdout)
	}
	out := map[string]string{}
	for _, s := range ss {
		out[s.ID] = s.DeviceName
	}
	return out
}

// TestScopedTechnicianSeesOnlyTheirDevices: a user limited to device group
// ward-a, even with session.view_all and recording.list, sees nothing of
// ward-b's device, and naming it gets the answer an unknown name gets.
func TestScopedTechnicianSeesOnlyTheirDevices(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	super := e.admin()
	e.enrollIn("pc-a", "ward-a")
	e.enrollIn("pc-b", "ward-b")
	for _, d := range []string{"pc-a", "pc-b"} {
		if r := super.run("", "connect", d, "--", "true"); r.code != 0 {
			t.Fatalf("session on %s: %s", d, r.stderr)
		}
	}
	all := sessionIDs(t, super)
	var inB string
	for id, dev := range all {
		if dev == "pc-b" {
			inB = id
		}
	}
	if len(all) != 2 || inB == "" {
		t.Fatalf("superadmin sees sessions %v, want one on each device", all)
	}
	super.must("", "roles", "create", "ward-lead", "--allow", "session.*,recording.list,device.enroll,device.manage")
	sam := super.add("sam", "ward-lead", "--group", "ward-a")
	sam.activate("Harbor-Light-2024!")

	if r := sam.must("", "devices", "list", "--json"); !strings.Contains(r.stdout, `"pc-a"`) || strings.Contains(r.stdout, "pc-b") {
		t.Errorf("devices list: %s", r.stdout)
	}
	if r := sam.must("", "devices", "list"); strings.Contains(r.stdout, "pc-b") {
		t.Errorf("devices list (table): %s", r.stdout)
	}
	seen := sessionIDs(t, sam)
	if _, ok := seen[inB]; ok || len(seen) != 1 {
		t.Errorf("sessions list: %v, want only pc-a's", seen)
	}
	if r := sam.must("", "sessions", "list"); strings.Contains(r.stdout, "pc-b") {
		t.Errorf("sessions list (table): %s", r.stdout)
	}
	if r := sam.must("", "recordings", "list", "--json"); strings.Contains(r.stdout, "pc-b") || !strings.Contains(r.stdout, "pc-a") {
		t.Errorf("recordings list: %s", r.stdout)
	}
	// Naming the out-of-scope device or session: the unknown answer.
	unknown := func(args ...string) string {
		r := sam.run("", args...)
		if r.code == 0 {
			t.Errorf("tech %v succeeded", args)
		}
		return r.stderr
	}
	src := filepath.Join(e.dir, "note.txt")
	if err := os.WriteFile(src, []byte("hello\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name              string
		outOfScope, fresh []string
		want              string
	}{
		{"connect", []string{"connect", "pc-b", "--", "true"}, []string{"connect", "pc-z", "--", "true"}, `no device named`},
		{"cp to", []string{"cp", src, "pc-b:x"}, []string{"cp", src, "pc-z:x"}, `no device named`},
		{"cp from", []string{"cp", "pc-b:x", filepath.Join(e.dir, "got")}, []string{"cp", "pc-z:x", filepath.Join(e.dir, "got")}, `no device named`},
		{"clipboard", []string{"clipboard", "get", "pc-b"}, []string{"clipboard", "get", "pc-z"}, `no device named`},
		{"sessions show", []string{"sessions", "show", inB}, []string{"sessions", "show", strings.Repeat("0", len(inB))}, `no session`},
		{"sessions kill", []string{"sessions", "kill", inB}, []string{"sessions", "kill", strings.Repeat("0", len(inB))}, `no live session`},
	}
	for _, tc := range tests {
		func() {
			got, want := unknown(tc.outOfScope...), unknown(tc.fresh...)
			if !strings.Contains(got, tc.want) {
				t.Errorf("%s: out of scope: %q, want %q", tc.name, got, tc.want)
			}
			norm := strings.NewReplacer("pc-b", "X", "pc-z", "X", inB, "X", strings.Repeat("0", len(inB)), "X").Replace
			if norm(got) != norm(want) {
				t.Errorf("%s: out-of-scope answer %q differs from the unknown one %q", tc.name, got, want)
			}
			if strings.Contains(got, "ward-b") {
				t.Errorf("%s: the answer names the other group: %q", tc.name, got)
			}
		}()
	}
	// A scoped enrolment token lands in the user's group, not elsewhere.
	sam.refused("outside your device groups", "", "devices", "enroll-token", "--group", "ward-b")
	if r := sam.must("", "devices", "enroll-token"); r.code != 0 {
		t.Fatalf("enroll-token in own group: %s", r.stderr)
	}
	// A scoped device manager sets the consent policy of their groups only.
	sam.refused("outside your device groups", "", "devices", "group-policy", "ward-b", "unattended")
	sam.must("", "devices", "group-policy", "ward-a", "consent")
	// In scope still works.
	if r := sam.run("", "connect", "pc-a", "--", "true"); r.code != 0 {
		t.Fatalf("connect pc-a: %s", r.stderr)
	}
	// The audit log keeps the real reason the user was not told.
	log, _ := e.auditLog()
	samID, denied := e.userID("sam"), 0
	for _, rec := range log {
		if rec.ActorID == samID && rec.Action == "device.scope" && rec.Outcome == "denied" && strings.Contains(rec.Details["reason"], "ward-b") {
			denied++
		}
	}
	if denied < 4 { // connect, cp to, cp from, clipboard
		t.Errorf("%d device.scope denials audited, want at least 4", denied)
	}
}

// TestConfusableUsernamesRefused: a new name whose UTS #39 skeleton matches
// an existing user's is refused; other names, look-alike-free, are not.
func TestConfusableUsernamesRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	super := e.admin()
	for _, n := range []string{"alice", "root", "topo", "copper", "lvan"} {
		super.add(n, "admin")
	}
	tests := []struct {
		name, username, want string // want "" means accepted
	}{
		{"Cyrillic а in admin (mixed)", "\u0430dmin", "mixes scripts"},
		{"all-Cyrillic admin", "аԁміп", "confusable"},
		{"all-Cyrillic copper", "сорргг", ""}, // copprr: no such user
		{"all-Cyrillic сорреr is mixed", "сорреr", "mixes scripts"},
		{"all-Cyrillic root look-alike", "гоот", "confusable"},
		{"Greek omicron in root (mixed)", "r\u03bfot", "mixes scripts"},
		{"all-Greek topo", "τορο", "confusable"},
		{"all-Greek capitals", "ΤΟΡΟ", "confusable"},
		{"digit zeros", "r00t", "confusable"},
		{"digit one for l", "a1ice", "confusable"},
		{"digit one for i is allowed", "adm1n", ""},
		{"fullwidth", "ａｌｉｃｅ", "already exists"},
		{"fullwidth digits", "ｒ００ｔ", "confusable"},
		{"combining acute", "alice\u0301", "invalid"},
		{"precomposed accent", "alíce", ""},
		{"capital I for l", "Ivan", "confusable"},
		{"unrelated Cyrillic name", "иван", ""},
		{"unrelated Latin name", "bob", ""},
	}
	for _, tc := range tests {
		r := super.run("", "users", "add", tc.username, "--role", "admin")
		switch {
		case tc.want == "" && r.code != 0:
			t.Errorf("%s: %q refused: %q", tc.name, tc.username, r.stderr)
		case tc.want != "" && (r.code == 0 || !strings.Contains(r.stderr, tc.want)):
			t.Errorf("%s: %q: code %d stderr %q, want a refusal saying %q", tc.name, tc.username, r.code, r.stderr, tc.want)
		case tc.want != "" && strings.Count(r.stderr, "\n") > 2:
			t.Errorf("%s: refusal is not short: %q", tc.name, r.stderr)
		}
	}
}

// TestUnknownLoginNameIsNotKept: a password typed into the username field
// never reaches the audit log or the database file, whatever its shape.
func TestUnknownLoginNameIsNotKept(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct{ name, typed string }{
		{"valid username shape", "Summer2024Secret"},
		{"password with spaces", "my secret horse battery"},
		{"long password", "Tr0ub4dor&3-" + strings.Repeat("Zq7!", 40)},
		{"unicode password", "пароль-секрет-42"},
	}
	for _, tc := range tests {
		a := &acct{e: e, name: tc.typed, home: filepath.Join(e.dir, "tech-probe")}
		if r := a.login("whatever-password-1"); r.code == 0 {
			t.Fatalf("%s: sign-in succeeded", tc.name)
		}
	}
	log, raw := e.auditLog()
	db, err := os.ReadFile(filepath.Join(e.dir, "data", "relay.db"))
	if err != nil {
		t.Fatal(err)
	}
	failures := 0
	for _, rec := range log {
		if rec.Action == "login" && rec.Outcome == "failure" {
			failures++
			if !strings.HasPrefix(rec.Target, "unknown:") || len(rec.Target) > 24 {
				t.Errorf("login failure target %q, want unknown:<digest> of at most 24 bytes", rec.Target)
			}
		}
	}
	if failures < len(tests) {
		t.Errorf("%d login failures audited, want %d", failures, len(tests))
	}
	for _, tc := range tests {
		for _, probe := range []string{tc.typed, strings.ToLower(tc.typed), tc.typed[:10]} {
			if strings.Contains(raw, probe) {
				t.Errorf("%s: audit log holds %q", tc.name, probe)
			}
			if bytes.Contains(db, []byte(probe)) {
				t.Errorf("%s: database file holds %q", tc.name, probe)
			}
		}
	}
}
