package relay

import (
	"errors"
	"net/http"
	"slices"

	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/store"
)

// A user whose DeviceGroups is not empty is scoped: everything they are
// shown about devices is limited to devices of those groups. Out-of-scope
// devices are not only unreachable but invisible: lists leave them out,
// and naming one gets the very answer an unknown name gets, so a scoped
// user cannot even learn that it exists. The real reason is audited.

// scoped reports whether p is limited to device groups.
func scoped(p *principal) bool { return len(p.user.DeviceGroups) > 0 }

// deviceInScope reports whether p may see dev.
func deviceInScope(p *principal, dev *store.Device) bool {
	return !scoped(p) || slices.Contains(p.user.DeviceGroups, dev.Group)
}

// errNoDevice is the answer for a device that does not exist or that the
// caller may not see: the two must not be told apart.
func errNoDevice(name string) error {
	return errf(http.StatusNotFound, "see `tech devices list`", "no device named %q", name)
}

// checkScope refuses a session with dev if p is scoped to device groups
// that do not include dev's group, with the answer for an unknown device;
// the refusal is audited with the real reason.
func (s *Server) checkScope(p *principal, dev *store.Device) error {
	if deviceInScope(p, dev) {
		return nil
	}
	s.record(auditEvent(p.user.ID, "device.scope", dev.ID, "denied", p.source,
		"reason", "device group "+dev.Group+" is outside the user's device groups"))
	return errNoDevice(dev.Name)
}

// recordInScope reports whether p may see a session or recording made by
// techID with the device called deviceName (deviceID if known). Unscoped
// users see everything their permissions allow; a scoped user sees their
// own sessions and those with a device of their groups, nothing else (an
// unknown or deleted device, or an attended session of someone else, is
// out of scope).
func (s *Server) recordInScope(p *principal, techID ids.UserID, deviceID ids.DeviceID, deviceName string) bool {
	if !scoped(p) || techID == p.user.ID {
		return true
	}
	var dev *store.Device
	var err error
	if deviceID != "" {
		dev, err = s.db.DeviceByID(deviceID)
	} else {
		dev, err = s.db.DeviceByName(deviceName)
	}
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			s.log.Error("device scope lookup", "device", deviceID, "err", err)
		}
		return false
	}
	return deviceInScope(p, dev)
}
