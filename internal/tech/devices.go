package tech

import (
	"context"
	"net/http"
	"net/url"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/protocol"
)

// EnrollToken asks the relay for a one-time device enrollment token for
// group ("" for the default).
func (c *Client) EnrollToken(ctx context.Context, group string) (api.EnrollTokenResponse, error) {
	var resp api.EnrollTokenResponse
	err := c.call(ctx, http.MethodPost, protocol.PathEnrollToken, nil, api.EnrollTokenRequest{Group: group}, &resp)
	return resp, err
}

// Devices lists the enrolled devices.
func (c *Client) Devices(ctx context.Context) ([]api.Device, error) {
	return list[api.Device](ctx, c, protocol.PathDevices, nil)
}

// SetGroupPolicy sets a device group's consent policy: "consent" or
// "unattended".
func (c *Client) SetGroupPolicy(ctx context.Context, group, policy string) error {
	path := protocol.PathDevices + "/groups/" + url.PathEscape(group)
	return c.call(ctx, http.MethodPost, path, nil, api.GroupPolicyRequest{Policy: policy}, nil)
}
