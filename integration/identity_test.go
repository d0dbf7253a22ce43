package integration

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

// acct is a user of an env with its own tech config directory.
type acct struct {
	e          *env
	name, home string
	pw         string
}

// admin returns the bootstrap superadmin, signed in by newEnv.
func (e *env) admin() *acct { return &acct{e: e, name: "admin", home: e.tech} }

// run runs tech as a.
func (a *acct) run(stdin string, args ...string) result {
	a.e.t.Helper()
	return run(a.e.t, a.e.dir, stdin, bin.tech, append([]string{"--config", a.home}, args...)...)
}

// must runs tech as a and fails the test unless it succeeds.
func (a *acct) must(stdin string, args ...string) result {
	a.e.t.Helper()
	r := a.run(stdin, args...)
	if r.code != 0 {
		a.e.t.Fatalf("tech %s as %s: code %d stderr %q", strings.Join(args, " "), a.name, r.code, r.stderr)
	}
	return r
}

// refused runs tech as a and fails the test unless it fails saying want.
func (a *acct) refused(want, stdin string, args ...string) result {
	a.e.t.Helper()
	r := a.run(stdin, args...)
	if r.code == 0 || !strings.Contains(r.stderr, want) {
		a.e.t.Fatalf("tech %s as %s: got code %d stderr %q, want a refusal saying %q", strings.Join(args, " "), a.name, r.code, r.stderr, want)
	}
	return r
}

// login signs a in with pw and any extra flags.
func (a *acct) login(pw string, extra ...string) result {
	a.e.t.Helper()
	args := append([]string{"login", "--relay", a.e.url, "--user", a.name, "--ca-fingerprint", a.e.fp, "--password-stdin"}, extra...)
	return a.run(pw+"\n", args...)
}

// add creates a user as a and returns it with its temporary password.
func (a *acct) add(name, role string, extra ...string) *acct {
	a.e.t.Helper()
	r := a.must("", append([]string{"users", "add", name, "--role", role}, extra...)...)
	return &acct{e: a.e, name: name, home: filepath.Join(a.e.dir, "tech-"+name), pw: strings.TrimSpace(r.stdout)}
}

// activate signs in with the temporary password and sets pw.
func (a *acct) activate(pw string) {
	a.e.t.Helper()
	if r := a.login(a.pw); r.code != 0 || !strings.Contains(r.stderr, "must be changed") {
		a.e.t.Fatalf("%s's first sign-in: code %d stderr %q", a.name, r.code, r.stderr)
	}
	a.must(a.pw+"\n"+pw+"\n", "passwd", "--password-stdin")
	a.pw = pw
}

func TestTemporaryPasswordAllowsOnlyPasswd(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice := e.admin().add("alice", "technician", "--email", "alice@clinic.example")
	if len(alice.pw) < 16 {
		t.Fatalf("temporary password %q is too short", alice.pw)
	}
	if r := alice.login(alice.pw); r.code != 0 || !strings.Contains(r.stderr, "must be changed") {
		t.Fatalf("login with the temporary password: code %d stderr %q", r.code, r.stderr)
	}
	for _, args := range [][]string{{"devices", "list"}, {"sessions", "list"}, {"devices", "enroll-token"}, {"policy", "show"}} {
		alice.refused("password change required", "", args...)
	}
	alice.must(alice.pw+"\nfresh-Clinic-Pass-7\n", "passwd", "--password-stdin")
	alice.must("", "devices", "list")
	// The temporary password is gone.
	alice.refused("invalid username or password", alice.pw+"\n", "login", "--relay", e.url, "--user", "alice", "--ca-fingerprint", e.fp, "--password-stdin")
}

func TestPasswordRulesNameTheRule(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.admin()
	admin.must("", "policy", "set", "--require-classes", "3", "--password-history-count", "3")
	carol := admin.add("carol", "technician")
	carol.activate("First-Pass-2024!")
	tests := []struct {
		name, pw, want string
	}{
		{"too short", "Sh0rt!x", "too_short"},
		{"blocklisted", "password1234", "blocklisted"},
		{"contains the username", "My-CAROL-pass-99", "contains_username"},
		{"weak", "onlylowercaseletters", "complexity"},
		{"reused", "First-Pass-2024!", "reused"},
		{"NUL byte", "abc\x00Def-123456", "NUL"},
		{"1 MB", strings.Repeat("aB3!", 1<<18), "too long"},
	}
	for _, tc := range tests {
		start := time.Now()
		r := carol.refused(tc.want, carol.pw+"\n"+tc.pw+"\n", "passwd", "--password-stdin")
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("%s: refusal took %v", tc.name, d)
		}
		if strings.Contains(r.stderr, tc.pw) {
			t.Errorf("%s: the refusal echoes the password: %q", tc.name, r.stderr)
		}
	}
	carol.must(carol.pw+"\nSecond-Pass-2024!\n", "passwd", "--password-stdin")
	carol.refused("reused", "Second-Pass-2024!\nFirst-Pass-2024!\n", "passwd", "--password-stdin")
	start := time.Now()
	r := carol.login(strings.Repeat("x", 1<<20))
	if r.code == 0 || !strings.Contains(r.stderr, "too long") || time.Since(start) > 10*time.Second {
		t.Fatalf("1 MB password at login: got code %d stderr %.200q after %v, want a quick 'too long'", r.code, r.stderr, time.Since(start))
	}
}

func TestLockoutPersistsAndOnlyTheOrgAdminUnlocksUsers(t *testing.T) {
	t.Parallel()
	// "nobody" never signed in from here, so the account back-off would hold
	// it up after two failures; admit enough to reach the threshold.
	flags := []string{"--throttle-account-free", "10"}
	e := newEnv(t, flags...)
	admin := e.admin()
	boss := admin.add("boss", "admin")
	boss.activate("Kestrel-Harbor-41!")
	dave := boss.add("dave", "technician")
	dave.activate("Maple-Ridge-2024!!")
	nobody := &acct{e: e, name: "nobody", home: filepath.Join(e.dir, "tech-nobody")}
	for i := range 3 {
		if r := dave.login("wrong-password-" + string(rune('a'+i))); !strings.Contains(r.stderr, "invalid username or password") {
			t.Fatalf("failure %d: %q", i+1, r.stderr)
		}
	}
	// Failures survive a restart.
	e.relay.cmd.Process.Signal(syscall.SIGTERM)
	<-e.relay.done
	e.url, e.fp = "", "" // startRelay reads the new ones
	e.startRelay(flags...)
	for range 2 {
		dave.login("wrong-password-again")
		nobody.login("wrong-password-again")
	}
	for range 3 {
		nobody.login("wrong-password-again")
	}
	locked := dave.refused("account locked", "Dave-Pass-2024!!\n", "login", "--relay", e.url, "--user", "dave", "--ca-fingerprint", e.fp, "--password-stdin")
	if !strings.Contains(locked.stderr, "administrator of your organisation") {
		t.Errorf("the locked answer does not say who can unlock: %q", locked.stderr)
	}
	if r := nobody.login("anything-at-all"); r.stderr != locked.stderr {
		t.Errorf("an unknown name said %q, a locked account %q; want the same answer", r.stderr, locked.stderr)
	}
	admin.must(e.adminPW+"\n", "login", "--relay", e.url, "--user", "admin", "--ca-fingerprint", e.fp, "--password-stdin")
	admin.refused("superadmin may unlock only administrator accounts", "", "users", "unlock", "dave")
	boss.must(boss.pw+"\n", "login", "--relay", e.url, "--user", "boss", "--ca-fingerprint", e.fp, "--password-stdin")
	boss.must("", "users", "unlock", "dave")
	if r := dave.login(dave.pw); r.code != 0 {
		t.Fatalf("login after unlock: %q", r.stderr)
	}
	dave.must("", "devices", "list")
	// Disabling ends the sign-in at once.
	boss.must("", "users", "disable", "dave")
	dave.refused("not valid", "", "devices", "list")
	dave.refused("account disabled", dave.pw+"\n", "login", "--relay", e.url, "--user", "dave", "--ca-fingerprint", e.fp, "--password-stdin")
	if r := admin.must("", "users", "list", "--json"); !strings.Contains(r.stdout, `"username":"dave"`) || !strings.Contains(r.stdout, `"state":"disabled"`) {
		t.Errorf("users list --json: %s", r.stdout)
	}
}

func TestIdleLogoffFollowsPolicy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.admin()
	erin := admin.add("erin", "technician")
	admin.must("", "policy", "set", "--idle-timeout", "2s")
	erin.activate("Quiet-Lantern-88!")
	erin.must("", "devices", "list")
	waitIdle(2 * time.Second)
	erin.refused("session locked", "", "devices", "list")
	admin.refused("session locked", "", "policy", "show")
}

// code returns the TOTP code for secret at t.
func code(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCode(secret, at)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestMFAEnrolLoginReplayAndRecovery(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.admin()
	frank := admin.add("frank", "technician")
	frank.activate("Silver-Canyon-2024!")
	frank.refused("the current password is wrong", "not-my-password\n", "mfa", "enroll", "--password-stdin")
	r := frank.must(frank.pw+"\n", "mfa", "enroll", "--password-stdin")
	secret := strings.TrimSpace(r.stdout)
	if !strings.Contains(r.stderr, "▀") && !strings.Contains(r.stderr, "▄") {
		t.Errorf("no QR code on stderr: %q", r.stderr)
	}
	t0 := time.Now()
	r = frank.must("", "mfa", "confirm", code(t, secret, t0))
	recovery := lines(r.stdout)
	if len(recovery) != 10 {
		t.Fatalf("got %d recovery codes, want 10: %q", len(recovery), r.stdout)
	}
	frank.must("", "logout")
	frank.refused("two-factor code required", frank.pw+"\n", "login", "--relay", e.url, "--user", "frank", "--ca-fingerprint", e.fp, "--password-stdin")
	next := code(t, secret, t0.Add(30*time.Second)) // a later step than the one confirm used
	if r := frank.login(frank.pw, "--totp", next); r.code != 0 {
		t.Fatalf("login with a code: %q", r.stderr)
	}
	frank.must("", "devices", "list")
	frank.must("", "logout")
	frank.refused("already used", frank.pw+"\n", "login", "--relay", e.url, "--user", "frank", "--ca-fingerprint", e.fp, "--password-stdin", "--totp", next)
	if r := frank.login(frank.pw, "--totp", recovery[0]); r.code != 0 {
		t.Fatalf("login with a recovery code: %q", r.stderr)
	}
	frank.must("", "logout")
	frank.refused("invalid or used recovery code", frank.pw+"\n", "login", "--relay", e.url, "--user", "frank", "--ca-fingerprint", e.fp, "--password-stdin", "--totp", recovery[0])

	// A policy that requires MFA forces enrolment at the next sign-in.
	gina := admin.add("gina", "technician")
	admin.must("", "policy", "set", "--require-mfa")
	gina.activate("Amber-Falcon-2024!")
	gina.refused("two-factor enrolment required", "", "devices", "list")
	r = gina.must(gina.pw+"\n", "mfa", "enroll", "--password-stdin")
	gina.must("", "mfa", "confirm", code(t, strings.TrimSpace(r.stdout), time.Now()))
	gina.must("", "devices", "list")
}

func TestDenyBeatsAllowAndRevokingARoleSignsOut(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.admin()
	admin.must("", "roles", "create", "no-enroll", "--deny", "device.enroll")
	boss := admin.add("boss", "admin")
	boss.activate("Kestrel-Harbor-41!")
	hank := boss.add("hank", "technician")
	// The service superadmin does not administer ordinary users.
	admin.refused("only administrator accounts", "", "users", "grant", "hank", "no-enroll")
	boss.must("", "users", "grant", "hank", "no-enroll")
	hank.activate("Cobalt-River-2024!")
	hank.refused("permission denied: device.enroll is required", "", "devices", "enroll-token")
	if r := admin.must("", "roles", "list", "--json"); !strings.Contains(r.stdout, `"name":"no-enroll"`) {
		t.Errorf("roles list --json lacks the custom role: %s", r.stdout)
	}
	// A technician cannot administer.
	hank.refused("permission denied: user.manage is required", "", "users", "list")
	boss.must("", "users", "revoke", "hank", "no-enroll")
	hank.refused("not valid", "", "devices", "list")
	hank.must(hank.pw+"\n", "login", "--relay", e.url, "--user", "hank", "--ca-fingerprint", e.fp, "--password-stdin")
	hank.must("", "devices", "enroll-token")
}

func TestMostRestrictivePolicyAcrossOrganisations(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.admin()
	admin.must("", "orgs", "create", "icu")
	admin.must("", "policy", "set", "--org", "icu", "--min-length", "16", "--lockout-threshold", "3")
	admin.refused("--password-max-age", "", "policy", "set", "--org", "icu", "--password-max-age", "7d")
	boss := admin.add("boss", "admin")
	admin.must("", "orgs", "add-member", "icu", "boss")
	boss.activate("Kestrel-Harbor-icu-41!")
	ivan := boss.add("ivan", "technician")
	boss.must("", "orgs", "add-member", "icu", "ivan")
	if r := ivan.login(ivan.pw); r.code != 0 {
		t.Fatalf("ivan login: %q", r.stderr)
	}
	ivan.refused("use at least 16 characters", ivan.pw+"\nGranite-Mead-4!\n", "passwd", "--password-stdin")
	ivan.must(ivan.pw+"\nGranite-Meadow-2024\n", "passwd", "--password-stdin")
	if r := ivan.must("", "policy", "show", "--json"); !strings.Contains(r.stdout, `"effective":{"min_length":16`) {
		t.Errorf("effective policy: %s", r.stdout)
	}
	for range 2 {
		ivan.refused("invalid username or password", "wrong-password\n", "login", "--relay", e.url, "--user", "ivan", "--ca-fingerprint", e.fp, "--password-stdin")
	}
	ivan.refused("account locked", "wrong-password\n", "login", "--relay", e.url, "--user", "ivan", "--ca-fingerprint", e.fp, "--password-stdin")
}

func TestEmergencyAccessIsTimeBoxed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	data := filepath.Join(e.dir, "data")
	r := run(t, e.dir, "", bin.relay, "emergency-access", "--data", data, "--reason", "INC-1: test", "--ttl", "2h")
	if r.code == 0 || !strings.Contains(r.stderr, "--ttl") {
		t.Fatalf("a 2 h emergency token: code %d stderr %q", r.code, r.stderr)
	}
	// Long enough for the three commands below on a busy machine.
	const ttl = 5 * time.Second
	issued := time.Now()
	r = run(t, e.dir, "", bin.relay, "emergency-access", "--data", data, "--reason", "INC-1: admins locked out", "--ttl", ttl.String())
	if r.code != 0 {
		t.Fatalf("emergency-access: %q", r.stderr)
	}
	em := &acct{e: e, name: "emergency", home: filepath.Join(e.dir, "tech-emergency")}
	em.must(r.stdout, "emergency-login", "--relay", e.url, "--ca-fingerprint", e.fp)
	em.must("", "users", "list")
	em.refused("not available with emergency access", "x\ny\n", "passwd", "--password-stdin")
	time.Sleep(time.Until(issued.Add(ttl + 300*time.Millisecond)))
	em.refused("emergency access expired", "", "users", "list")
}

func TestUsernameLookalikesAndCaseVariantsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.admin()
	tests := []struct{ name, want string }{
		{"Admin", "already exists"},
		{"ADMIN", "already exists"},
		{"ａｄｍｉｎ", "already exists"},
		{"\u0430dmin", "mixes scripts"}, // Cyrillic а
		{"ad min", "invalid"},
	}
	for _, tc := range tests {
		admin.refused(tc.want, "", "users", "add", tc.name, "--role", "technician")
	}
}
