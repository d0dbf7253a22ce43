package tech

import (
	"context"
	"errors"
	"fmt"
	"io"

	"tether/internal/protocol"
	"tether/internal/sanitize"
)

// ClipboardOptions are the flags of `tech clipboard send|get`.
type ClipboardOptions struct {
	Device string
	Set    bool // send: set the device's clipboard from stdin
	// Session reuses a live session's consent.
	Session string
	Reason  string
}

// Clipboard sets the device's clipboard from stdin, or prints it.
func (c *Client) Clipboard(ctx context.Context, o ClipboardOptions) error {
	req := protocol.Clipboard{Set: o.Set}
	if o.Set {
		b, err := io.ReadAll(io.LimitReader(c.Stdin, protocol.MaxClipboard+1))
		if err != nil {
			return err
		}
		if len(b) > protocol.MaxClipboard {
			return fmt.Errorf("clipboard text is over the %d-byte limit", protocol.MaxClipboard)
		}
		req.Text = b
	}
	sc, err := c.open(ctx, ConnectOptions{Device: o.Device, Caps: []string{protocol.CapClipboard}, Parent: o.Session, Reason: o.Reason})
	if err != nil {
		return err
	}
	defer sc.close()
	resp, err := clipboardRoundTrip(ctx, sc, req)
	sc.end("clipboard transfer complete")
	if err != nil {
		return err
	}
	if o.Set {
		fmt.Fprintf(c.Stderr, "Set the clipboard on %s (%d bytes).\n", o.Device, len(req.Text))
		return nil
	}
	text := resp.Text
	if isTerminal(c.Stdout) {
		text = []byte(sanitize.Text(string(text)))
	}
	_, err = c.Stdout.Write(text)
	return err
}

// clipboardRoundTrip sends one clipboard request and waits for the answer.
func clipboardRoundTrip(ctx context.Context, sc *session, req protocol.Clipboard) (*protocol.Clipboard, error) {
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
