package tech

import (
	"fmt"
	"net/http"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/tlsconf"
)

// The relay's certificate rotation, as a technician's client follows it
// (PROTOCOL.md section 2, TLS): a next pin the relay announces on an
// answer to a signed-in call, over a connection verified against the
// current pin, is stored beside it in relay.json (next_pin); once the
// relay presents the next key, it becomes the pin and the old one is
// dropped.

// pins returns the relay's pin and announced next pin.
func (c *Client) pins() (pin, next string) {
	c.pinMu.Lock()
	defer c.pinMu.Unlock()
	if c.st == nil {
		return "", ""
	}
	return c.st.Pin, c.st.NextPin
}

// learnNextPin stores the next pin an answer announced (h's
// protocol.HeaderNextPin), if any. A malformed one is refused and changes
// nothing.
func (c *Client) learnNextPin(h http.Header) error {
	v := h.Get(protocol.HeaderNextPin)
	if v == "" {
		return nil
	}
	next, err := tlsconf.ParseFingerprint(v)
	if err != nil || next != v {
		return fmt.Errorf("the relay announced a malformed next certificate pin (%.80q): refused; the stored pins are unchanged", v)
	}
	c.pinMu.Lock()
	defer c.pinMu.Unlock()
	if c.st == nil || c.st.Pin == "" || next == c.st.Pin || next == c.st.NextPin {
		return nil
	}
	c.st.NextPin = next
	if c.Home == "" {
		return nil
	}
	return c.saveState()
}

// nextPinInUse is called when the relay presented the announced next pin:
// it becomes the pin, the old one is dropped, and the audit heads
// remembered under the old pin move to the new one.
func (c *Client) nextPinInUse(fp string) {
	c.pinMu.Lock()
	defer c.pinMu.Unlock()
	if c.st == nil || c.st.NextPin != fp {
		return
	}
	old := c.st.Pin
	c.st.Pin, c.st.NextPin = fp, ""
	if c.Home == "" {
		c.moveAuditHeads(old, fp)
		return
	}
	// Best effort: the handshake goes on either way, and an unsaved
	// change is made again at the next connection.
	if c.saveState() == nil {
		c.moveAuditHeads(old, fp)
	}
}

// moveAuditHeads files the audit heads remembered for the relay under its
// old pin under its new one.
func (c *Client) moveAuditHeads(old, fp string) {
	heads, err := c.loadAuditHeads()
	if err != nil || heads[old] == nil || heads[fp] != nil {
		return
	}
	heads[fp] = heads[old]
	delete(heads, old)
	c.saveAuditHeads(heads)
}
