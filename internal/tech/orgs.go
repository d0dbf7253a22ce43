package tech

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"tether/internal/api"
	"tether/internal/protocol"
	"tether/internal/sanitize"
)

// Orgs lists the caller's organisations (every one for a superadmin).
func (c *Client) Orgs(ctx context.Context, asJSON bool) error {
	return printList(ctx, c, protocol.PathOrgs, nil, asJSON, "ORG\tMEMBERS\tMIN LENGTH\tLOCKOUT\tIDLE\tMFA", func(o api.Org) string {
		return fmt.Sprintf("%s\t%d\t%d\t%d\t%s\t%v", sanitize.Display(o.Name, 63), o.Members, o.Policy.MinLength,
			o.Policy.LockoutThreshold, o.Policy.IdleTimeout, o.Policy.RequireMFA)
	})
}

// CreateOrg creates an organisation with the default policy; the caller
// becomes a member.
func (c *Client) CreateOrg(ctx context.Context, name string) error {
	if err := c.call(ctx, http.MethodPost, protocol.PathOrgs, nil, api.OrgRequest{Name: name}, nil); err != nil {
		return err
	}
	fmt.Fprintf(c.Stderr, "Organisation %s created with the default policy; you are a member.\n", name)
	return nil
}

// AddMember puts a user into an organisation.
func (c *Client) AddMember(ctx context.Context, org, user string) error {
	if err := c.call(ctx, http.MethodPost, userPath(user, "orgs"), nil, api.OrgRequest{Name: org}, nil); err != nil {
		return err
	}
	fmt.Fprintf(c.Stderr, "%s is now a member of %s; the strictest policy of their organisations applies.\n", sanitize.Display(user, 64), org)
	return nil
}

// RemoveMember takes a user out of an organisation.
func (c *Client) RemoveMember(ctx context.Context, org, user string) error {
	if err := c.call(ctx, http.MethodDelete, userPath(user, "orgs/"+url.PathEscape(org)), nil, nil, nil); err != nil {
		return err
	}
	fmt.Fprintf(c.Stderr, "%s is no longer a member of %s.\n", sanitize.Display(user, 64), org)
	return nil
}
