package tech

import (
	"context"
	"net/http"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/protocol"
)

// MFAEnroll starts two-factor enrolment, re-authenticating with the
// current password. The answer holds the secret and its otpauth URL (for a
// QR code); MFAConfirm with a first code activates it.
func (c *Client) MFAEnroll(ctx context.Context, password string) (api.MFAEnrollResponse, error) {
	var resp api.MFAEnrollResponse
	err := c.call(ctx, http.MethodPost, protocol.PathMFAEnroll, nil, api.ReauthRequest{Password: password}, &resp)
	return resp, err
}

// MFAConfirm activates two-factor sign-in with a first code; the answer
// holds the ten one-time recovery codes, given only now.
func (c *Client) MFAConfirm(ctx context.Context, code string) (api.MFAConfirmResponse, error) {
	var resp api.MFAConfirmResponse
	err := c.call(ctx, http.MethodPost, protocol.PathMFAConfirm, nil, api.MFAConfirmRequest{Code: code}, &resp)
	return resp, err
}

// MFADisable turns two-factor sign-in off, re-authenticating with the
// current password.
func (c *Client) MFADisable(ctx context.Context, password string) error {
	return c.call(ctx, http.MethodPost, protocol.PathMFADisable, nil, api.ReauthRequest{Password: password}, nil)
}
