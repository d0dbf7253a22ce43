package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/sanitize"
)

// printUserAdded prints a new user's temporary password on stdout and what
// to do with it on stderr; for a pending account, who must approve it.
func printUserAdded(stdout, stderr io.Writer, resp api.UserAdded, role string) {
	name, r := sanitize.Display(resp.Username, 64), sanitize.Display(role, 32)
	if resp.State == "pending" {
		fmt.Fprintf(stderr, "Created %s (role %s), pending: you cannot grant %s, so an administrator who can\n"+
			"(for a role beyond admin, such as auditor: the service superadmin) must run `tech users approve %s`;\n"+
			"the temporary password is given to them, not to you.\n", name, r, r, name)
		return
	}
	fmt.Fprintln(stdout, sanitize.Display(resp.TemporaryPassword, 128))
	fmt.Fprintf(stderr, "Created %s (role %s). The temporary password above works once: it must be changed at the first sign-in.\n", name, r)
}

// userRow is one element of `tech users list --json`, the shape
// docs/cli.md documents (the relay's api.User carries more).
type userRow struct {
	ID           ids.UserID `json:"id"`
	Username     string     `json:"username"`
	Email        string     `json:"email,omitempty"`
	Roles        []string   `json:"roles"`
	Orgs         []string   `json:"orgs"`
	DeviceGroups []string   `json:"device_groups,omitempty"`
	State        string     `json:"state"`
	MFA          bool       `json:"mfa"`
	FailedLogins int        `json:"failed_logins"`
	LastLoginAt  time.Time  `json:"last_login_at,omitzero"`
	DeletedAt    time.Time  `json:"deleted_at,omitzero"`
}

// newUserRow is u as `tech users list --json` prints it.
func newUserRow(u api.User) userRow {
	return userRow{ID: u.ID, Username: u.Username, Email: u.Email, Roles: u.Roles, Orgs: u.Orgs,
		DeviceGroups: u.DeviceGroups, State: u.State, MFA: u.MFA, FailedLogins: u.FailedLogins,
		LastLoginAt: u.LastLoginAt, DeletedAt: u.DeletedAt}
}

// printUsers prints users as a table or JSON.
func printUsers(w io.Writer, us []api.User, asJSON bool) error {
	return printRows(w, us, asJSON, "USERNAME\tSTATE\tROLES\tORGS\tMFA\tFAILED\tLAST SIGN-IN\tID", func(u api.User) string {
		last := "-"
		if !u.LastLoginAt.IsZero() {
			last = u.LastLoginAt.Local().Format(time.DateTime)
		}
		return fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s", sanitize.Display(u.Username, 64), u.State,
			strings.Join(u.Roles, ","), sanitize.Display(strings.Join(u.Orgs, ","), 80), yesNo(u.MFA), u.FailedLogins, last, u.ID)
	}, newUserRow)
}

// userDone tells of a change to the user name: "NAME done.".
func userDone(stderr io.Writer, name, done string) {
	fmt.Fprintf(stderr, "%s %s.\n", sanitize.Display(name, 64), done)
}
