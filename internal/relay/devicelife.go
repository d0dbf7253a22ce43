package relay

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/store"
)

// Device lifecycle: revoke, remove, rename and move. Each acts on the
// device named in the path, which a scoped caller (3.2) must be able to
// see: an out-of-scope device gets the answer an unknown one gets. Every
// outcome is audited as "device.<action>", refusals with their reason.

// deviceTarget loads the device named in the path (removed devices have
// no name any more) and checks that p may see it.
func (s *Server) deviceTarget(r *http.Request, p *principal) (*store.Device, error) {
	name := r.PathValue("name")
	if !deviceName.MatchString(name) {
		return nil, errNoDevice(truncate(name, 64))
	}
	d, err := s.db.DeviceByName(name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNoDevice(name)
	} else if err != nil {
		return nil, err
	}
	if err := s.checkScope(p, d); err != nil {
		return nil, err
	}
	return d, nil
}

// deviceChange is what a lifecycle action did: the device afterwards, the
// live sessions it ended and audit details.
type deviceChange struct {
	dev      *store.Device
	sessions int
	details  []string
}

// noBody is the request type of the lifecycle routes that read no body.
type noBody struct{}

// deviceOp runs one lifecycle action on the device named in the path: it
// decodes the request body as a B (unless B is noBody), looks the device up
// and checks the scope, then runs fn, audits and answers.
func deviceOp[B any](s *Server, action string, fn func(p *principal, d *store.Device, req *B) (deviceChange, error)) func(http.ResponseWriter, *http.Request, *principal) {
	return func(w http.ResponseWriter, r *http.Request, p *principal) {
		var req B
		var d *store.Device
		var err error
		if _, none := any(&req).(*noBody); !none {
			err = readJSON(r, &req)
		}
		if err == nil {
			d, err = s.deviceTarget(r, p)
		}
		var c deviceChange
		if err == nil {
			c, err = fn(p, d, &req)
		}
		if err != nil {
			target := truncate(r.PathValue("name"), 64)
			if d != nil {
				target = d.ID.String()
			}
			s.record(auditEvent(p.user.ID, "device."+action, target, outcomeOf(err), p.source, "name", truncate(r.PathValue("name"), 64), "reason", err.Error()))
			s.writeErr(w, err)
			return
		}
		kv := append([]string{"name", d.Name, "group", d.Group}, c.details...)
		s.record(auditEvent(p.user.ID, "device."+action, d.ID, "success", p.source, kv...))
		writeJSON(w, http.StatusOK, api.DeviceActionResult{Status: "ok", ID: c.dev.ID, Name: c.dev.Name, Group: c.dev.Group, Sessions: c.sessions})
	}
}

// cutOff ends everything a blocked device has open: its control connection
// is closed first, here or on the other relay of the cluster holding it,
// so no new offer can reach it, then each of its live sessions ends
// through the usual end path (the agent locks the screen). It returns how
// many sessions it ended.
func (s *Server) cutOff(d *store.Device, reason string) int {
	if a := s.agents.Get(d.ID); a != nil {
		a.Conn.Close(reason)
	}
	s.closeElsewhere(d.ID, reason)
	n := 0
	for _, l := range s.broker.List() {
		if l.Info.DeviceID == d.ID {
			go l.End(reason)
			n++
		}
	}
	return n + s.endElsewhere(func(r *store.Session) bool { return r.DeviceID == d.ID }, reason)
}

func (s *Server) handleDeviceRevoke() func(http.ResponseWriter, *http.Request, *principal) {
	return deviceOp(s, "revoke", func(p *principal, d *store.Device, _ *noBody) (deviceChange, error) {
		err := s.db.UpdateDevice(d.ID, func(x *store.Device) error {
			if !x.RevokedAt.IsZero() {
				return errf(http.StatusConflict, "remove it from the list with `tech devices remove`", "device %q is already revoked", x.Name)
			}
			x.RevokedAt, x.RevokedBy = now(), p.user.ID
			return nil
		})
		if err != nil {
			return deviceChange{}, err
		}
		n := s.cutOff(d, "device revoked by "+p.user.Username)
		return deviceChange{dev: d, sessions: n, details: []string{"sessions", fmt.Sprint(n)}}, nil
	})
}

func (s *Server) handleDeviceRemove() func(http.ResponseWriter, *http.Request, *principal) {
	return deviceOp(s, "remove", func(p *principal, d *store.Device, _ *noBody) (deviceChange, error) {
		if err := s.db.RemoveDevice(d.ID, now(), p.user.ID); errors.Is(err, store.ErrNotFound) {
			return deviceChange{}, errNoDevice(d.Name)
		} else if err != nil {
			return deviceChange{}, err
		}
		n := s.cutOff(d, "device removed by "+p.user.Username)
		return deviceChange{dev: d, sessions: n, details: []string{"sessions", fmt.Sprint(n), "revoked", fmt.Sprint(!d.RevokedAt.IsZero())}}, nil
	})
}

func (s *Server) handleDeviceRename() func(http.ResponseWriter, *http.Request, *principal) {
	return deviceOp(s, "rename", func(p *principal, d *store.Device, req *api.DeviceRenameRequest) (deviceChange, error) {
		if !deviceName.MatchString(req.Name) {
			return deviceChange{}, errf(http.StatusBadRequest, "use letters, digits, '.', '-' and '_' (at most 63)", "invalid device name %q", truncate(req.Name, 64))
		}
		if req.Name == d.Name {
			return deviceChange{}, errf(http.StatusConflict, "", "device %q already has that name", d.Name)
		}
		err := s.db.UpdateDevice(d.ID, func(x *store.Device) error { x.Name = req.Name; return nil })
		if errors.Is(err, store.ErrExists) {
			return deviceChange{}, s.nameTaken(p, req.Name)
		} else if err != nil {
			return deviceChange{}, err
		}
		after := *d
		after.Name = req.Name
		return deviceChange{dev: &after, details: []string{"new_name", req.Name}}, nil
	})
}

// nameTaken is the refusal of a rename to a name another device has. A
// scoped caller is not told that a device of another group has it.
func (s *Server) nameTaken(p *principal, name string) error {
	if other, err := s.db.DeviceByName(name); err == nil && !deviceInScope(p, other) {
		return errf(http.StatusConflict, "choose another name", "device name %q is not available", name)
	}
	return errf(http.StatusConflict, "choose another name", "a device named %q is already enrolled", name)
}

func (s *Server) handleDeviceMove() func(http.ResponseWriter, *http.Request, *principal) {
	return deviceOp(s, "move", func(p *principal, d *store.Device, req *api.DeviceMoveRequest) (deviceChange, error) {
		if !deviceName.MatchString(req.Group) {
			return deviceChange{}, errf(http.StatusBadRequest, "use letters, digits, '.', '-' and '_' (at most 63)", "invalid group name %q", truncate(req.Group, 64))
		}
		if !deviceInScope(p, &store.Device{Group: req.Group}) {
			return deviceChange{}, errf(http.StatusForbidden, "move it to one of your device groups",
				"permission denied: group %q is outside your device groups", req.Group)
		}
		if req.Group == d.Group {
			return deviceChange{}, errf(http.StatusConflict, "", "device %q is already in group %q", d.Name, d.Group)
		}
		policy, err := s.groupPolicy(req.Group)
		if err != nil {
			return deviceChange{}, err
		}
		if err := s.db.UpdateDevice(d.ID, func(x *store.Device) error { x.Group = req.Group; return nil }); err != nil {
			return deviceChange{}, err
		}
		after := *d
		after.Group = req.Group
		return deviceChange{dev: &after, details: []string{"new_group", req.Group, "policy", policy}}, nil
	})
}
