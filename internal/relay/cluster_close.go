package relay

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/store"
	"github.com/tether-support/tether/internal/transport"
)

// closeTimeout bounds the peer request that closes a blocked device's
// control connection on the relay holding it.
const closeTimeout = 5 * time.Second

// closeElsewhere asks every other live relay of the cluster to close the
// control connection it holds of the device (just revoked or removed) and
// waits for their answers (at most closeTimeout), so that the connection
// is gone before the device's sessions end. Every live relay is asked,
// not only the one its presence row names: a connection the row no longer
// names (a copy of the device's key connected elsewhere, a connection
// replaced in the row but not yet dropped) is closed too. It returns how
// many connections were closed; failures are logged (the device record
// already refuses the device everywhere).
func (s *Server) closeElsewhere(dev ids.DeviceID, reason string) int {
	return s.askOthers(protocol.PathClusterDevices+"/"+dev.String()+"/close", api.ClusterClose{Reason: reason},
		"a blocked device's connection not closed", dev)
}

// askOne POSTs body to path on relay r; it reports whether r answered
// 200. A 404 or 409 (nothing of the device to close there) is not logged.
func (s *Server) askOne(ctx context.Context, r *store.RelayInfo, path string, body any, what string, dev ids.DeviceID) bool {
	err := s.peer.Post(ctx, r.Advertise, path, body, nil)
	var he *transport.HTTPError
	if errors.As(err, &he) && (he.Status == http.StatusNotFound || he.Status == http.StatusConflict) {
		return false
	}
	if err != nil {
		s.log.Error("cluster: "+what+" on another relay", "device", dev, "relay", r.ID, "err", err)
		return false
	}
	return true
}

// handleClusterClose closes the control connection of a device held here
// for another relay where the device was revoked or removed. Only a
// device whose record says so is closed: the peer's word alone closes
// nothing.
func (s *Server) handleClusterClose(w http.ResponseWriter, r *http.Request) {
	var req api.ClusterClose
	id, ok := s.peerDeviceRequest(w, r, &req)
	if !ok {
		return
	}
	d, err := s.db.DeviceByID(id)
	if errors.Is(err, store.ErrNotFound) {
		s.peerRefused(w, r, errf(http.StatusNotFound, "", "no such device"))
		return
	} else if err != nil {
		s.writeErr(w, err)
		return
	}
	if d.RevokedAt.IsZero() && d.RemovedAt.IsZero() {
		s.peerRefused(w, r, errf(http.StatusConflict, "", "device %s is neither revoked nor removed", id))
		return
	}
	a := s.agents.Get(id)
	if a == nil {
		s.peerNotHere(w)
		return
	}
	reason := strings.ToValidUTF8(truncate(req.Reason, 120), "") // a rune cut in two is dropped
	if reason == "" {
		reason = "device blocked on another relay"
	}
	a.Conn.Close(reason)
	s.peerClosed(w, r, id, "name", d.Name, "reason", reason)
}
