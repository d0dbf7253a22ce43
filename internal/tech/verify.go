package tech

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"

	"tether/internal/protocol"
)

// verifyCode asks the technician to type the code the end user reads out
// and refuses to go on unless it matches the one derived here.
func (c *Client) verifyCode(ctx context.Context, sc *session) error {
	fmt.Fprintf(c.Stderr, "Ask the end user to read the security code shown on their screen, and type it here: ")
	line, err := bufio.NewReader(c.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return errors.New("no security code typed; session abandoned")
	}
	if normCode(line) != normCode(sc.ch.SecurityCode) {
		sc.end("the security codes did not match")
		return fmt.Errorf("security code mismatch: the end user's screen does not show %s — someone may be intercepting the session; it was ended", sc.ch.SecurityCode)
	}
	fmt.Fprintln(c.Stderr, "Security code confirmed.")
	return sc.ch.Send(ctx, protocol.InVerified, nil)
}

// normCode keeps only the digits of a typed code.
func normCode(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}
