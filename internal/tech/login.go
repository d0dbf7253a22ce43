package tech

import (
	"context"
	"errors"
	"net/http"
	"os"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/tlsconf"
	"github.com/tether-support/tether/internal/transport"
)

// LoginOptions are the flags of `tech login`.
type LoginOptions struct {
	Relay string
	User  string
	// Password is asked for once the relay URL and pin are known good.
	Password func() (string, error)
	TOTP     string
	Pin      string // --ca-fingerprint
}

// LoginResult is what a sign-in learnt.
type LoginResult struct {
	// Relay is the relay's URL as stored.
	Relay string
	// Username is the name the relay signed in, as the relay wrote it.
	Username string
	// MustChangePassword: only `tech passwd` works until it is changed.
	MustChangePassword bool
	// FirstUsePin is the relay's fingerprint when no pin was given or
	// stored and its key was trusted on first use (and is now pinned).
	FirstUsePin string
}

// Login signs in and stores the token (mode 0600) and the relay pin in
// Home. With no pin given or stored, the relay's key is trusted on first
// use and pinned. The result is filled as far as the sign-in got: an error
// storing the token still reports a key trusted on first use.
func (c *Client) Login(ctx context.Context, o LoginOptions) (LoginResult, error) {
	relay, err := transport.ParseRelayURL(o.Relay)
	if err != nil {
		return LoginResult{}, err
	}
	pin, err := c.loginPin(relay, o.Pin)
	if err != nil {
		return LoginResult{}, err
	}
	if o.Password == nil {
		return LoginResult{}, errors.New("no way to ask for the password")
	}
	pw, err := o.Password()
	if err != nil {
		return LoginResult{}, err
	}
	firstUse, next, sawNext := "", c.storedNextPin(relay, o.Pin), false
	ep := transport.Endpoint{URL: relay, Pin: pin, OnFirstUse: func(fp string) { firstUse = fp },
		NextPin: next, OnNextPin: func(string) { sawNext = true }}
	var resp api.LoginResponse
	body := api.LoginRequest{Username: o.User, Password: pw, TOTP: o.TOTP}
	hdr, err := doJSONHeader(ctx, ep, http.MethodPost, protocol.PathLogin, nil, body, &resp)
	if err != nil {
		return LoginResult{}, err
	}
	res := LoginResult{Relay: relay, Username: resp.Username, MustChangePassword: resp.MustChangePassword, FirstUsePin: firstUse}
	if firstUse != "" {
		pin = firstUse
	}
	if sawNext {
		pin, next = next, ""
	}
	c.st = &state{Relay: relay, Pin: pin, NextPin: next, Username: resp.Username}
	if err := c.saveState(); err != nil {
		return res, err
	}
	if err := c.learnNextPin(hdr); err != nil {
		return res, err
	}
	if err := c.saveToken(resp.Token); err != nil {
		return res, err
	}
	if !resp.MustChangePassword {
		// Best effort: an older relay has no place for it, and the
		// session set-up uploads it again while there is no certificate.
		c.uploadTechKey(ctx)
	}
	return res, nil
}

// loginPin chooses the pin: the flag, else the one stored for this relay.
func (c *Client) loginPin(relay, flag string) (string, error) {
	if flag != "" {
		return tlsconf.ParseFingerprint(flag)
	}
	if c.st != nil && c.st.Relay == relay {
		return c.st.Pin, nil
	}
	return "", nil
}

// storedNextPin is the next pin stored for relay, when no pin is given.
func (c *Client) storedNextPin(relay, flag string) string {
	if flag != "" || c.st == nil || c.st.Relay != relay {
		return ""
	}
	return c.st.NextPin
}

// Logout ends the token on the relay and deletes it from Home. A token the
// relay no longer knows is still deleted locally.
func (c *Client) Logout(ctx context.Context) error {
	err := c.call(ctx, http.MethodPost, protocol.PathLogout, nil, nil, nil)
	var he *transport.HTTPError
	if err != nil && !(errors.As(err, &he) && he.Status == http.StatusUnauthorized) {
		return err
	}
	if c.Home == "" {
		return nil
	}
	if rerr := os.Remove(c.tokenPath()); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
		return rerr
	}
	return nil
}
