package tech

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"tether/internal/api"
	"tether/internal/ids"
	"tether/internal/protocol"
	"tether/internal/sanitize"
)

// AddUserOptions are the flags of `tech users add`.
type AddUserOptions struct {
	Name   string
	Role   string
	Email  string
	Org    string
	Groups []string
}

// AddUser creates a user and prints its one-time temporary password on
// stdout.
func (c *Client) AddUser(ctx context.Context, o AddUserOptions) error {
	body := api.AddUserRequest{Username: o.Name, Role: o.Role, Email: o.Email, Org: o.Org, Groups: o.Groups}
	var resp api.UserAdded
	if err := c.call(ctx, http.MethodPost, protocol.PathUsers, nil, body, &resp); err != nil {
		return err
	}
	if resp.State == "pending" {
		fmt.Fprintf(c.Stderr, "Created %s (role %s), pending: you cannot grant %s, so an administrator who can\n"+
			"(for a role beyond admin, such as auditor: the service superadmin) must run `tech users approve %s`;\n"+
			"the temporary password is given to them, not to you.\n",
			sanitize.Display(resp.Username, 64), sanitize.Display(o.Role, 32), sanitize.Display(o.Role, 32), sanitize.Display(resp.Username, 64))
		return nil
	}
	fmt.Fprintln(c.Stdout, sanitize.Display(resp.TemporaryPassword, 128))
	fmt.Fprintf(c.Stderr, "Created %s (role %s). The temporary password above works once: it must be changed at the first sign-in.\n",
		sanitize.Display(resp.Username, 64), sanitize.Display(o.Role, 32))
	return nil
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
}

// newUserRow is u as `tech users list --json` prints it.
func newUserRow(u api.User) userRow {
	return userRow{ID: u.ID, Username: u.Username, Email: u.Email, Roles: u.Roles, Orgs: u.Orgs,
		DeviceGroups: u.DeviceGroups, State: u.State, MFA: u.MFA, FailedLogins: u.FailedLogins}
}

// Users lists the users of the caller's organisations.
func (c *Client) Users(ctx context.Context, asJSON bool) error {
	return printRows(ctx, c, protocol.PathUsers, nil, asJSON, "USERNAME\tSTATE\tROLES\tORGS\tMFA\tFAILED\tID", func(u api.User) string {
		return fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%d\t%s", sanitize.Display(u.Username, 64), u.State,
			strings.Join(u.Roles, ","), sanitize.Display(strings.Join(u.Orgs, ","), 80), yesNo(u.MFA), u.FailedLogins, u.ID)
	}, newUserRow)
}

// userPath returns /v1/users/NAME/rest.
func userPath(name, rest string) string {
	return protocol.PathUsers + "/" + url.PathEscape(name) + "/" + rest
}

// UserAction runs unlock, disable or enable on a user.
func (c *Client) UserAction(ctx context.Context, name, action, done string) error {
	if err := c.call(ctx, http.MethodPost, userPath(name, action), nil, api.Empty{}, nil); err != nil {
		return err
	}
	fmt.Fprintf(c.Stderr, "%s %s.\n", sanitize.Display(name, 64), done)
	return nil
}

// Approve activates a pending account and prints its temporary password on
// stdout: only the approver learns it.
func (c *Client) Approve(ctx context.Context, name string) error {
	var resp api.UserPasswordResult
	if err := c.call(ctx, http.MethodPost, userPath(name, "approve"), nil, api.Empty{}, &resp); err != nil {
		return err
	}
	fmt.Fprintln(c.Stdout, resp.TemporaryPassword)
	fmt.Fprintf(c.Stderr, "%s approved. Give them the temporary password above; it must be changed at the first sign-in.\n", sanitize.Display(name, 64))
	return nil
}

// SetEmail sets a user's email address ("" clears it).
func (c *Client) SetEmail(ctx context.Context, name, email string) error {
	if err := c.call(ctx, http.MethodPost, userPath(name, "email"), nil, api.EmailRequest{Email: email}, nil); err != nil {
		return err
	}
	if email == "" {
		fmt.Fprintf(c.Stderr, "%s has no email address now.\n", sanitize.Display(name, 64))
	} else {
		fmt.Fprintf(c.Stderr, "%s's email address is now %s.\n", sanitize.Display(name, 64), sanitize.Display(email, 254))
	}
	return nil
}

// ResetMFA turns a user's two-factor sign-in off and ends their sign-ins.
func (c *Client) ResetMFA(ctx context.Context, name string) error {
	if err := c.call(ctx, http.MethodPost, userPath(name, "mfa/reset"), nil, api.Empty{}, nil); err != nil {
		return err
	}
	fmt.Fprintf(c.Stderr, "Two-factor sign-in of %s is off and their sign-ins were ended; they enrol again with `tech mfa enroll`.\n", sanitize.Display(name, 64))
	return nil
}

// ResetPassword gives a user a new temporary password, printed on stdout,
// and ends their sign-ins.
func (c *Client) ResetPassword(ctx context.Context, name string) error {
	var resp api.UserPasswordResult
	if err := c.call(ctx, http.MethodPost, userPath(name, "reset-password"), nil, api.Empty{}, &resp); err != nil {
		return err
	}
	fmt.Fprintln(c.Stdout, sanitize.Display(resp.TemporaryPassword, 128))
	fmt.Fprintf(c.Stderr, "New temporary password for %s above; it must be changed at the next sign-in. Their sign-ins were ended.\n", sanitize.Display(name, 64))
	return nil
}

// Grant gives a user a role.
func (c *Client) Grant(ctx context.Context, name, role string) error {
	if err := c.call(ctx, http.MethodPost, userPath(name, "roles"), nil, api.GrantRequest{Role: role}, nil); err != nil {
		return err
	}
	fmt.Fprintf(c.Stderr, "%s now holds role %s.\n", sanitize.Display(name, 64), role)
	return nil
}

// Revoke takes a role from a user, ending their sign-ins and sessions.
func (c *Client) Revoke(ctx context.Context, name, role string) error {
	if err := c.call(ctx, http.MethodDelete, userPath(name, "roles/"+url.PathEscape(role)), nil, nil, nil); err != nil {
		return err
	}
	fmt.Fprintf(c.Stderr, "Role %s taken from %s; their sign-ins and live sessions were ended.\n", role, sanitize.Display(name, 64))
	return nil
}

// SetGroups limits a user's unattended sessions to devices in groups (none:
// no limit).
func (c *Client) SetGroups(ctx context.Context, name string, groups []string) error {
	if groups == nil {
		groups = []string{}
	}
	if err := c.call(ctx, http.MethodPost, userPath(name, "groups"), nil, api.GroupsRequest{Groups: groups}, nil); err != nil {
		return err
	}
	if len(groups) == 0 {
		fmt.Fprintf(c.Stderr, "%s may reach devices of every group.\n", sanitize.Display(name, 64))
	} else {
		fmt.Fprintf(c.Stderr, "%s may reach devices of groups %s only.\n", sanitize.Display(name, 64), strings.Join(groups, ", "))
	}
	return nil
}
