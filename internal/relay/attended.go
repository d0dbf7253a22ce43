package relay

import (
	"context"
	"crypto/ed25519"
	"errors"
	"net/http"
	"time"

	"github.com/tether-support/tether/internal/apierr"
	"github.com/tether-support/tether/internal/broker"
	"github.com/tether-support/tether/internal/cluster"
	"github.com/tether-support/tether/internal/identity"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/rbac"
	"github.com/tether-support/tether/internal/sanitize"
	"github.com/tether-support/tether/internal/store"
	"github.com/tether-support/tether/internal/token"
	"github.com/tether-support/tether/internal/transport"
)

// openAttended creates a session that an end user joins with a one-time code.
func (s *Server) openAttended(ctx context.Context, c *transport.Conn, p *principal, info protocol.SessionInfo) (*broker.Session, error) {
	if !p.perms.Has(rbac.SessionAttended) {
		return nil, errf(http.StatusForbidden, "ask an administrator", "permission denied: %s is required", rbac.SessionAttended)
	}
	code, err := token.NewJoinCode()
	if err != nil {
		return nil, err
	}
	norm, err := token.NormalizeJoinCode(code)
	if err != nil {
		return nil, err
	}
	info.Mode = store.ModeAttended
	l, _ := s.broker.Open(info, c, p.source)
	exp := now().Add(protocol.JoinCodeTTL)
	if err := s.db.PutJoinCode(&store.JoinCode{Hash: token.Hash(norm), SessionID: info.ID, TechID: p.user.ID, ExpiresAt: exp}); err != nil {
		l.End("internal error")
		return nil, err
	}
	if err := s.storeSession(l, store.SessionRequested); err != nil {
		return nil, err
	}
	if err := c.WriteControl(ctx, &protocol.Control{Type: protocol.CtlJoinCode, Code: code, SessionID: info.ID, ExpiresAt: &exp}); err != nil {
		l.End("technician disconnected")
		return nil, err
	}
	return l, nil
}

// joinPerSource bounds join attempts (good or bad) per source a minute,
// in memory; failed ones are also counted in the store (Accounts.AdmitJoin). There
// is no relay-wide budget: one guesser must not spend anyone else's chance.
const joinPerSource = 10

// handleAgentJoin lets an end user's agent join an attended session.
func (s *Server) handleAgentJoin(w http.ResponseWriter, r *http.Request) {
	c, err := transport.Accept(w, r)
	if err != nil {
		return
	}
	s.agentJoin(r.Context(), c, sourceAddr(r), true)
}

// agentJoin serves the agent side of a join from src; a session another
// relay of the cluster holds is spliced to it when mayForward.
func (s *Server) agentJoin(ctx context.Context, c *transport.Conn, src string, mayForward bool) {
	l, fwd, err := s.join(ctx, c, identity.SourceKey(src), mayForward)
	if err != nil {
		reason := err.Error()
		if errors.Is(err, store.ErrUnavailable) {
			s.log.Error("join refused: the database is unreachable", "err", err)
			reason = store.ErrUnavailable.Error()
		}
		s.record(auditEvent("", "session.join", "", "failure", src, "reason", reason))
		refuse(ctx, c, err)
		return
	}
	if fwd != nil {
		s.spliceAgent(ctx, c, fwd.home, cluster.KindJoin, src, fwd.first)
		return
	}
	s.record(auditEvent("", "session.join", l.Info.ID, "success", src, "device", l.Info.DeviceName))
	s.serveAgentSide(ctx, l, c)
}

// joinForward is a join whose session another relay holds: its home and
// the agent's first message.
type joinForward struct {
	home  *store.RelayInfo
	first []byte
}

// join reads the join message, checks the code and attaches the agent.
// Every failed attempt before the code is accepted is charged to src
// (Accounts.JoinFailure); a source over its budget is refused before it is
// read. A code of a session another live relay holds is stored again,
// unchanged, and the join returned for splicing (when mayForward).
func (s *Server) join(ctx context.Context, c *transport.Conn, src string, mayForward bool) (*broker.Session, *joinForward, error) {
	if !s.limiter.Allow("join:"+src, joinPerSource, time.Minute) {
		return nil, nil, apierr.TooMany(time.Minute, "too many join attempts from this address")
	}
	if err := s.accounts.AdmitJoin(src); err != nil {
		return nil, nil, err
	}
	first, m, jc, err := s.readJoin(ctx, c)
	if err != nil {
		var ae *apiError
		if errors.As(err, &ae) {
			s.accounts.JoinFailure(src)
		}
		return nil, nil, err
	}
	l := s.broker.Get(jc.SessionID)
	if l == nil && mayForward {
		if home := s.sessionHome(jc.SessionID); home != nil {
			if err := s.db.PutJoinCode(jc); err != nil {
				return nil, nil, err
			}
			return nil, &joinForward{home: home, first: first}, nil
		}
	}
	if l == nil {
		return nil, nil, errf(http.StatusGone, "ask the technician for a new code", "the technician is no longer waiting")
	}
	l.Info.DeviceName = "attended:" + sanitize.Display(m.Name, 40)
	l.Info.DeviceKey = m.PublicKey
	s.db.UpdateRecording(l.Info.ID, func(r *store.Recording) error { r.DeviceName = l.Info.DeviceName; return nil })
	if !l.Attach(c) {
		return nil, nil, errf(http.StatusGone, "ask the technician for a new code", "the session is no longer waiting")
	}
	return l, nil, nil
}

// readJoin reads the join message and consumes its code; it returns the
// message as sent too.
func (s *Server) readJoin(ctx context.Context, c *transport.Conn) ([]byte, *protocol.Control, *store.JoinCode, error) {
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	first, m, err := readFirst(rctx, c)
	if err != nil || m.Type != protocol.CtlJoin {
		return nil, nil, nil, errf(http.StatusBadRequest, "", "expected a join message")
	}
	if len(m.PublicKey) != ed25519.PublicKeySize {
		return nil, nil, nil, errf(http.StatusBadRequest, "", "join: missing session key")
	}
	norm, err := token.NormalizeJoinCode(m.Code)
	if err != nil {
		return nil, nil, nil, errf(http.StatusBadRequest, "the code looks like XXXXX-XXXXX", "malformed join code")
	}
	jc, err := s.db.ConsumeJoinCode(token.Hash(norm), now())
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrExpired) {
		return nil, nil, nil, errf(http.StatusUnauthorized, "ask the technician for a new code", "join code is invalid, expired or already used")
	} else if err != nil {
		return nil, nil, nil, err
	}
	jc.Hash = token.Hash(norm)
	return first, m, jc, nil
}
