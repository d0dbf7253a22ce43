package tech

import (
	"context"
	"net/http"
	"net/url"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/protocol"
)

// Roles lists the built-in and custom roles.
func (c *Client) Roles(ctx context.Context) ([]api.Role, error) {
	return list[api.Role](ctx, c, protocol.PathRoles, nil)
}

// PutRole creates or replaces a custom role and returns it as the relay
// saved it (with the permissions it grants in Effective).
func (c *Client) PutRole(ctx context.Context, name string, allow, deny []string, desc string) (api.Role, error) {
	body := api.RoleRequest{Name: name, Allow: allow, Deny: deny, Description: desc}
	var r api.Role
	err := c.call(ctx, http.MethodPost, protocol.PathRoles, nil, body, &r)
	return r, err
}

// DeleteRole deletes a custom role; its holders lose it and are signed out.
func (c *Client) DeleteRole(ctx context.Context, name string) error {
	return c.call(ctx, http.MethodDelete, protocol.PathRoles+"/"+url.PathEscape(name), nil, nil, nil)
}
