package tech

import (
	"context"
	"net/http"
	"net/url"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/protocol"
)

// Orgs lists the caller's organisations (every one for a superadmin).
func (c *Client) Orgs(ctx context.Context) ([]api.Org, error) {
	return list[api.Org](ctx, c, protocol.PathOrgs, nil)
}

// CreateOrg creates an organisation with the default policy; the caller
// becomes a member.
func (c *Client) CreateOrg(ctx context.Context, name string) error {
	return c.call(ctx, http.MethodPost, protocol.PathOrgs, nil, api.OrgRequest{Name: name}, nil)
}

// AddMember puts a user into an organisation.
func (c *Client) AddMember(ctx context.Context, org, user string) error {
	return c.call(ctx, http.MethodPost, userPath(user, "orgs"), nil, api.OrgRequest{Name: org}, nil)
}

// RemoveMember takes a user out of an organisation.
func (c *Client) RemoveMember(ctx context.Context, org, user string) error {
	return c.call(ctx, http.MethodDelete, userPath(user, "orgs/"+url.PathEscape(org)), nil, nil, nil)
}
