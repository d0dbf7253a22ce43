package tech

import (
	"context"
	"net/http"
	"net/url"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/protocol"
)

// AddUserOptions are the flags of `tech users add`.
type AddUserOptions struct {
	Name   string
	Role   string
	Email  string
	Org    string
	Groups []string
}

// AddUser creates a user. The answer holds its one-time temporary password,
// or State "pending" (and no password) when an administrator who can grant
// the role must approve it.
func (c *Client) AddUser(ctx context.Context, o AddUserOptions) (api.UserAdded, error) {
	body := api.AddUserRequest{Username: o.Name, Role: o.Role, Email: o.Email, Org: o.Org, Groups: o.Groups}
	var resp api.UserAdded
	err := c.call(ctx, http.MethodPost, protocol.PathUsers, nil, body, &resp)
	return resp, err
}

// Users lists the users of the caller's organisations.
func (c *Client) Users(ctx context.Context) ([]api.User, error) {
	return c.ListUsers(ctx, false)
}

// ListUsers lists the users of the caller's organisations, deleted
// accounts too with withDeleted (to put a name to an ID of the audit log).
func (c *Client) ListUsers(ctx context.Context, withDeleted bool) ([]api.User, error) {
	var q url.Values
	if withDeleted {
		q = url.Values{"all": {"1"}}
	}
	return list[api.User](ctx, c, protocol.PathUsers, q)
}

// DeleteUser deletes an account: it can no longer sign in, its sign-ins
// and live sessions end, and the audit log keeps its ID and name.
func (c *Client) DeleteUser(ctx context.Context, name string) error {
	return c.call(ctx, http.MethodDelete, protocol.PathUsers+"/"+url.PathEscape(name), nil, nil, nil)
}

// userPath returns /v1/users/NAME/rest.
func userPath(name, rest string) string {
	return protocol.PathUsers + "/" + url.PathEscape(name) + "/" + rest
}

// UserAction runs unlock, disable or enable on a user.
func (c *Client) UserAction(ctx context.Context, name, action string) error {
	return c.call(ctx, http.MethodPost, userPath(name, action), nil, api.Empty{}, nil)
}

// Approve activates a pending account; the answer holds its temporary
// password: only the approver learns it.
func (c *Client) Approve(ctx context.Context, name string) (api.UserPasswordResult, error) {
	var resp api.UserPasswordResult
	err := c.call(ctx, http.MethodPost, userPath(name, "approve"), nil, api.Empty{}, &resp)
	return resp, err
}

// SetEmail sets a user's email address ("" clears it).
func (c *Client) SetEmail(ctx context.Context, name, email string) error {
	return c.call(ctx, http.MethodPost, userPath(name, "email"), nil, api.EmailRequest{Email: email}, nil)
}

// ResetMFA turns a user's two-factor sign-in off and ends their sign-ins.
func (c *Client) ResetMFA(ctx context.Context, name string) error {
	return c.call(ctx, http.MethodPost, userPath(name, "mfa/reset"), nil, api.Empty{}, nil)
}

// ResetPassword gives a user a new temporary password, in the answer, and
// ends their sign-ins.
func (c *Client) ResetPassword(ctx context.Context, name string) (api.UserPasswordResult, error) {
	var resp api.UserPasswordResult
	err := c.call(ctx, http.MethodPost, userPath(name, "reset-password"), nil, api.Empty{}, &resp)
	return resp, err
}

// Grant gives a user a role.
func (c *Client) Grant(ctx context.Context, name, role string) error {
	return c.call(ctx, http.MethodPost, userPath(name, "roles"), nil, api.GrantRequest{Role: role}, nil)
}

// Revoke takes a role from a user, ending their sign-ins and sessions.
func (c *Client) Revoke(ctx context.Context, name, role string) error {
	return c.call(ctx, http.MethodDelete, userPath(name, "roles/"+url.PathEscape(role)), nil, nil, nil)
}

// SetGroups limits a user's unattended sessions to devices in groups (none:
// no limit).
func (c *Client) SetGroups(ctx context.Context, name string, groups []string) error {
	if groups == nil {
		groups = []string{}
	}
	return c.call(ctx, http.MethodPost, userPath(name, "groups"), nil, api.GroupsRequest{Groups: groups}, nil)
}
