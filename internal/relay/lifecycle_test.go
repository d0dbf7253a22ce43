package relay

import (
	"net/http"
	"strings"
	"testing"

	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/rbac"
	"github.com/tether-support/tether/internal/store"
)

// TestNotLastSuperadmin checks which other superadmin accounts count as
// one that can still sign in.
func TestNotLastSuperadmin(t *testing.T) {
	tests := []struct {
		name  string
		other string // state of the other superadmin account; "" for none
		ok    bool
	}{
		{"no other", "", false},
		{"active", store.UserActive, true},
		{"must change password", store.UserMustChangePassword, true},
		{"locked (unlockable on the host)", store.UserLocked, true},
		{"disabled", store.UserDisabled, false},
		{"pending", store.UserPending, false},
		{"deleted", store.UserDeleted, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestServer(t)
			root, err := s.db.UserByName("root")
			if err != nil {
				t.Fatal(err)
			}
			addUser(t, s, "tech1", rbac.Technician)
			if tc.other != "" {
				u := addUser(t, s, "sa2", rbac.Superadmin)
				s.db.UpdateUser(u.ID, func(u *store.User) error { u.State = tc.other; return nil })
			}
			err = s.notLastSuperadmin(root, "delete")
			if (err == nil) != tc.ok {
				t.Errorf("notLastSuperadmin = %v, want ok %v", err, tc.ok)
			}
			if err != nil && !strings.Contains(err.Error(), "last superadmin") {
				t.Errorf("refusal %q does not say why", err)
			}
			tech, _ := s.db.UserByName("tech1")
			if err := s.notLastSuperadmin(tech, "delete"); err != nil {
				t.Errorf("a technician counted as the last superadmin: %v", err)
			}
		})
	}
}

// TestEmailTaken checks the uniqueness rule: case is ignored, the
// account's own address and deleted accounts' addresses do not count.
func TestEmailTaken(t *testing.T) {
	all := []store.User{
		{ID: "u_1", Email: "Carol@Clinic.example", State: store.UserActive},
		{ID: "u_2", Email: "gone@clinic.example", State: store.UserDeleted},
		{ID: "u_3", State: store.UserActive},
	}
	tests := []struct {
		self  string
		email string
		taken bool
	}{
		{"u_9", "carol@clinic.example", true},
		{"u_9", "CAROL@CLINIC.EXAMPLE", true},
		{"u_1", "carol@clinic.example", false},
		{"u_9", "gone@clinic.example", false},
		{"u_9", "", false},
		{"u_9", "dave@clinic.example", false},
	}
	for _, tc := range tests {
		err := emailTaken(all, &store.User{ID: ids.UserID(tc.self)}, tc.email)
		if (err != nil) != tc.taken {
			t.Errorf("emailTaken(%s, %q) = %v, want taken %v", tc.self, tc.email, err, tc.taken)
		}
	}
}

// tokenFor signs u in and returns the bearer token.
func tokenFor(t *testing.T, s *Server, u *store.User) string {
	t.Helper()
	resp, err := s.issueToken(u)
	if err != nil {
		t.Fatal(err)
	}
	return resp.Token
}

// TestDeviceLifecycleAnswers runs the lifecycle routes against the relay
// in-process: statuses, what a revoked or removed device looks like
// afterwards, and that the changes are stored.
func TestDeviceLifecycleAnswers(t *testing.T) {
	s := newTestServer(t)
	admin := addUser(t, s, "adm", rbac.Admin)
	for _, n := range []string{"pc1", "pc2"} {
		if err := s.db.CreateDevice(&store.Device{Name: n, Group: "default", PublicKey: []byte(n + strings.Repeat("k", 29))}); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		method, path, body string
		want               int
	}{
		{http.MethodPost, "/v1/devices/by-name/pc1/rename", `{"name":"pc2"}`, http.StatusConflict},
		{http.MethodPost, "/v1/devices/by-name/pc1/rename", `{"name":"../x"}`, http.StatusBadRequest},
		{http.MethodPost, "/v1/devices/by-name/pc1/rename", `{"name":"pc3"}`, http.StatusOK},
		{http.MethodPost, "/v1/devices/by-name/pc1/revoke", ``, http.StatusNotFound},
		{http.MethodPost, "/v1/devices/by-name/pc3/group", `{"group":"lab"}`, http.StatusOK},
		{http.MethodPost, "/v1/devices/by-name/pc3/revoke", ``, http.StatusOK},
		{http.MethodPost, "/v1/devices/by-name/pc3/revoke", ``, http.StatusConflict},
		{http.MethodDelete, "/v1/devices/by-name/pc3", ``, http.StatusOK},
		{http.MethodDelete, "/v1/devices/by-name/pc3", ``, http.StatusNotFound},
		{http.MethodPost, "/v1/devices/by-name/pc3/rename", `{"name":"pc4"}`, http.StatusNotFound},
	}
	tok := tokenFor(t, s, admin)
	for _, st := range steps {
		if code, body := send(s, tok, st.method, st.path, st.body); code != st.want {
			t.Errorf("%s %s %s: %d %s, want %d", st.method, st.path, st.body, code, body, st.want)
		}
	}
	ds, err := s.db.ListDevices()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if d.Name == "pc3" && (d.Group != "lab" || d.RevokedAt.IsZero() || d.RemovedAt.IsZero() || d.RemovedBy != admin.ID) {
			t.Errorf("pc3 after rename, move, revoke and remove: %+v", d)
		}
	}
	if code, body := send(s, tok, http.MethodGet, "/v1/devices", ""); code != http.StatusOK || strings.Contains(body, "pc3") || !strings.Contains(body, "pc2") {
		t.Errorf("device list after removal: %d %s", code, body)
	}
}

// TestUserVisible checks which accounts a user list shows a caller limited
// to device groups: their own and those limited to some of their groups.
func TestUserVisible(t *testing.T) {
	s := newTestServer(t)
	mk := func(name string, groups ...string) *store.User {
		u := addUser(t, s, name, rbac.Technician)
		u.DeviceGroups = groups
		return u
	}
	scoped := mk("wadmin", "ward", "desk")
	unscoped := mk("boss")
	p := &principal{user: scoped}
	tests := []struct {
		u    *store.User
		want bool
	}{
		{scoped, true},
		{mk("tina", "ward"), true},
		{mk("dora", "desk", "ward"), true},
		{mk("wendy", "ward", "lab"), false},
		{mk("lara", "lab"), false},
		{unscoped, false},
	}
	for _, tc := range tests {
		if got := s.userVisible(p, tc.u); got != tc.want {
			t.Errorf("scoped caller sees %s (groups %v): %v, want %v", tc.u.Username, tc.u.DeviceGroups, got, tc.want)
		}
		if !s.userVisible(&principal{user: unscoped}, tc.u) {
			t.Errorf("an unscoped caller of the same organisation does not see %s", tc.u.Username)
		}
	}
}
