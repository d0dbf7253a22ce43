package relay

import (
	"net/http"
	"strings"
	"testing"

	"github.com/tether-support/tether/internal/store"
)

// TestManagingNeedsEveryPermissionOfTheAccount checks the superset rule of
// CanManage on reset-password, the action that lets the actor sign in as
// the account, for actors and targets of every kind.
func TestManagingNeedsEveryPermissionOfTheAccount(t *testing.T) {
	s := newTestServer(t)
	root, err := s.db.UserByName("root")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.db.PutRole(&store.Role{Name: "chief", Allow: []string{"*"}, Deny: []string{"emergency.use"}}); err != nil {
		t.Fatal(err)
	}
	orgAdmin := addUser(t, s, "orgadmin", "admin")
	chief := addUser(t, s, "chief", "chief")
	scopedAdmin := addUser(t, s, "scopedadmin", "admin")
	s.db.UpdateUser(scopedAdmin.ID, func(u *store.User) error { u.DeviceGroups = []string{"ward-a"}; return nil })
	scopedAdmin.DeviceGroups = []string{"ward-a"}
	addUser(t, s, "auditor1", "auditor")
	addUser(t, s, "tech1", "technician")
	addUser(t, s, "admin2", "admin")
	scopedTech := addUser(t, s, "scopedtech", "technician")
	s.db.UpdateUser(scopedTech.ID, func(u *store.User) error { u.DeviceGroups = []string{"ward-a"}; return nil })

	tests := []struct {
		actor  *store.User
		target string
		status int
		want   string
	}{
		{orgAdmin, "auditor1", http.StatusForbidden, "who holds recording.review, which you do not hold"},
		{orgAdmin, "tech1", http.StatusOK, ""},
		{orgAdmin, "admin2", http.StatusOK, ""},
		{orgAdmin, "root", http.StatusForbidden, "not in an organisation you administer"},
		{orgAdmin, "orgadmin", http.StatusForbidden, "your own account"},
		{chief, "auditor1", http.StatusOK, ""},
		{root, "auditor1", http.StatusOK, ""},
		{root, "tech1", http.StatusForbidden, "superadmin may reset the password of only administrator accounts"},
		{scopedAdmin, "tech1", http.StatusForbidden, "may reach every device group"},
		{scopedAdmin, "scopedtech", http.StatusOK, ""},
		{orgAdmin, "chief", http.StatusForbidden, "who holds recording.review, recording.recipients, trust.manage, which you do not hold"},
		{root, "orgadmin", http.StatusOK, ""}, // last: it makes orgadmin's password temporary
	}
	for _, tt := range tests {
		code, body := call(t, s, tt.actor, http.MethodPost, "/v1/users/"+tt.target+"/reset-password")
		if code != tt.status || !strings.Contains(body, tt.want) {
			t.Errorf("%s resets %s: got %d %s, want %d %q", tt.actor.Username, tt.target, code, body, tt.status, tt.want)
		}
	}
}
