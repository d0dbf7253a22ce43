package agent

import (
	"fmt"

	"github.com/tether-support/tether/internal/tlsconf"
)

// The relay's certificate rotation, as an agent follows it (PROTOCOL.md
// section 2, TLS, and 7.1): the relay announces its next pin on the
// control connection (control next_pin), which is verified against the
// current pin; the agent stores it beside the pin in agent.json
// (next_pin). Once the relay presents the next key, it becomes the pin and
// the old one is dropped. stMu guards the pins and every write of
// agent.json, since sessions' handshakes run beside the connection loop.

// pins returns the relay pin and the announced next pin.
func (a *Agent) pins() (pin, next string) {
	a.stMu.Lock()
	defer a.stMu.Unlock()
	return a.st.Pin, a.st.NextPin
}

// learnNextPin stores a next pin the relay announced. A malformed one is
// refused with an error and changes nothing.
func (a *Agent) learnNextPin(v string) error {
	next, err := tlsconf.ParseFingerprint(v)
	if err != nil || next != v {
		return fmt.Errorf("the relay announced a malformed next certificate pin (%.80q): refused; the stored pins are unchanged", v)
	}
	a.stMu.Lock()
	defer a.stMu.Unlock()
	if next == a.st.Pin || next == a.st.NextPin {
		return nil
	}
	prev := a.st.NextPin
	a.st.NextPin = next
	if err := saveState(a.cfg.Home, a.st); err != nil {
		a.st.NextPin = prev
		return err
	}
	a.cfg.Logger.Info("the relay announced its next certificate; it is accepted beside the current one until the relay switches",
		"current", a.st.Pin, "next", next)
	return nil
}

// nextPinInUse is called when the relay presented the announced next pin:
// it becomes the pin and the old one is dropped.
func (a *Agent) nextPinInUse(fp string) {
	a.stMu.Lock()
	defer a.stMu.Unlock()
	if a.st.NextPin != fp {
		return
	}
	old := a.st.Pin
	a.st.Pin, a.st.NextPin = fp, ""
	if err := saveState(a.cfg.Home, a.st); err != nil {
		// The handshake goes on; the change is made again next time.
		a.st.Pin, a.st.NextPin = old, fp
		a.cfg.Logger.Error("cannot store the relay's new certificate pin", "err", err)
		return
	}
	a.cfg.Logger.Info("the relay switched to its next certificate; the old pin is dropped", "old", old, "pin", fp)
}

// rePin replaces the relay pin with fp (agent run --ca-fingerprint), for a
// device that missed a rotation.
func (a *Agent) rePin(flag string) error {
	fp, err := tlsconf.ParseFingerprint(flag)
	if err != nil {
		return fmt.Errorf("--ca-fingerprint: %w", err)
	}
	a.stMu.Lock()
	defer a.stMu.Unlock()
	if fp == a.st.Pin {
		return nil
	}
	old := *a.st
	a.st.Pin, a.st.NextPin = fp, ""
	if err := saveState(a.cfg.Home, a.st); err != nil {
		*a.st = old
		return err
	}
	a.cfg.Logger.Warn("relay pin replaced by --ca-fingerprint", "old", old.Pin, "pin", fp)
	return nil
}
