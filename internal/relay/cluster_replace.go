package relay

import (
	"context"
	"errors"
	"hash/fnv"
	"net/http"
	"sync"
	"time"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/broker"
	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/store"
)

// A device has at most one live control connection in a cluster, as on a
// single relay (broker.Agents.Add): the connection the presence row
// names. A relay registering a newer connection writes the row, then asks
// every other live relay to close the device's connection it holds
// (POST /v1/cluster/devices/{id}/replace). Every live relay is asked, not
// only the one the row named before: a connection whose row was lost (a
// relay swept while alive) is closed too. The relay asked checks the
// claim against the row itself: it closes its connection only if the row
// still names the asking relay and that very connection (relay ID and
// since), so a peer's say-so closes nothing. Registering (Add, then the
// row) and answering a claim hold the device's lock, so a claim cannot
// close a connection registered after the row it relies on: of two near
// simultaneous connections on two relays, the one whose row was written
// last survives, and the other relay's claim is refused (409).

// deviceLocks are striped per-device locks.
type deviceLocks [64]sync.Mutex

// lock locks dev's stripe and returns its unlock.
func (l *deviceLocks) lock(dev ids.DeviceID) func() {
	h := fnv.New32a()
	h.Write([]byte(dev))
	m := &l[h.Sum32()%uint32(len(l))]
	m.Lock()
	return m.Unlock
}

// registerAgent adds a's connection to the registry and records its
// presence, under the device's lock; with a cluster, it then has the
// other relays close their older connections of the device. It returns
// false if the relay is shutting down.
func (s *Server) registerAgent(a *broker.Agent) bool {
	unlock := s.presence.lock(a.Dev.ID)
	if !s.agents.Add(a) {
		unlock()
		return false
	}
	written := s.presenceSet(a.Dev.ID, a.Since)
	unlock()
	if written {
		go s.replaceElsewhere(a.Dev.ID, a.Since)
	}
	return true
}

// replaceElsewhere asks every other live relay to close the device's
// control connection it holds, now that this relay's row names the
// connection registered at since.
func (s *Server) replaceElsewhere(dev ids.DeviceID, since time.Time) {
	req := api.ClusterReplace{Relay: s.node.ID(), Since: since.Truncate(time.Microsecond)}
	if n := s.askOthers(protocol.PathClusterDevices+"/"+dev.String()+"/replace", req, "an older connection of a device not closed", dev); n > 0 {
		s.log.Info("cluster: the device's older connection on another relay closed", "device", dev, "closed", n)
	}
}

// republishPresence records again the presence of every device connected
// here, after another relay swept this one. A device whose row another
// relay wrote meanwhile has a newer connection there: the one here is
// closed, as replaced.
func (s *Server) republishPresence() {
	for _, a := range s.agents.All() {
		unlock := s.presence.lock(a.Dev.ID)
		p, err := s.cstore.AddPresence(a.Dev.ID, s.node.ID(), a.Since)
		if err != nil {
			s.log.Warn("cluster: presence not recorded", "device", a.Dev.ID, "err", err)
		} else if p.Relay != s.node.ID() {
			a.Conn.Close(broker.ReplacedReason)
		}
		unlock()
	}
}

// handleClusterReplace closes the device's control connection held here
// for another relay that registered a newer one, if the presence row
// names that relay's connection.
func (s *Server) handleClusterReplace(w http.ResponseWriter, r *http.Request) {
	var req api.ClusterReplace
	id, ok := s.peerDeviceRequest(w, r, &req)
	if !ok {
		return
	}
	if req.Relay == "" || req.Relay == s.node.ID() || len(req.Relay) > 64 {
		s.peerRefused(w, r, errf(http.StatusBadRequest, "", "relay must name another relay of the cluster"))
		return
	}
	closed, err := s.closeReplaced(id, &req)
	if errors.Is(err, errNotHere) {
		s.peerNotHere(w)
		return
	}
	if err != nil {
		s.peerRefused(w, r, err)
		return
	}
	s.peerClosed(w, r, id, "name", closed.Dev.Name, "reason", broker.ReplacedReason, "relay", req.Relay)
}

// closeReplaced closes the device's connection here if its presence row
// names req's connection, and returns it.
func (s *Server) closeReplaced(id ids.DeviceID, req *api.ClusterReplace) (*broker.Agent, error) {
	defer s.presence.lock(id)()
	p, err := s.cstore.PresenceRow(id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if err != nil || p.Relay != req.Relay || !p.Since.Equal(req.Since) {
		return nil, errf(http.StatusConflict, "", "the device's presence does not name that connection")
	}
	a := s.agents.Get(id)
	if a == nil {
		return nil, errNotHere
	}
	a.Conn.Close(broker.ReplacedReason)
	return a, nil
}

// errNotHere: this relay holds no control connection of the device.
var errNotHere = errors.New("device not connected here")

// askOthers POSTs body to path on every other live relay and waits for
// their answers (at most closeTimeout); it returns how many answered 200.
// A 404 or 409 (nothing to close there) is expected; other failures are
// logged with what.
func (s *Server) askOthers(path string, body any, what string, dev ids.DeviceID) int {
	if s.node == nil {
		return 0
	}
	rs, err := s.cstore.Relays(s.node.Expiry())
	if err != nil {
		s.log.Error("cluster: "+what+" on other relays", "device", dev, "err", err)
		return 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	var wg sync.WaitGroup
	var mu sync.Mutex
	n := 0
	for _, r := range rs {
		if !r.Live || r.ID == s.node.ID() {
			continue
		}
		wg.Go(func() {
			if s.askOne(ctx, &r, path, body, what, dev) {
				mu.Lock()
				n++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return n
}
