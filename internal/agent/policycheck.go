package agent

import (
	"fmt"
	"slices"
	"time"

	"github.com/tether-support/tether/internal/protocol"
)

// checkSigned checks what the relay sent for a session against the signed
// policy sp and returns info with the signed values filled in where the
// relay's are absent. Any value beyond what the administrators signed
// refuses the session with an error naming it.
func checkSigned(info protocol.SessionInfo, sp *signedPolicy) (protocol.SessionInfo, error) {
	b := sp.body
	bad := func(format string, a ...any) error {
		return fmt.Errorf("signed policy version %d: "+format, append([]any{sp.version}, a...)...)
	}
	if len(b.Recipients) > 0 && !info.Recorded {
		return info, bad("the relay says the session is not recorded, but the signed policy records every session")
	}
	if len(info.Recipients) == 0 {
		info.Recipients = slices.Clone(b.Recipients)
	}
	for _, r := range info.Recipients {
		if !slices.Contains(b.Recipients, r) {
			return info, bad("the relay names recording recipient %s, which the signed policy does not list", shortKey(r))
		}
	}
	if b.RecordInput && !info.RecordInput {
		return info, bad("the relay turns input recording off, but the signed policy records typed input")
	}
	var err error
	if info.IdleTimeout, err = capLimit("idle", info.IdleTimeout, b.IdleSeconds); err != nil {
		return info, bad("%v", err)
	}
	if info.MaxDuration, err = capLimit("absolute", info.MaxDuration, b.AbsoluteSeconds); err != nil {
		return info, bad("%v", err)
	}
	if info, err = checkCeiling(info, sp); err != nil {
		return info, bad("%v", err)
	}
	if unattendedPolicy(info.ConsentPolicy) && !slices.Contains(b.UnattendedGroups, sp.group) {
		return info, bad("the relay offers an unattended session in device group %q, which the signed policy does not allow unattended", sp.group)
	}
	return info, nil
}

// capLimit is the relay's limit d, or the signed one when d is absent; a
// d above the signed limit is an error.
func capLimit(name string, d time.Duration, signedSeconds uint32) (time.Duration, error) {
	max := time.Duration(signedSeconds) * time.Second
	switch {
	case d <= 0:
		return max, nil
	case d > max:
		return d, fmt.Errorf("the relay sets the %s limit to %v, above the signed %v", name, d, max)
	}
	return d, nil
}

// checkCeiling refuses requested capabilities above the signed ceiling of
// the technician's roles and drops from Allowed what the ceiling does not
// cover. A policy with no ceilings bounds nothing.
func checkCeiling(info protocol.SessionInfo, sp *signedPolicy) (protocol.SessionInfo, error) {
	if len(sp.body.Ceilings) == 0 {
		return info, nil
	}
	var ceiling []string
	for _, r := range info.Roles {
		c, _ := sp.body.Ceiling(r)
		ceiling = append(ceiling, c...)
	}
	for _, c := range info.Caps {
		if !protocol.Covers(ceiling, c) {
			return info, fmt.Errorf("the relay asks for capability %s, above the signed ceiling of the technician's roles %s", c, rolesLabel(info.Roles))
		}
	}
	info.Allowed = slices.DeleteFunc(slices.Clone(info.Allowed), func(c string) bool { return !protocol.Covers(ceiling, c) })
	return info, nil
}
