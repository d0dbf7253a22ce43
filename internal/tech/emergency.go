package tech

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"tether/internal/api"
	"tether/internal/protocol"
	"tether/internal/transport"
)

// EmergencyLogin stores a break-glass token from `relay emergency-access`,
// read from standard input, as this config's sign-in after checking it with
// the relay. pin is the relay's fingerprint (else the stored one).
func (c *Client) EmergencyLogin(ctx context.Context, relayURL, pinFlag string) error {
	relay, err := transport.ParseRelayURL(relayURL)
	if err != nil {
		return err
	}
	pin, err := c.loginPin(relay, pinFlag)
	if err != nil {
		return err
	}
	if pin == "" {
		return errors.New("emergency sign-in needs the relay's fingerprint: pass --ca-fingerprint SHA256:<hex>")
	}
	ls, err := c.stdinLines(1)
	if err != nil || !strings.HasPrefix(ls[0], "tt_") {
		return errors.New("give the token `relay emergency-access` printed on standard input")
	}
	ep := transport.Endpoint{URL: relay, Pin: pin, Token: ls[0]}
	var who api.Whoami
	if err := doJSON(ctx, ep, http.MethodGet, protocol.PathWhoami, nil, nil, &who); err != nil {
		return err
	}
	c.st = &state{Relay: relay, Pin: pin, Username: who.Username}
	if err := c.saveState(); err != nil {
		return err
	}
	if err := c.saveToken(ls[0]); err != nil {
		return err
	}
	fmt.Fprintf(c.Stderr, "Emergency access to %s: every call is audited with the reason given. End it with `tech logout`.\n", relay)
	return nil
}
