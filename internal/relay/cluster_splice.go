package relay

import (
	"context"
	"net"
	"net/http"

	"github.com/tether-support/tether/internal/cluster"
	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/store"
	"github.com/tether-support/tether/internal/transport"
)

// sessionHome returns the other live relay holding an open session, or
// nil (alone, unknown, ended, held here, or its relay is dead).
func (s *Server) sessionHome(id ids.SessionID) *store.RelayInfo {
	if s.node == nil || id == "" || len(id) > 64 {
		return nil
	}
	rec, err := s.db.SessionByID(id)
	if err != nil || rec.State == store.SessionEnded || rec.Relay == "" || rec.Relay == s.node.ID() {
		return nil
	}
	return s.relayLive(rec.Relay)
}

// spliceAgent connects an agent's session connection c to the session's
// home relay: the agent's first message, unchanged, then every message both
// ways, unparsed, until either side closes.
func (s *Server) spliceAgent(ctx context.Context, c *transport.Conn, home *store.RelayInfo, kind, src string, first []byte) {
	h := http.Header{}
	h.Set(cluster.HeaderPeerKind, kind)
	h.Set(cluster.HeaderPeerSource, src)
	pc, err := s.peer.Dial(ctx, home.Advertise, protocol.PathClusterAgentSession, h)
	if err != nil {
		s.log.Warn("cluster: cannot reach the relay holding the session", "relay", home.ID, "err", err)
		refuse(ctx, c, errf(http.StatusBadGateway, "try again", "the relay holding the session cannot be reached"))
		return
	}
	if err := pc.WriteFrame(ctx, first); err != nil {
		pc.CloseNow()
		refuse(ctx, c, errf(http.StatusBadGateway, "try again", "the relay holding the session cannot be reached"))
		return
	}
	// The home relay checks the attach token or join code; this relay
	// only carries frames. The agent's connection counts against the
	// caps on unauthenticated peers until the home relay sends something
	// other than a refusal.
	kctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c.KeepAlive(kctx)
	pc.KeepAlive(kctx)
	cluster.Splice(c, pc, func(msg []byte) {
		if !isRefusal(msg) {
			s.connAuthenticated(ctx)
		}
	})
}

// isRefusal reports a control "error" message.
func isRefusal(msg []byte) bool {
	t, p, err := protocol.ParseFrame(msg)
	if err != nil || t != protocol.FrameControl {
		return false
	}
	m, err := protocol.ParseControl(p)
	return err == nil && m.Type == protocol.CtlError
}

// handleClusterAgentSession serves an agent's attach or join that another
// relay of the cluster spliced here, as a direct one from the agent's
// source address.
func (s *Server) handleClusterAgentSession(w http.ResponseWriter, r *http.Request) {
	if !s.peerAuthorized(w, r) {
		return
	}
	kind, src := r.Header.Get(cluster.HeaderPeerKind), r.Header.Get(cluster.HeaderPeerSource)
	if net.ParseIP(src) == nil || (kind != cluster.KindAttach && kind != cluster.KindJoin) {
		s.writeErr(w, errf(http.StatusBadRequest, "", "a spliced agent connection needs %s (attach or join) and %s (an IP address)",
			cluster.HeaderPeerKind, cluster.HeaderPeerSource))
		return
	}
	c, err := transport.Accept(w, r)
	if err != nil {
		return
	}
	if kind == cluster.KindAttach {
		s.agentAttach(r.Context(), c, src, false)
	} else {
		s.agentJoin(r.Context(), c, src, false)
	}
}
