package tech

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"tether/internal/api"
	"tether/internal/protocol"
	"tether/internal/sanitize"
)

// EnrollToken asks the relay for a one-time device enrollment token and
// prints it on stdout.
func (c *Client) EnrollToken(ctx context.Context, group string) error {
	var resp api.EnrollTokenResponse
	if err := c.call(ctx, http.MethodPost, protocol.PathEnrollToken, nil, api.EnrollTokenRequest{Group: group}, &resp); err != nil {
		return err
	}
	fmt.Fprintln(c.Stdout, sanitize.Display(resp.Token, 256))
	fmt.Fprintf(c.Stderr, "One-time token for group %q, valid until %s.\nOn the device run: agent enroll --relay %s --token <token>\n",
		resp.Group, resp.ExpiresAt.Local().Format(time.RFC1123), c.st.Relay)
	return nil
}

// Devices lists enrolled devices, as a table or JSON.
func (c *Client) Devices(ctx context.Context, asJSON bool) error {
	return printList(ctx, c, protocol.PathDevices, nil, asJSON, "NAME\tGROUP\tSTATE\tLAST SEEN", func(d api.Device) string {
		st := "offline"
		if d.Online {
			st = "online"
		}
		seen := "-"
		if !d.LastSeen.IsZero() {
			seen = d.LastSeen.Local().Format(time.DateTime)
		}
		return fmt.Sprintf("%s\t%s\t%s\t%s", sanitize.Display(d.Name, 63), sanitize.Display(d.Group, 63), st, seen)
	})
}

// SetGroupPolicy sets a device group's consent policy: "consent" or
// "unattended".
func (c *Client) SetGroupPolicy(ctx context.Context, group, policy string) error {
	path := protocol.PathDevices + "/groups/" + url.PathEscape(group)
	if err := c.call(ctx, http.MethodPost, path, nil, api.GroupPolicyRequest{Policy: policy}, nil); err != nil {
		return err
	}
	fmt.Fprintf(c.Stderr, "Group %q now uses the %s policy.\n", group, policy)
	return nil
}
