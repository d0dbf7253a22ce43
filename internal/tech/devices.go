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

// devicePath returns the lifecycle path of the device called name, with
// suffix ("" for the device itself).
func devicePath(name, suffix string) string {
	return protocol.PathDevices + "/by-name/" + url.PathEscape(name) + suffix
}

// RevokeDevice revokes the device called name: its key stops working at
// once, its connection closes and its live sessions end (the agent locks
// the screen). It stays listed as revoked until removed.
func (c *Client) RevokeDevice(ctx context.Context, name string) (api.DeviceActionResult, error) {
	var resp api.DeviceActionResult
	err := c.call(ctx, http.MethodPost, devicePath(name, "/revoke"), nil, api.Empty{}, &resp)
	return resp, err
}

// RemoveDevice removes the device called name from the lists; it can
// never connect again and its name is free for a new enrollment.
func (c *Client) RemoveDevice(ctx context.Context, name string) (api.DeviceActionResult, error) {
	var resp api.DeviceActionResult
	err := c.call(ctx, http.MethodDelete, devicePath(name, ""), nil, nil, &resp)
	return resp, err
}

// RenameDevice gives the device called name the name newName.
func (c *Client) RenameDevice(ctx context.Context, name, newName string) (api.DeviceActionResult, error) {
	var resp api.DeviceActionResult
	err := c.call(ctx, http.MethodPost, devicePath(name, "/rename"), nil, api.DeviceRenameRequest{Name: newName}, &resp)
	return resp, err
}

// MoveDevice moves the device called name to group.
func (c *Client) MoveDevice(ctx context.Context, name, group string) (api.DeviceActionResult, error) {
	var resp api.DeviceActionResult
	err := c.call(ctx, http.MethodPost, devicePath(name, "/group"), nil, api.DeviceMoveRequest{Group: group}, &resp)
	return resp, err
}
