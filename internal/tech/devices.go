package tech

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"tether/internal/protocol"
	"tether/internal/sanitize"
)

// EnrollToken asks the relay for a one-time device enrollment token and
// prints it on stdout.
func (c *Client) EnrollToken(ctx context.Context, group string) error {
	var resp struct {
		Token     string    `json:"token"`
		Group     string    `json:"group"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	if err := c.call(ctx, http.MethodPost, protocol.PathEnrollToken, nil, map[string]string{"group": group}, &resp); err != nil {
		return err
	}
	fmt.Fprintln(c.Stdout, sanitize.Display(resp.Token, 256))
	fmt.Fprintf(c.Stderr, "One-time token for group %q, valid until %s.\nOn the device run: agent enroll --relay %s --token <token>\n",
		resp.Group, resp.ExpiresAt.Local().Format(time.RFC1123), c.st.Relay)
	return nil
}

// Device is one row of `tech devices list`.
type Device struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	Group    string    `json:"group"`
	Online   bool      `json:"online"`
	LastSeen time.Time `json:"last_seen,omitzero"`
	Enrolled time.Time `json:"enrolled_at"`
}

// Devices lists enrolled devices, as a table or JSON.
func (c *Client) Devices(ctx context.Context, asJSON bool) error {
	return printList(ctx, c, protocol.PathDevices, nil, asJSON, "NAME\tGROUP\tSTATE\tLAST SEEN", func(d Device) string {
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
	if err := c.call(ctx, http.MethodPost, path, nil, map[string]string{"policy": policy}, nil); err != nil {
		return err
	}
	fmt.Fprintf(c.Stderr, "Group %q now uses the %s policy.\n", group, policy)
	return nil
}
