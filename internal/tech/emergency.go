package tech

import (
	"context"
	"errors"
	"net/http"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/transport"
)

// EmergencyLogin stores a break-glass token from `relay emergency-access`
// as this config's sign-in after checking it with the relay, and returns
// the relay's URL. pinFlag is the relay's fingerprint (else the stored
// one); token is asked for once the relay and pin are known good.
func (c *Client) EmergencyLogin(ctx context.Context, relayURL, pinFlag string, token func() (string, error)) (string, error) {
	relay, err := transport.ParseRelayURL(relayURL)
	if err != nil {
		return "", err
	}
	pin, err := c.loginPin(relay, pinFlag)
	if err != nil {
		return "", err
	}
	if pin == "" {
		return "", errors.New("emergency sign-in needs the relay's fingerprint: pass --ca-fingerprint SHA256:<hex>")
	}
	tok, err := token()
	if err != nil {
		return "", err
	}
	ep := transport.Endpoint{URL: relay, Pin: pin, Token: tok}
	var who api.Whoami
	if err := doJSON(ctx, ep, http.MethodGet, protocol.PathWhoami, nil, nil, &who); err != nil {
		return "", err
	}
	c.st = &state{Relay: relay, Pin: pin, Username: who.Username}
	if err := c.saveState(); err != nil {
		return "", err
	}
	if err := c.saveToken(tok); err != nil {
		return "", err
	}
	return relay, nil
}
