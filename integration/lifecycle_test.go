package integration

import (
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Device and account lifecycle, end to end: revoke, remove, rename and
// move devices; delete users; unique email addresses; what an
// administrator limited to device groups may see and do.

// listedDevice is one element of `tech devices list --json`.
type listedDevice struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Group     string    `json:"group"`
	Online    bool      `json:"online"`
	LastSeen  time.Time `json:"last_seen"`
	RevokedAt time.Time `json:"revoked_at"`
}

// devicesAs lists the devices as the tech config home sees them.
func (e *env) devicesAs(home string) map[string]listedDevice {
	e.t.Helper()
	r := run(e.t, e.dir, "", bin.tech, "--config", home, "devices", "list", "--json")
	if r.code != 0 {
		e.t.Fatalf("devices list: %s", r.stderr)
	}
	var ds []listedDevice
	if err := json.Unmarshal([]byte(r.stdout), &ds); err != nil {
		e.t.Fatalf("devices list --json: %v in %q", err, r.stdout)
	}
	out := map[string]listedDevice{}
	for _, d := range ds {
		out[d.Name] = d
	}
	return out
}

// publicKeyOf reads the enrolled device's public key from its key file.
func publicKeyOf(t *testing.T, d *device) ed25519.PublicKey {
	t.Helper()
	blk, _ := pem.Decode([]byte(mustRead(t, filepath.Join(d.home, "device.key"))))
	if blk == nil {
		t.Fatal("device.key is not PEM")
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k.(ed25519.PrivateKey).Public().(ed25519.PublicKey)
}

// enrollRaw posts an enrollment with a chosen key, as a hostile agent
// would, and returns the status and body.
func (e *env) enrollRaw(name string, pub ed25519.PublicKey) (int, string) {
	e.t.Helper()
	r := e.techRun("", "devices", "enroll-token")
	if r.code != 0 {
		e.t.Fatalf("enroll-token: %s", r.stderr)
	}
	body, _ := json.Marshal(map[string]any{"token": strings.TrimSpace(r.stdout), "name": name, "public_key": []byte(pub)})
	resp, err := insecureClient().Post(e.url+"/v1/agent/enroll", "application/json", bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

// auditEntries returns the JSONL audit export's entries (not its trailer).
func (e *env) auditEntries() []map[string]any {
	e.t.Helper()
	r := e.techRun("", "audit", "export")
	if r.code != 0 {
		e.t.Fatalf("audit export: %s", r.stderr)
	}
	var out []map[string]any
	for _, l := range lines(r.stdout) {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["action"] != nil {
			out = append(out, m)
		}
	}
	return out
}

// findAudit returns the entries with action whose details include kv.
func findAudit(entries []map[string]any, action string, kv ...string) []map[string]any {
	var out []map[string]any
	for _, m := range entries {
		if m["action"] != action {
			continue
		}
		det, _ := m["details"].(map[string]any)
		ok := true
		for i := 0; i+1 < len(kv); i += 2 {
			if det[kv[i]] != kv[i+1] {
				ok = false
			}
		}
		if ok {
			out = append(out, m)
		}
	}
	return out
}

// TestRevokedDeviceIsCutOffAndLocks revokes a device in a live session:
// the session ends through the usual end path with a screen lock, the
// agent is disconnected and cannot come back, the key cannot enroll
// again, and the revocation is audited.
func TestRevokedDeviceIsCutOffAndLocks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.enroll("ward3")
	e.runAgent(d, "exit 0")
	sh := start(t, e.dir, nil, bin.tech, "--config", e.tech, "connect", d.name, "--", "sleep", "60")
	e.liveSession()

	r := e.techRun("", "devices", "revoke", d.name, "--json")
	if r.code != 0 || !strings.Contains(r.stderr, "1 live session was ended") {
		t.Fatalf("revoke: code %d stderr %q", r.code, r.stderr)
	}
	var res struct {
		Status, ID, Name string
		Sessions         int
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || res.Status != "ok" || res.Name != d.name || res.Sessions != 1 {
		t.Errorf("revoke --json: %q (%v)", r.stdout, err)
	}
	select {
	case <-sh.done:
	case <-time.After(20 * time.Second):
		t.Fatal("tech connect still running after the device was revoked")
	}
	if !strings.Contains(sh.Output(), "device revoked by admin") {
		t.Errorf("technician not told why the session ended: %q", sh.Output())
	}
	eventually(t, "screen lock", 20*time.Second, func() bool { return d.locks() == 1 })
	select {
	case <-d.proc.done:
	case <-time.After(20 * time.Second):
		t.Fatal("agent still running: it reconnected with a revoked key")
	}
	if !strings.Contains(d.proc.Output(), "revoked by an administrator") {
		t.Errorf("agent did not say its key was revoked: %q", d.proc.Output())
	}

	// It stays listed as revoked, offline; nothing can reach it.
	if got := e.devicesAs(e.tech)[d.name]; got.RevokedAt.IsZero() || got.Online || got.LastSeen.IsZero() {
		t.Errorf("after revoke the list shows %+v, want revoked, offline, last seen set", got)
	}
	if r := e.techRun("", "devices", "list"); !strings.Contains(r.stdout, "revoked") {
		t.Errorf("devices list table does not say revoked: %q", r.stdout)
	}
	if r := e.techRun("", "connect", d.name, "--", "true"); r.code == 0 || !strings.Contains(r.stderr, "was revoked") {
		t.Errorf("session to a revoked device: code %d stderr %q", r.code, r.stderr)
	}
	if r := e.techRun("", "devices", "revoke", d.name); r.code == 0 || !strings.Contains(r.stderr, "already revoked") {
		t.Errorf("second revoke: code %d stderr %q", r.code, r.stderr)
	}
	// A restarted agent is refused at once.
	again := start(t, e.dir, []string{"HOME=" + d.userHome}, bin.agent, "--config", d.home, "run", "--lock-cmd", "echo locked >> "+d.lockLog)
	select {
	case <-again.done:
	case <-time.After(20 * time.Second):
		t.Fatal("a revoked device's agent kept running")
	}
	if !strings.Contains(again.Output(), "revoked by an administrator") {
		t.Errorf("restarted agent: %q", again.Output())
	}
	// The key cannot enroll again under another name, with a valid token.
	if code, body := e.enrollRaw("ward3-again", publicKeyOf(t, d)); code != http.StatusConflict || !strings.Contains(body, "already enrolled or was revoked") {
		t.Errorf("re-enrollment with the revoked key: %d %s", code, body)
	}

	entries := e.auditEntries()
	if len(findAudit(entries, "device.revoke", "name", d.name, "sessions", "1")) != 1 {
		t.Error("no device.revoke audit entry naming the device and the ended session")
	}
	if refused := findAudit(entries, "device.auth"); len(refused) == 0 || refused[0]["target"] != res.ID {
		t.Errorf("the refused reconnection is not audited against the device: %v", refused)
	}
	if len(findAudit(entries, "session.end", "reason", "device revoked by admin")) != 1 {
		t.Error("the session's end is not audited with the revocation as its reason")
	}
}

// TestDeviceRenameMoveRemove renames and moves a connected device, then
// removes it: it leaves the list, cannot connect, and its name is free.
func TestDeviceRenameMoveRemove(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.enroll("desktop-7q2")
	e.runAgent(d, "exit 0")
	other := e.enroll("kiosk")
	before := e.devicesAs(e.tech)[d.name]

	refusals := []struct {
		args []string
		want string
	}{
		{[]string{"rename", d.name, "bad name!"}, "invalid device name"},
		{[]string{"rename", d.name, other.name}, "already enrolled"},
		{[]string{"rename", "nosuch", "x"}, `no device named "nosuch"`},
		{[]string{"move", d.name, "--group", "../etc"}, "invalid group name"},
		{[]string{"move", d.name, "--group", "default"}, "already in group"},
		{[]string{"move", d.name}, `"group" not set`},
		{[]string{"remove", "nosuch"}, `no device named "nosuch"`},
	}
	for _, c := range refusals {
		if r := e.techRun("", append([]string{"devices"}, c.args...)...); r.code == 0 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("devices %v: code %d stderr %q, want %q", c.args, r.code, r.stderr, c.want)
		}
	}

	if r := e.techRun("", "devices", "rename", d.name, "front-desk-1"); r.code != 0 {
		t.Fatalf("rename: %s", r.stderr)
	}
	if r := e.techRun("", "devices", "move", "front-desk-1", "--group", "front-desk"); r.code != 0 {
		t.Fatalf("move: %s", r.stderr)
	}
	ds := e.devicesAs(e.tech)
	got, ok := ds["front-desk-1"]
	if _, old := ds[d.name]; old || !ok || got.ID != before.ID || got.Group != "front-desk" || !got.Online {
		t.Fatalf("after rename and move: %+v", ds)
	}
	// The connected agent serves sessions under its new name.
	if r := e.techRun("", "connect", "front-desk-1", "--", "echo", "renamed-ok"); r.code != 0 || !strings.Contains(r.stdout, "renamed-ok") {
		t.Fatalf("session after rename: code %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	eventually(t, "the session's screen lock", 20*time.Second, func() bool { return d.locks() == 1 })
	locks := d.locks()

	if r := e.techRun("", "devices", "remove", "front-desk-1"); r.code != 0 {
		t.Fatalf("remove: %s", r.stderr)
	}
	if _, listed := e.devicesAs(e.tech)["front-desk-1"]; listed {
		t.Error("a removed device is still listed")
	}
	select {
	case <-d.proc.done:
	case <-time.After(20 * time.Second):
		t.Fatal("agent of a removed device still running")
	}
	if !strings.Contains(d.proc.Output(), "removed by an administrator") {
		t.Errorf("agent of a removed device: %q", d.proc.Output())
	}
	if d.locks() != locks {
		t.Errorf("screen locked %d times on removal with no live session", d.locks()-locks)
	}
	if r := e.techRun("", "connect", "front-desk-1", "--", "true"); r.code == 0 || !strings.Contains(r.stderr, "no device named") {
		t.Errorf("session to a removed device: code %d stderr %q", r.code, r.stderr)
	}
	// Its name is free for a new enrollment; its key is not.
	if code, body := e.enrollRaw("front-desk-1", publicKeyOf(t, d)); code != http.StatusConflict {
		t.Errorf("enrollment with the removed device's key: %d %s", code, body)
	}
	fresh := e.enroll("front-desk-1")
	e.runAgent(fresh, "exit 0")
	if got := e.devicesAs(e.tech)["front-desk-1"]; got.ID == before.ID || !got.Online {
		t.Errorf("the new front-desk-1 is %+v", got)
	}

	entries := e.auditEntries()
	checks := []struct {
		action string
		kv     []string
	}{
		{"device.rename", []string{"name", d.name, "new_name", "front-desk-1"}},
		{"device.move", []string{"name", "front-desk-1", "group", "default", "new_group", "front-desk", "policy", "consent"}},
		{"device.remove", []string{"name", "front-desk-1", "group", "front-desk"}},
	}
	for _, c := range checks {
		found := findAudit(entries, c.action, c.kv...)
		if len(found) != 1 || found[0]["target"] != before.ID {
			t.Errorf("audit %s %v: found %v, want one entry with target %s", c.action, c.kv, found, before.ID)
		}
	}
	if len(findAudit(entries, "device.rename", "reason", `invalid device name "bad name!"`)) != 1 {
		t.Error("the refused rename is not audited with its reason")
	}
}

// addUserWith is addUser with extra `users add` flags.
func (e *env) addUserWith(name, role string, flags ...string) string {
	e.t.Helper()
	r := e.techRun("", append([]string{"users", "add", name, "--role", role}, flags...)...)
	if r.code != 0 {
		e.t.Fatalf("users add %s: %s", name, r.stderr)
	}
	temp := strings.TrimSpace(r.stdout)
	home := filepath.Join(e.dir, "tech-"+name)
	login := func(pw string) result {
		return run(e.t, e.dir, pw+"\n", bin.tech, "--config", home, "login", "--relay", e.url, "--user", name, "--ca-fingerprint", e.fp, "--password-stdin")
	}
	if r := login(temp); r.code != 0 {
		e.t.Fatalf("login %s: %s", name, r.stderr)
	}
	if r := run(e.t, e.dir, temp+"\n"+userPW+"\n", bin.tech, "--config", home, "passwd", "--password-stdin"); r.code != 0 {
		e.t.Fatalf("passwd %s: %s", name, r.stderr)
	}
	if r := login(userPW); r.code != 0 {
		e.t.Fatalf("login %s with the new password: %s", name, r.stderr)
	}
	return home
}

// userPW is the password addUserWith gives its users.
const userPW = "violet-granite-harbour-7421"

// TestScopedAdminDeviceLifecycle checks an administrator limited to device
// groups: other groups' devices are unknown to them, they cannot move a
// device out to a group they do not hold, and their user list shows only
// the accounts they may manage.
func TestScopedAdminDeviceLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ward := e.enrollIn("ward-pc", "ward")
	e.enrollIn("ward-pc2", "ward")
	lab := e.enrollIn("lab-pc", "lab")
	e.enrollIn("desk-pc", "desk")
	wa := e.addUserWith("wadmin", "admin", "--group", "ward", "--group", "desk")

	if ds := e.devicesAs(wa); len(ds) != 3 || ds["lab-pc"].Name != "" {
		t.Errorf("scoped admin sees %v, want ward-pc, ward-pc2 and desk-pc only", ds)
	}
	refusals := []struct {
		args []string
		want string
	}{
		{[]string{"revoke", lab.name}, `no device named "lab-pc"`},
		{[]string{"remove", lab.name}, `no device named "lab-pc"`},
		{[]string{"rename", lab.name, "mine"}, `no device named "lab-pc"`},
		{[]string{"move", lab.name, "--group", "ward"}, `no device named "lab-pc"`},
		{[]string{"move", ward.name, "--group", "lab"}, `group "lab" is outside your device groups`},
		{[]string{"move", ward.name, "--group", "brand-new"}, `group "brand-new" is outside your device groups`},
		{[]string{"rename", ward.name, lab.name}, `device name "lab-pc" is not available`},
	}
	for _, c := range refusals {
		r := run(t, e.dir, "", bin.tech, append([]string{"--config", wa, "devices"}, c.args...)...)
		if r.code == 0 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("scoped devices %v: code %d stderr %q, want %q", c.args, r.code, r.stderr, c.want)
		}
	}
	if ds := e.devicesAs(e.tech); ds[lab.name].Group != "lab" || !ds[lab.name].RevokedAt.IsZero() || ds[ward.name].Group != "ward" {
		t.Fatalf("a refused action changed something: %+v", ds)
	}
	// Within their groups everything works.
	for _, args := range [][]string{
		{"move", ward.name, "--group", "desk"},
		{"rename", ward.name, "ward-pc-1"},
		{"revoke", "ward-pc2"},
		{"remove", "ward-pc2"},
	} {
		if r := run(t, e.dir, "", bin.tech, append([]string{"--config", wa, "devices"}, args...)...); r.code != 0 {
			t.Errorf("scoped devices %v: %s", args, r.stderr)
		}
	}
	if got := e.devicesAs(e.tech)["ward-pc-1"]; got.Group != "desk" {
		t.Errorf("after the scoped move and rename: %+v", got)
	}
	if len(findAudit(e.auditEntries(), "device.scope")) < 4 {
		t.Error("out-of-scope device actions are not audited as device.scope denials")
	}

	// The user list: their own account and accounts within their groups.
	e.addUserWith("tina", "technician", "--group", "ward")
	e.addUserWith("tom", "technician")
	e.addUserWith("lara", "technician", "--group", "lab")
	e.addUserWith("wendy", "technician", "--group", "ward", "--group", "lab")
	r := run(t, e.dir, "", bin.tech, "--config", wa, "users", "list", "--json")
	if r.code != 0 {
		t.Fatalf("scoped users list: %s", r.stderr)
	}
	var us []struct{ Username string }
	json.Unmarshal([]byte(r.stdout), &us)
	var names []string
	for _, u := range us {
		names = append(names, u.Username)
	}
	if strings.Join(names, ",") != "tina,wadmin" {
		t.Errorf("scoped admin's user list: %v, want [tina wadmin]", names)
	}
	if r := e.techRun("", "users", "list", "--json"); !strings.Contains(r.stdout, `"username":"lara"`) || !strings.Contains(r.stdout, `"username":"tom"`) {
		t.Errorf("unscoped admin's user list lacks users: %q", r.stdout)
	}
}

// TestDeletedUserCannotSignInAndStaysInAudit deletes a signed-in user:
// their token stops working, they cannot sign in, the name stays taken,
// and old audit entries still name them.
func TestDeletedUserCannotSignInAndStaysInAudit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bob := e.addUserWith("bob", "technician", "--email", "bob@clinic.example")
	var id string
	{
		r := e.techRun("", "users", "list", "--json")
		var us []struct {
			ID, Username string
			LastLoginAt  time.Time `json:"last_login_at"`
		}
		json.Unmarshal([]byte(r.stdout), &us)
		for _, u := range us {
			if u.Username == "bob" {
				id = u.ID
				if u.LastLoginAt.IsZero() {
					t.Error("bob's last sign-in is not listed")
				}
			}
		}
		if id == "" || !strings.Contains(e.techRun("", "users", "list").stdout, "LAST SIGN-IN") {
			t.Fatalf("bob not listed, or no last sign-in column: %q", r.stdout)
		}
	}
	if r := run(t, e.dir, "", bin.tech, "--config", bob, "devices", "list"); r.code != 0 {
		t.Fatalf("bob before deletion: %s", r.stderr)
	}
	// An organisation administrator manages technicians (the service
	// superadmin manages administrators only).
	oa := e.addUserWith("oadmin", "admin")
	as := func(args ...string) result {
		return run(t, e.dir, "", bin.tech, append([]string{"--config", oa}, args...)...)
	}
	if r := as("users", "delete", "oadmin"); r.code == 0 || !strings.Contains(r.stderr, "your own account") {
		t.Errorf("deleting oneself: code %d stderr %q", r.code, r.stderr)
	}
	if r := as("users", "delete", "bob"); r.code != 0 || !strings.Contains(r.stderr, "deleted") {
		t.Fatalf("delete bob: code %d stderr %q", r.code, r.stderr)
	}
	if r := run(t, e.dir, "", bin.tech, "--config", bob, "devices", "list"); r.code == 0 {
		t.Error("bob's token still works after deletion")
	}
	r := run(t, e.dir, userPW+"\n", bin.tech, "--config", bob, "login", "--relay", e.url, "--user", "bob", "--ca-fingerprint", e.fp, "--password-stdin")
	if r.code == 0 || !strings.Contains(r.stderr, "invalid username or password") {
		t.Errorf("deleted bob signs in: code %d stderr %q", r.code, r.stderr)
	}
	for _, args := range [][]string{{"users", "delete", "bob"}, {"users", "enable", "bob"}, {"users", "reset-password", "bob"}} {
		if r := as(args...); r.code == 0 || !strings.Contains(r.stderr, `no user "bob"`) {
			t.Errorf("%v on a deleted user: code %d stderr %q", args, r.code, r.stderr)
		}
	}
	if r := e.techRun("", "users", "add", "bob", "--role", "technician"); r.code == 0 || !strings.Contains(r.stderr, "a deleted user was named") {
		t.Errorf("reusing a deleted user's name: code %d stderr %q", r.code, r.stderr)
	}
	// Gone from the list, there with --all; the address is free again.
	if r := e.techRun("", "users", "list", "--json"); strings.Contains(r.stdout, `"username":"bob"`) {
		t.Errorf("deleted bob is listed: %q", r.stdout)
	}
	if r := e.techRun("", "users", "list", "--all", "--json"); !strings.Contains(r.stdout, `"id":"`+id+`","username":"bob"`) ||
		!strings.Contains(r.stdout, `"state":"deleted"`) || strings.Contains(r.stdout, "bob@clinic.example") {
		t.Errorf("users list --all: %q", r.stdout)
	}
	e.addUserWith("robert", "technician", "--email", "BOB@clinic.example")

	// Old entries still name bob by ID and name; the deletion is audited.
	entries := e.auditEntries()
	logins := findAudit(entries, "login", "username", "bob")
	if len(logins) < 2 || logins[0]["actor_id"] != id {
		t.Errorf("bob's old sign-ins in the audit export: %v", logins)
	}
	if del := findAudit(entries, "user.delete", "username", "bob"); len(del) != 1 || del[0]["target"] != id {
		t.Errorf("user.delete entry: %v", del)
	}
	if len(findAudit(entries, "user.revoke_tokens", "reason", "account deleted")) != 1 {
		t.Error("bob's sign-ins were not revoked in the audit log")
	}
}

// TestLastSuperadminCannotBeDeleted uses break-glass access, a superadmin
// principal that is no account, to try to take away the only superadmin
// account: delete and disable are refused; with a second superadmin the
// first can go.
func TestLastSuperadminCannotBeDeleted(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := run(t, e.dir, "", bin.relay, "emergency-access", "--data", filepath.Join(e.dir, "data"), "--reason", "INC-9: test")
	if r.code != 0 {
		t.Fatalf("emergency-access: %s", r.stderr)
	}
	em := filepath.Join(e.dir, "tech-emergency")
	if r := run(t, e.dir, strings.TrimSpace(r.stdout)+"\n", bin.tech, "--config", em, "emergency-login", "--relay", e.url, "--ca-fingerprint", e.fp); r.code != 0 {
		t.Fatalf("emergency-login: %s", r.stderr)
	}
	for _, action := range []string{"delete", "disable"} {
		r := run(t, e.dir, "", bin.tech, "--config", em, "users", action, "admin")
		if r.code == 0 || !strings.Contains(r.stderr, "it is the last superadmin account") {
			t.Errorf("%s the last superadmin: code %d stderr %q", action, r.code, r.stderr)
		}
	}
	e.addUserWith("sa2", "superadmin")
	if r := run(t, e.dir, "", bin.tech, "--config", em, "users", "delete", "admin"); r.code != 0 {
		t.Errorf("delete admin with another superadmin left: %s", r.stderr)
	}
}

// TestEmailAddressesAreUnique refuses a second account with an address
// already in use, ignoring case, on creation and on change.
func TestEmailAddressesAreUnique(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if r := e.techRun("", "users", "add", "carol", "--role", "technician", "--email", "Carol@Clinic.example"); r.code != 0 {
		t.Fatalf("users add carol: %s", r.stderr)
	}
	if r := e.techRun("", "users", "add", "dave", "--role", "technician", "--email", "carol@clinic.EXAMPLE"); r.code == 0 ||
		!strings.Contains(r.stderr, "already used by another account") || strings.TrimSpace(r.stdout) != "" {
		t.Errorf("duplicate email on add: code %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	if r := e.techRun("", "users", "list", "--json"); strings.Contains(r.stdout, `"username":"dave"`) {
		t.Error("dave was created despite the refusal")
	}
	if r := e.techRun("", "users", "add", "dave", "--role", "technician", "--email", "dave@clinic.example"); r.code != 0 {
		t.Fatalf("users add dave: %s", r.stderr)
	}
	oa := e.addUserWith("oadmin", "admin")
	as := func(args ...string) result {
		return run(t, e.dir, "", bin.tech, append([]string{"--config", oa}, args...)...)
	}
	if r := as("users", "email", "dave", "CAROL@clinic.example"); r.code == 0 || !strings.Contains(r.stderr, "already used by another account") {
		t.Errorf("duplicate email on change: code %d stderr %q", r.code, r.stderr)
	}
	if r := as("users", "email", "carol", "carol@clinic.example"); r.code != 0 {
		t.Errorf("changing the case of one's own address: %s", r.stderr)
	}
	if len(findAudit(e.auditEntries(), "user.email", "reason", `email address "CAROL@clinic.example" is already used by another account`)) != 1 {
		t.Error("the refused email change is not audited")
	}
}
