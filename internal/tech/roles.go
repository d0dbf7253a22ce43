package tech

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"tether/internal/api"
	"tether/internal/protocol"
	"tether/internal/sanitize"
)

// Roles lists the built-in and custom roles.
func (c *Client) Roles(ctx context.Context, asJSON bool) error {
	return printList(ctx, c, protocol.PathRoles, nil, asJSON, "ROLE\tKIND\tALLOW\tDENY", func(r api.Role) string {
		kind := "custom"
		if r.Builtin {
			kind = "built-in"
		}
		return fmt.Sprintf("%s\t%s\t%s\t%s", r.Name, kind, strings.Join(r.Allow, ","), strings.Join(r.Deny, ","))
	})
}

// PutRole creates or replaces a custom role.
func (c *Client) PutRole(ctx context.Context, name string, allow, deny []string, desc string) error {
	body := api.RoleRequest{Name: name, Allow: allow, Deny: deny, Description: desc}
	var r api.Role
	if err := c.call(ctx, http.MethodPost, protocol.PathRoles, nil, body, &r); err != nil {
		return err
	}
	fmt.Fprintf(c.Stderr, "Role %s saved; it grants: %s\n", sanitize.Display(r.Name, 64), sanitize.Display(strings.Join(r.Effective, ", "), 0))
	return nil
}

// DeleteRole deletes a custom role; its holders lose it and are signed out.
func (c *Client) DeleteRole(ctx context.Context, name string) error {
	if err := c.call(ctx, http.MethodDelete, protocol.PathRoles+"/"+url.PathEscape(name), nil, nil, nil); err != nil {
		return err
	}
	fmt.Fprintf(c.Stderr, "Role %s deleted; its holders were signed out.\n", name)
	return nil
}
