package tech

import (
	"context"
	"fmt"
	"net/http"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/password"
	"github.com/tether-support/tether/internal/protocol"
)

// Passwd changes the signed-in user's password from current to next,
// ending their other sign-ins. next is checked against the local rules
// first.
func (c *Client) Passwd(ctx context.Context, current, next string) error {
	if err := password.Check([]byte(next)); err != nil {
		return fmt.Errorf("new password rejected: %w", err)
	}
	body := api.PasswdRequest{Current: current, New: next}
	return c.call(ctx, http.MethodPost, protocol.PathPasswd, nil, body, nil)
}
