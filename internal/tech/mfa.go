package tech

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"tether/internal/api"
	"tether/internal/protocol"
	"tether/internal/sanitize"
	"tether/internal/totp"
)

// MFAEnroll re-authenticates with the password (from stdin with fromStdin,
// else the terminal), then shows a QR code for an authenticator app on
// stderr and the secret on stdout. `tech mfa confirm CODE` activates it.
func (c *Client) MFAEnroll(ctx context.Context, fromStdin bool) error {
	pw, err := c.reauth(fromStdin)
	if err != nil {
		return err
	}
	var resp api.MFAEnrollResponse
	if err := c.call(ctx, http.MethodPost, protocol.PathMFAEnroll, nil, api.ReauthRequest{Password: pw}, &resp); err != nil {
		return err
	}
	qr, err := totp.QR(resp.URL)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.Stderr, "Scan this with your authenticator app, or type the secret printed below:\n\n%s\n", qr)
	fmt.Fprintln(c.Stdout, sanitize.Display(resp.Secret, 128))
	fmt.Fprintln(c.Stderr, "Then run `tech mfa confirm CODE` with the code the app shows.")
	return nil
}

// MFAConfirm activates two-factor sign-in with a first code and prints the
// ten one-time recovery codes on stdout, once.
func (c *Client) MFAConfirm(ctx context.Context, code string) error {
	var resp api.MFAConfirmResponse
	if err := c.call(ctx, http.MethodPost, protocol.PathMFAConfirm, nil, api.MFAConfirmRequest{Code: code}, &resp); err != nil {
		return err
	}
	for _, rc := range resp.RecoveryCodes {
		fmt.Fprintln(c.Stdout, sanitize.Display(rc, 64))
	}
	fmt.Fprintln(c.Stderr, "Two-factor sign-in is on: pass --totp CODE to `tech login`.\n"+
		"The recovery codes above are shown only now; each works once in place of a code. Keep them offline.")
	return nil
}

// MFADisable turns two-factor sign-in off after re-authentication.
func (c *Client) MFADisable(ctx context.Context, fromStdin bool) error {
	pw, err := c.reauth(fromStdin)
	if err != nil {
		return err
	}
	if err := c.call(ctx, http.MethodPost, protocol.PathMFADisable, nil, api.ReauthRequest{Password: pw}, nil); err != nil {
		return err
	}
	fmt.Fprintln(c.Stderr, "Two-factor sign-in is off.")
	return nil
}

// reauth reads the current password for a change of second factor.
func (c *Client) reauth(fromStdin bool) (string, error) {
	if fromStdin {
		ls, err := c.stdinLines(1)
		if err != nil {
			return "", errors.New("--password-stdin: no password on standard input")
		}
		return ls[0], nil
	}
	return c.askSecret("Password (to confirm it is you): ")
}
