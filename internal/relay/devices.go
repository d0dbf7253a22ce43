package relay

import (
	"crypto/ed25519"
	"crypto/subtle"
	"errors"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/store"
	"github.com/tether-support/tether/internal/token"
)

// deviceName is what a device or group may be called: shown to technicians
// and used on command lines, so plain characters only.
var deviceName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

func (s *Server) handleEnrollToken(w http.ResponseWriter, r *http.Request, p *principal) {
	var req api.EnrollTokenRequest
	if err := readJSON(r, &req); err != nil {
		s.writeErr(w, err)
		return
	}
	if req.Group == "" {
		req.Group = "default"
		if scoped(p) {
			req.Group = p.user.DeviceGroups[0]
		}
	}
	if !deviceInScope(p, &store.Device{Group: req.Group}) {
		s.writeErr(w, errf(http.StatusForbidden, "pass --group with one of your device groups",
			"permission denied: group %q is outside your device groups", req.Group))
		return
	}
	if !deviceName.MatchString(req.Group) {
		s.writeErr(w, errf(http.StatusBadRequest, "use letters, digits, '.', '-' and '_' (at most 63)", "invalid group name %q", req.Group))
		return
	}
	raw, err := token.New("te_")
	if err != nil {
		s.writeErr(w, err)
		return
	}
	t := now()
	et := &store.EnrollToken{Hash: token.Hash(raw), Group: req.Group, CreatedBy: p.user.ID, CreatedAt: t, ExpiresAt: t.Add(protocol.EnrollTokenTTL)}
	if err := s.db.PutEnrollToken(et); err != nil {
		s.writeErr(w, err)
		return
	}
	s.record(auditEvent(p.user.ID, "device.enroll_token", req.Group, "success", p.source))
	// The token carries the relay's pin so `agent enroll` needs no prompt,
	// and the trust root's fingerprint, when there is one, for the agent to pin.
	tok := raw + "." + strings.TrimPrefix(s.Fingerprint(), "SHA256:")
	if fp := s.trustRootFingerprint(); fp != "" {
		tok += "." + strings.TrimPrefix(fp, "SHA256:")
	}
	writeJSON(w, http.StatusOK, api.EnrollTokenResponse{Token: tok, Group: req.Group, ExpiresAt: et.ExpiresAt})
}

func (s *Server) handleEnroll(w http.ResponseWriter, r *http.Request) {
	var req api.EnrollRequest
	if err := readJSON(r, &req); err != nil {
		s.writeErr(w, err)
		return
	}
	src := sourceAddr(r)
	if !s.limiter.Allow("enroll:"+src, 30, time.Minute) {
		s.writeErr(w, errf(http.StatusTooManyRequests, "wait a minute", "too many enrollment attempts from this address"))
		return
	}
	d, err := s.enroll(req)
	if err != nil {
		s.record(auditEvent("", "device.enroll", req.Name, "failure", src, "reason", err.Error()))
		s.writeErr(w, err)
		return
	}
	s.record(auditEvent(d.EnrolledBy, "device.enroll", d.ID, "success", src, "name", d.Name, "group", d.Group))
	writeJSON(w, http.StatusOK, api.EnrollResponse{DeviceID: d.ID, Name: d.Name, Group: d.Group})
}

// enroll validates req, consumes its token atomically and stores the device.
func (s *Server) enroll(req api.EnrollRequest) (*store.Device, error) {
	if !deviceName.MatchString(req.Name) {
		return nil, errf(http.StatusBadRequest, "use letters, digits, '.', '-' and '_' (at most 63); pass --name", "invalid device name %q", req.Name)
	}
	if len(req.PublicKey) != ed25519.PublicKeySize {
		return nil, errf(http.StatusBadRequest, "", "device public key must be an Ed25519 key")
	}
	secret, _, _ := strings.Cut(req.Token, ".")
	if _, err := s.db.DeviceByName(req.Name); err == nil {
		return nil, errf(http.StatusConflict, "choose another --name, or remove the old device", "a device named %q is already enrolled", req.Name)
	}
	et, err := s.db.ConsumeEnrollToken(token.Hash(secret), now())
	switch {
	case errors.Is(err, store.ErrExpired):
		return nil, errf(http.StatusUnauthorized, "ask for a new one with `tech devices enroll-token`", "enrollment token expired")
	case errors.Is(err, store.ErrNotFound):
		return nil, errf(http.StatusUnauthorized, "ask for a new one with `tech devices enroll-token`", "enrollment token is invalid or was already used")
	case err != nil:
		return nil, err
	}
	if err := s.keyUnused(req.PublicKey); err != nil {
		return nil, err
	}
	d := &store.Device{ID: ids.NewDeviceID(), Name: req.Name, Group: et.Group, PublicKey: req.PublicKey,
		EnrolledAt: now(), EnrolledBy: et.CreatedBy}
	if err := s.db.CreateDevice(d); errors.Is(err, store.ErrExists) {
		return nil, errf(http.StatusConflict, "choose another --name", "a device named %q is already enrolled", req.Name)
	} else if err != nil {
		return nil, err
	}
	return d, nil
}

func (s *Server) handleDevices(w http.ResponseWriter, r *http.Request, p *principal) {
	ds, err := s.db.ListDevices()
	if err != nil {
		s.writeErr(w, err)
		return
	}
	elsewhere := s.onlineElsewhere()
	out := make([]api.Device, 0, len(ds))
	for _, d := range ds {
		if !d.RemovedAt.IsZero() || !deviceInScope(p, &d) {
			continue
		}
		_, there := elsewhere[d.ID]
		out = append(out, api.Device{ID: d.ID, Name: d.Name, Group: d.Group, Online: s.agents.Online(d.ID) || there,
			LastSeen: d.LastSeen, Enrolled: d.EnrolledAt, RevokedAt: d.RevokedAt})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	writeJSON(w, http.StatusOK, out)
}

// keyUnused refuses a device key that any device, revoked and removed ones
// included, already has: an agent makes a fresh key for every enrollment,
// so a known key is one that was revoked or a copy of another device's.
// It runs after the enrollment token is spent, so only a token's holder
// learns whether a key is known.
func (s *Server) keyUnused(pub []byte) error {
	ds, err := s.db.ListDevices()
	if err != nil {
		return err
	}
	for _, d := range ds {
		if subtle.ConstantTimeCompare(d.PublicKey, pub) == 1 {
			return errf(http.StatusConflict, "enroll with a fresh key (a new --config directory)", "this device key is already enrolled or was revoked")
		}
	}
	return nil
}
