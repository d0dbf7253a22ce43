package tech_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/rbac"
	"github.com/tether-support/tether/internal/tech"
)

// TestAdminCalls runs the administrative calls against an in-process relay
// and checks the values they return: no output to parse.
func TestAdminCalls(t *testing.T) {
	b := newTestbed(t)
	for _, tc := range []struct {
		name string
		run  func(*testing.T, *testbed)
	}{
		{"users add and list", adminUsers},
		{"roles", adminRoles},
		{"devices list", adminDevices},
		{"sessions list", adminSessions},
		{"policy show and set", adminPolicy},
		{"client from a token alone", adminTokenClient},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, b) })
	}
}

// adminUsers: a new user's temporary password comes back once, and the
// list shows the user with the role and the state the relay gave it.
func adminUsers(t *testing.T, b *testbed) {
	ctx := context.Background()
	c := b.client(nil)
	added, err := c.AddUser(ctx, tech.AddUserOptions{Name: "alice", Role: "technician", Email: "alice@clinic.example"})
	if err != nil {
		t.Fatal(err)
	}
	if added.Username != "alice" || added.State == "pending" || len(added.TemporaryPassword) < 12 {
		t.Fatalf("AddUser: %+v", added)
	}
	users, err := c.Users(ctx)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(users, func(u api.User) bool { return u.Username == "alice" })
	if i < 0 {
		t.Fatalf("alice missing from %+v", users)
	}
	alice := users[i]
	if alice.ID != added.ID || !slices.Equal(alice.Roles, []string{"technician"}) || alice.Email != "alice@clinic.example" ||
		alice.State != "must_change_password" || alice.MFA || alice.FailedLogins != 0 {
		t.Errorf("alice listed as %+v", alice)
	}
	if _, err := c.AddUser(ctx, tech.AddUserOptions{Name: "alice", Role: "technician"}); err == nil {
		t.Error("a second alice was created")
	}
}

// adminRoles: the built-in roles are listed; a custom role comes back
// with what it grants, and is gone once deleted.
func adminRoles(t *testing.T, b *testbed) {
	ctx := context.Background()
	c := b.client(nil)
	r, err := c.PutRole(ctx, "helpdesk", []string{string(rbac.SessionStart)}, nil, "walk-in support")
	if err != nil {
		t.Fatal(err)
	}
	if r.Name != "helpdesk" || r.Builtin || !slices.Contains(r.Effective, string(rbac.SessionStart)) {
		t.Errorf("PutRole: %+v", r)
	}
	roles, err := c.Roles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, r := range roles {
		names[r.Name] = r.Builtin
	}
	for _, want := range []string{"superadmin", "admin", "technician", "auditor"} {
		if builtin, ok := names[want]; !ok || !builtin {
			t.Errorf("role %s: listed %v, built-in %v", want, ok, builtin)
		}
	}
	if builtin, ok := names["helpdesk"]; !ok || builtin {
		t.Errorf("helpdesk: listed %v, built-in %v", ok, builtin)
	}
	if err := c.DeleteRole(ctx, "helpdesk"); err != nil {
		t.Fatal(err)
	}
	if roles, err = c.Roles(ctx); err != nil || slices.ContainsFunc(roles, func(r api.Role) bool { return r.Name == "helpdesk" }) {
		t.Errorf("after delete: %v, %+v", err, roles)
	}
}

// adminDevices: the enrolled device is listed online in its group.
func adminDevices(t *testing.T, b *testbed) {
	devs, err := b.client(nil).Devices(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(devs) != 1 || devs[0].Name != b.device || !devs[0].Online || devs[0].Group != "default" || devs[0].LastSeen.IsZero() {
		t.Errorf("Devices: %+v", devs)
	}
}

// adminSessions: a live session is listed as active, with its device and
// capabilities, and Session returns the same one.
func adminSessions(t *testing.T, b *testbed) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := b.client(nil)
	s, err := c.Open(ctx, tech.SessionRequest{Device: b.device, Caps: []string{protocol.CapShell}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	live, err := c.Sessions(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(live) != 1 || live[0].ID != s.ID() || live[0].DeviceName != b.device || live[0].TechUser != "admin" ||
		!live[0].Live || !slices.Equal(live[0].Capabilities, []string{protocol.CapShell}) {
		t.Fatalf("active sessions: %+v", live)
	}
	one, err := c.Session(ctx, s.ID().String())
	if err != nil {
		t.Fatal(err)
	}
	if one.ID != s.ID() || one.Mode != "unattended" || one.DeviceName != b.device {
		t.Errorf("Session: %+v", one)
	}
	if _, err := c.Session(ctx, "s_nonexistent"); err == nil {
		t.Error("an unknown session was found")
	}
}

// adminPolicy: the default policy is shown for the caller's organisation
// and as their effective one; a change shows in both.
func adminPolicy(t *testing.T, b *testbed) {
	ctx := context.Background()
	c := b.client(nil)
	before, err := c.PolicyShow(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if before.Org == "" || !slices.Contains(before.YourOrgs, before.Org) || before.Policy.MinLength < 8 || before.Effective != before.Policy {
		t.Fatalf("PolicyShow: %+v", before)
	}
	n := before.Policy.MinLength + 2
	set, err := c.PolicySet(ctx, tech.PolicyChanges{MinLength: &n})
	if err != nil {
		t.Fatal(err)
	}
	if set.Org != before.Org || set.Policy.MinLength != n {
		t.Errorf("PolicySet: %+v", set)
	}
	after, err := c.PolicyShow(ctx, before.Org)
	if err != nil {
		t.Fatal(err)
	}
	if after.Policy.MinLength != n || after.Effective.MinLength != n {
		t.Errorf("after the change: %+v", after)
	}
}

// adminTokenClient: a client made from the relay, its pin and a token,
// with no config directory, makes the same calls.
func adminTokenClient(t *testing.T, b *testbed) {
	var st struct {
		Relay, Pin string
	}
	raw, err := os.ReadFile(filepath.Join(b.home, "relay.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	tok, err := os.ReadFile(filepath.Join(b.home, "token"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := tech.NewWithToken(st.Relay, st.Pin, strings.TrimSpace(string(tok)))
	if err != nil {
		t.Fatal(err)
	}
	if c.Home != "" || c.Relay() != b.url {
		t.Errorf("Home %q, Relay %q", c.Home, c.Relay())
	}
	devs, err := c.Devices(context.Background())
	if err != nil || len(devs) != 1 || devs[0].Name != b.device {
		t.Errorf("Devices: %+v, %v", devs, err)
	}
	bad, err := tech.NewWithToken(st.Relay, st.Pin, "tt_not-a-token")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.Users(context.Background()); err == nil {
		t.Error("a made-up token was accepted")
	}
	for _, args := range [][3]string{{"http://" + strings.TrimPrefix(st.Relay, "https://"), st.Pin, "tt_x"}, {st.Relay, "nonsense", "tt_x"}, {st.Relay, st.Pin, ""}} {
		if _, err := tech.NewWithToken(args[0], args[1], args[2]); err == nil {
			t.Errorf("NewWithToken%q accepted", args)
		}
	}
}
