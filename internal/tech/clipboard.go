package tech

import (
	"context"
	"errors"
	"fmt"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/sanitize"
)

// ClipboardOptions are the flags of `tech clipboard send|get`.
type ClipboardOptions struct {
	Device string
	// Session reuses a live session's consent.
	Session string
	Reason  string
}

// ClipboardSet sets the device's clipboard to text (at most
// protocol.MaxClipboard bytes).
func (c *Client) ClipboardSet(ctx context.Context, o ClipboardOptions, text []byte) error {
	if len(text) > protocol.MaxClipboard {
		return fmt.Errorf("clipboard text is over the %d-byte limit", protocol.MaxClipboard)
	}
	_, err := c.clipboard(ctx, o, protocol.Clipboard{Set: true, Text: text})
	return err
}

// ClipboardGet returns the text on the device's clipboard, as sent.
func (c *Client) ClipboardGet(ctx context.Context, o ClipboardOptions) ([]byte, error) {
	resp, err := c.clipboard(ctx, o, protocol.Clipboard{})
	if err != nil {
		return nil, err
	}
	return resp.Text, nil
}

// clipboard opens a session for one clipboard request and ends it.
func (c *Client) clipboard(ctx context.Context, o ClipboardOptions, req protocol.Clipboard) (*protocol.Clipboard, error) {
	sc, err := c.Open(ctx, SessionRequest{Device: o.Device, Caps: []string{protocol.CapClipboard}, Parent: o.Session, Reason: o.Reason})
	if err != nil {
		return nil, err
	}
	defer sc.Close()
	resp, err := clipboardRoundTrip(ctx, sc, req)
	sc.End("clipboard transfer complete")
	return resp, err
}

// clipboardRoundTrip sends one clipboard request and waits for the answer.
func clipboardRoundTrip(ctx context.Context, sc *LiveSession, req protocol.Clipboard) (*protocol.Clipboard, error) {
	if err := sc.ch.SendJSON(ctx, protocol.InClipboard, req); err != nil {
		return nil, err
	}
	for {
		t, p, err := sc.ch.Recv(ctx)
		if err != nil {
			return nil, sessionError(err)
		}
		if t != protocol.InClipboard {
			continue
		}
		var resp protocol.Clipboard
		if err := protocol.DecodeJSON(p, &resp); err != nil {
			return nil, err
		}
		if resp.Error != "" {
			return nil, errors.New("device: " + sanitize.Display(resp.Error, 200))
		}
		return &resp, nil
	}
}
