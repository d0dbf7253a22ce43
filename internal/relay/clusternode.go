package relay

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/tether-support/tether/internal/audit"
	"github.com/tether-support/tether/internal/cluster"
	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/store"
)

// The relay's part of a cluster (PROTOCOL.md 3.4): with a store that
// implements store.Cluster the relay registers itself, keeps its devices'
// presence, forwards offers and kills to the relay that holds the device
// or the session, has the other relays close a revoked or removed
// device's control connections and a device's older connection when a
// newer one registers elsewhere (cluster_replace.go), splices agent connections to a session's
// home relay and sweeps dead relays. With any other store (bbolt) none of it runs and the
// peer endpoints refuse everyone.

// validateCluster checks the cluster settings.
func (c *Config) validateCluster() error {
	if c.ClusterHeartbeat < 0 {
		return errors.New("relay: --cluster-heartbeat must be positive")
	}
	if c.ClusterHeartbeat == 0 {
		c.ClusterHeartbeat = cluster.DefaultHeartbeat
	}
	if c.Advertise == "" {
		return nil
	}
	u, err := url.Parse(c.Advertise)
	if err != nil || u.Scheme != "https" || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return fmt.Errorf("relay: --advertise %q is not of the form https://HOST:PORT", c.Advertise)
	}
	c.Advertise = "https://" + u.Host
	return nil
}

// openCluster makes the relay's cluster membership when its store is
// shared, and ends what this relay's previous run left open. It runs in
// New, before anything is served.
func (s *Server) openCluster() error {
	cs, ok := s.db.(store.Cluster)
	if !ok {
		return nil
	}
	id, err := cluster.LoadOrCreateID(s.cfg.DataDir)
	if err != nil {
		return err
	}
	s.cstore = cs
	s.node = cluster.New(cluster.Config{ID: id, Heartbeat: s.cfg.ClusterHeartbeat, Store: cs, EndHeld: s.endHeld,
		Rejoined: s.republishPresence, Log: s.log})
	s.peer = cluster.NewPeer(s.peerIdentity)
	return s.node.Recover()
}

// relayID returns the relay's cluster ID, "" when it is alone.
func (s *Server) relayID() string {
	if s.node == nil {
		return ""
	}
	return s.node.ID()
}

// startCluster registers the relay at its advertise URL and runs its
// heartbeat until ctx ends; the returned function removes the
// registration (at a clean stop).
func (s *Server) startCluster(ctx context.Context, addr net.Addr) (func(), error) {
	if s.node == nil {
		return func() {}, nil
	}
	adv := s.cfg.Advertise
	if adv == "" {
		var err error
		if adv, err = cluster.DefaultAdvertise(addr.String()); err != nil {
			return nil, err
		}
	}
	if err := s.node.Register(adv); err != nil {
		return nil, fmt.Errorf("register in the cluster: %w", err)
	}
	s.log.Info("cluster: registered", "relay", s.node.ID(), "advertise", adv, "heartbeat", s.node.Heartbeat())
	go s.node.Run(ctx)
	return func() {
		if err := s.node.Leave(true); err != nil {
			s.log.Warn("cluster: could not remove this relay's registration", "err", err)
		}
	}, nil
}

// peerIdentity is the cluster certificate this relay presents to others
// and the pins it expects of them.
func (s *Server) peerIdentity() cluster.Identity {
	c := s.certs.Load()
	return cluster.Identity{Cert: c.cert, Current: c.fp, Next: c.next}
}

// requestClientCerts makes the listener ask for (not require) a client
// certificate when the relay is in a cluster, so that peer relays can
// present the cluster certificate.
func (s *Server) requestClientCerts(cfg *tls.Config) {
	if s.node != nil {
		cfg.ClientAuth = tls.RequestClientCert
	}
}

// peerAuthorized reports whether r comes from a relay of this cluster;
// if not, it answers 403 and audits the attempt.
func (s *Server) peerAuthorized(w http.ResponseWriter, r *http.Request) bool {
	c := s.certs.Load()
	if s.node != nil && cluster.PeerAuthorized(r.TLS, c.fp, c.next) {
		s.connAuthenticated(r.Context())
		return true
	}
	s.record(auditEvent("", "cluster.peer", r.Method+" "+r.URL.Path, "failure", sourceAddr(r), "reason", "not a relay of this cluster"))
	s.writeErr(w, errf(http.StatusForbidden, "", "not a relay of this cluster"))
	return false
}

// relayLive returns the live relay with that ID, or nil.
func (s *Server) relayLive(id string) *store.RelayInfo {
	if s.node == nil || id == "" {
		return nil
	}
	r, err := s.cstore.RelayByID(id, s.node.Expiry())
	if err != nil || !r.Live {
		return nil
	}
	return r
}

// liveRelays returns the IDs of the live relays, nil when alone.
func (s *Server) liveRelays() map[string]bool {
	if s.node == nil {
		return nil
	}
	rs, err := s.cstore.Relays(s.node.Expiry())
	if err != nil {
		s.log.Warn("cluster: list relays", "err", err)
		return nil
	}
	out := map[string]bool{}
	for _, r := range rs {
		out[r.ID] = r.Live
	}
	return out
}

// sessionLive reports whether the session is live: in this relay's broker,
// or open and held by another live relay (live lists them).
func (s *Server) sessionLive(rec *store.Session, live map[string]bool) bool {
	if s.broker.Get(rec.ID) != nil {
		return true
	}
	return rec.Relay != "" && rec.Relay != s.relayID() && rec.State != store.SessionEnded && live[rec.Relay]
}

// onlineElsewhere returns the devices online on live relays of the
// cluster (nil when alone or when the store cannot say: then only this
// relay's own count).
func (s *Server) onlineElsewhere() map[ids.DeviceID]string {
	if s.node == nil {
		return nil
	}
	on, err := s.cstore.OnlineDevices(s.node.Expiry())
	if err != nil {
		s.log.Warn("cluster: online devices", "err", err)
		return nil
	}
	return on
}

// presenceSet records that this relay holds the device's control
// connection registered at since; it reports whether the row was written
// (false when alone).
func (s *Server) presenceSet(dev ids.DeviceID, since time.Time) bool {
	if s.node == nil {
		return false
	}
	if err := s.cstore.SetPresence(dev, s.node.ID(), since); err != nil {
		s.log.Warn("cluster: presence not recorded", "device", dev, "err", err)
		return false
	}
	return true
}

// presenceClear deletes the presence row of a connection that went.
func (s *Server) presenceClear(dev ids.DeviceID, since time.Time) {
	if s.node == nil {
		return
	}
	if err := s.cstore.ClearPresence(dev, s.node.ID(), since); err != nil {
		s.log.Warn("cluster: presence not cleared", "device", dev, "err", err)
	}
}

// endHeld ends what a dead relay (or this relay's previous run) left
// open: each open session is marked ended and audited, by whichever relay's
// update ends it, and its recording, if still open, marked incomplete.
func (s *Server) endHeld(relayID string) error {
	open, err := s.cstore.OpenSessionsOf(relayID)
	if err != nil {
		return err
	}
	reason := "relay " + relayID + " stopped"
	for _, id := range open {
		var ended *store.Session
		err := s.db.UpdateSession(id, func(r *store.Session) error {
			if r.State == store.SessionEnded {
				ended = nil
				return errAlreadyEnded
			}
			r.State, r.EndReason, r.EndedAt = store.SessionEnded, reason, now()
			cp := *r
			ended = &cp
			return nil
		})
		if errors.Is(err, errAlreadyEnded) || errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		s.record(audit.NewEvent(ended.TechID, "session.end", id, "ended", "", "reason", reason, "device", ended.DeviceName))
		s.closeDeadRecording(id)
	}
	return nil
}

// errAlreadyEnded stops an update of a session another relay ended.
var errAlreadyEnded = errors.New("session already ended")

// closeDeadRecording marks the recording of a session whose relay died
// incomplete, with what the recordings store holds of it, if it is still
// open.
func (s *Server) closeDeadRecording(id ids.SessionID) {
	rec, err := s.db.RecordingByID(id)
	if err != nil || rec.State != store.RecordingOpen {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	size, sum, err := s.hashStored(ctx, id)
	if err != nil {
		s.log.Warn("cluster: a dead relay's recording cannot be read; marked incomplete with nothing stored", "session", id, "err", err)
		size, sum = 0, ""
	}
	changed := false
	err = s.db.UpdateRecording(id, func(r *store.Recording) error {
		if r.State != store.RecordingOpen {
			return errAlreadyEnded
		}
		r.State, r.Size, r.SHA256, r.FinishedAt = store.RecordingIncomplete, size, sum, now()
		changed = true
		return nil
	})
	if err == nil && changed {
		s.record(audit.NewEvent("", "recording.incomplete", id, "failure", "", "reason", "the relay holding the session stopped"))
	}
}
