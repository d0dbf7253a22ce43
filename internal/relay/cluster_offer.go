package relay

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/broker"
	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/store"
	"github.com/tether-support/tether/internal/transport"
)

// devicePresence returns the other live relay holding the device's
// control connection, or nil (alone, offline, or a stale row of this
// relay's own).
func (s *Server) devicePresence(dev ids.DeviceID) *store.RelayInfo {
	if s.node == nil {
		return nil
	}
	r, err := s.cstore.PresenceOf(dev, s.node.Expiry())
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			s.log.Warn("cluster: presence lookup", "device", dev, "err", err)
		}
		return nil
	}
	if r.ID == s.node.ID() {
		return nil
	}
	return r
}

// deliverOffer writes offer on the device's control connection: a, if it
// is here, else through the relay there that holds it.
func (s *Server) deliverOffer(ctx context.Context, a *broker.Agent, there *store.RelayInfo, offer *protocol.Control) error {
	if a != nil {
		return s.writeOffer(ctx, a, offer)
	}
	return s.peer.Post(ctx, there.Advertise, protocol.PathClusterOffer,
		api.ClusterOffer{Device: offer.Session.DeviceID, Session: offer.Session, AttachToken: offer.AttachToken}, nil)
}

// handleClusterOffer writes another relay's offer on the control
// connection of a device online here, as for a local offer (the audit head
// signed now included).
func (s *Server) handleClusterOffer(w http.ResponseWriter, r *http.Request) {
	var req api.ClusterOffer
	if !s.peerRequest(w, r, &req) {
		return
	}
	if req.Session == nil || req.Session.DeviceID != req.Device || req.Device == "" || req.AttachToken == "" {
		s.writeErr(w, errf(http.StatusBadRequest, "", "malformed offer"))
		return
	}
	a := s.agents.Get(req.Device)
	if a == nil {
		s.writeErr(w, errf(http.StatusConflict, "", "device offline"))
		return
	}
	if err := s.writeOffer(r.Context(), a, &protocol.Control{Type: protocol.CtlOffer, Session: req.Session, AttachToken: req.AttachToken}); err != nil {
		s.writeErr(w, errf(http.StatusConflict, "", "device offline"))
		return
	}
	writeJSON(w, http.StatusOK, api.Status{Status: "offered"})
}

// handleClusterEnd starts the end path of a session held here, for
// another relay's kill; it answers without waiting for the end to finish.
func (s *Server) handleClusterEnd(w http.ResponseWriter, r *http.Request) {
	var req api.ClusterEnd
	if !s.peerRequest(w, r, &req) {
		return
	}
	id, err := pathSessionID(r)
	var l *broker.Session
	if err == nil {
		l = s.broker.Get(id)
	}
	if l == nil {
		s.writeErr(w, errf(http.StatusNotFound, "", "no live session"))
		return
	}
	reason := truncate(req.Reason, 200)
	if reason == "" {
		reason = "ended by another relay"
	}
	go l.End(reason)
	writeJSON(w, http.StatusOK, api.Status{Status: "ending"})
}

// forwardKill asks the home relay of a session not held here to end it.
// It returns false (nothing done) when the session is not open on a live
// relay of the cluster.
func (s *Server) forwardKill(ctx context.Context, rec *store.Session, reason string) (bool, error) {
	if rec.State == store.SessionEnded || rec.Relay == s.relayID() {
		return false, nil
	}
	home := s.relayLive(rec.Relay)
	if home == nil {
		return false, nil
	}
	err := s.peer.Post(ctx, home.Advertise, protocol.PathClusterSessions+"/"+string(rec.ID)+"/end", api.ClusterEnd{Reason: reason}, nil)
	var he *transport.HTTPError
	if errors.As(err, &he) && he.Status == http.StatusNotFound {
		return false, nil // it ended meanwhile
	}
	if err != nil {
		return false, fmt.Errorf("relay %s, which holds session %s: %w", rec.Relay, rec.ID, err)
	}
	return true, nil
}

// endElsewhere starts the end of every open session that another live
// relay of the cluster holds and match accepts (a revoked device's, a
// disabled user's), through its home relay, and returns how many.
func (s *Server) endElsewhere(match func(*store.Session) bool, reason string) int {
	if s.node == nil {
		return 0
	}
	all, err := s.db.ListSessions()
	if err != nil {
		s.log.Error("cluster: sessions held elsewhere not ended", "reason", reason, "err", err)
		return 0
	}
	live := s.liveRelays()
	n := 0
	for i := range all {
		rec := &all[i]
		if rec.State == store.SessionEnded || rec.Relay == "" || rec.Relay == s.node.ID() || !live[rec.Relay] || !match(rec) {
			continue
		}
		n++
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			if _, err := s.forwardKill(ctx, rec, reason); err != nil {
				s.log.Error("cluster: session held elsewhere not ended", "session", rec.ID, "err", err)
			}
		}()
	}
	return n
}
