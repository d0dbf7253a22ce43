package relay

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/tether-support/tether/internal/broker"
	"github.com/tether-support/tether/internal/cluster"
	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/rbac"
	"github.com/tether-support/tether/internal/store"
	"github.com/tether-support/tether/internal/transport"
)

// handleTechSession serves one technician side of one session: it reads the
// request, offers the session to the device (or hands out a join code),
// waits for the agent to attach and then forwards frames until the end.
func (s *Server) handleTechSession(w http.ResponseWriter, r *http.Request, p *principal) {
	c, err := transport.Accept(w, r)
	if err != nil {
		return
	}
	ctx := r.Context()
	l, err := s.openSession(ctx, c, p)
	if err != nil {
		refuse(ctx, c, err)
		return
	}
	kctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go c.KeepAlive(kctx)
	go l.Pump(ctx, c, false)
	select {
	case <-l.Attached():
		l.Pair(ctx)
	case <-l.Done():
	case <-time.After(l.WaitLimit()):
		l.End(l.NoAnswer())
	}
	<-l.Done()
}

// refuse tells a peer why its request failed and closes the connection.
func refuse(ctx context.Context, c *transport.Conn, err error) {
	m := &protocol.Control{Type: protocol.CtlError, Error: err.Error()}
	var ae *apiError
	if errors.Is(err, store.ErrUnavailable) {
		ae = errUnavailable()
		m.Error, m.Hint = ae.Msg, ae.Hint
	} else if errors.As(err, &ae) {
		m.Hint = ae.Hint
	} else {
		m.Error = "internal error on the relay; see its log"
	}
	c.WriteControl(ctx, m)
	c.Close("refused")
}

// openSession reads the technician's request and sets the session up.
func (s *Server) openSession(ctx context.Context, c *transport.Conn, p *principal) (*broker.Session, error) {
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	m, err := c.ReadControl(rctx)
	if err != nil {
		return nil, errf(http.StatusBadRequest, "", "no session request received: %v", err)
	}
	if m.Type != protocol.CtlRequest {
		return nil, errf(http.StatusBadRequest, "", "expected a session request, got %q", m.Type)
	}
	if m.Version != protocol.Version {
		return nil, errf(http.StatusBadRequest, "upgrade tech to the relay's version", "protocol version %d is not supported (relay speaks %d)", m.Version, protocol.Version)
	}
	caps, err := checkCaps(m.Caps, p)
	if err != nil {
		return nil, err
	}
	keys, err := s.recipientKeys()
	if err != nil {
		return nil, err
	}
	info := protocol.SessionInfo{ID: ids.NewSessionID(), TechID: p.user.ID, TechUser: p.user.Username,
		TechName: displayName(p.user), Org: s.org, Caps: caps, Reason: truncate(m.Reason, 500),
		IdleTimeout: s.cfg.IdleTimeout, MaxDuration: s.cfg.MaxSession, Recorded: true, Recipients: keys}
	info.Allowed = allowedCaps(p)
	info.STUN = slices.Clone(s.stunURLs)
	info.Roles = slices.Clone(p.user.Roles)
	if pol, err := s.accounts.UserPolicy(p.user); err == nil {
		info.RecordInput = pol.RecordInput
		info.ScreenMaxFPS = pol.ScreenFPS()
		if pol.DenyDirectPath {
			info.DirectPath = protocol.DirectPathDeny
		}
		if pol.IdleTimeout > 0 {
			info.IdleTimeout = min(info.IdleTimeout, pol.IdleTimeout)
		}
	}
	if m.Mode == store.ModeAttended {
		return s.openAttended(ctx, c, p, info)
	}
	return s.openUnattended(ctx, c, p, info, m)
}

// capPermissions are the permissions each capability needs beyond
// session.start; screen-control includes seeing the screen, so it needs
// both screen permissions.
var capPermissions = map[string][]rbac.Permission{
	protocol.CapFiles: {rbac.SessionFiles}, protocol.CapFilesTo: {rbac.SessionFiles},
	protocol.CapFilesFrom: {rbac.SessionFiles}, protocol.CapClipboard: {rbac.SessionClipboard},
	protocol.CapScreenView:    {rbac.SessionScreenView},
	protocol.CapScreenControl: {rbac.SessionScreenView, rbac.SessionScreenControl},
}

// checkCaps validates requested capabilities against the user's
// permissions and returns them normalised (screen-control brings
// screen-view; see protocol.NormalizeCaps).
func checkCaps(caps []string, p *principal) ([]string, error) {
	if len(caps) == 0 {
		caps = []string{protocol.CapShell}
	}
	for _, c := range caps {
		if !protocol.KnownCapability(c) {
			return nil, errf(http.StatusBadRequest, "capabilities are "+strings.Join(protocol.Capabilities(), ", "),
				"unknown capability %q", truncate(c, 40))
		}
		for _, perm := range capPermissions[c] {
			if !p.perms.Has(perm) {
				return nil, errf(http.StatusForbidden, "ask an administrator", "permission denied: capability %s needs %s", c, perm)
			}
		}
	}
	return protocol.NormalizeCaps(caps), nil
}

// allowedCaps lists the capabilities p's permissions allow in a session.
func allowedCaps(p *principal) []string {
	var out []string
	for _, c := range protocol.Capabilities() {
		if !slices.ContainsFunc(capPermissions[c], func(perm rbac.Permission) bool { return !p.perms.Has(perm) }) {
			out = append(out, c)
		}
	}
	return out
}

func displayName(u *store.User) string {
	if u.DisplayName != "" {
		return u.DisplayName
	}
	return u.Username
}

// openUnattended offers a session with an enrolled, online device.
func (s *Server) openUnattended(ctx context.Context, c *transport.Conn, p *principal, info protocol.SessionInfo, m *protocol.Control) (*broker.Session, error) {
	if !p.perms.Has(rbac.SessionUnattended) {
		return nil, errf(http.StatusForbidden, "ask an administrator", "permission denied: %s is required", rbac.SessionUnattended)
	}
	name, err := s.parentDevice(p, m)
	if err != nil {
		return nil, err
	}
	info.Parent = m.Parent
	dev, err := s.db.DeviceByName(name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNoDevice(name)
	} else if err != nil {
		return nil, err
	} else if err := s.checkScope(p, dev); err != nil {
		return nil, err
	}
	if !dev.RevokedAt.IsZero() {
		return nil, errf(http.StatusConflict, "an administrator can remove it with `tech devices remove`", "device %q was revoked", dev.Name)
	}
	a := s.agents.Get(dev.ID)
	var there *store.RelayInfo
	if a == nil {
		if there = s.devicePresence(dev.ID); there == nil {
			return nil, errf(http.StatusConflict, "check that `agent run` is running on it", "device %q is offline", dev.Name)
		}
	}
	info.Mode, info.DeviceID, info.DeviceName, info.DeviceKey = store.ModeUnattended, dev.ID, dev.Name, dev.PublicKey
	if info.ConsentPolicy, err = s.groupPolicy(dev.Group); err != nil {
		return nil, err
	}
	if isUnattended(info.ConsentPolicy) && strings.TrimSpace(info.Reason) == "" {
		return nil, errf(http.StatusBadRequest, "pass --reason \"ticket or reason\"",
			"device %q is in group %q, which allows unattended access only with a reason", dev.Name, dev.Group)
	}
	hostileSessionInfo(&info)
	l, attach := s.broker.Open(info, c, p.source)
	if err := s.storeSession(l, store.SessionRequested); err != nil {
		return nil, err
	}
	if err := s.deliverOffer(ctx, a, there, &protocol.Control{Type: protocol.CtlOffer, Session: &l.Info, AttachToken: attach}); err != nil {
		s.log.Warn("offer not delivered", "device", dev.Name, "err", err)
		l.End("device unreachable")
		return nil, errf(http.StatusConflict, "try again", "device %q could not be reached", dev.Name)
	}
	return l, nil
}

// parentDevice resolves the device of a request, which for `--session`
// reuse is the parent session's: a live, unattended session of the same
// technician.
func (s *Server) parentDevice(p *principal, m *protocol.Control) (string, error) {
	if m.Parent == "" {
		return m.Device, nil
	}
	l := s.broker.Get(m.Parent)
	if l == nil || l.Info.TechID != p.user.ID {
		return "", errf(http.StatusNotFound, "see `tech sessions list --active`", "no live session %q of yours", m.Parent)
	}
	if l.Info.Mode != store.ModeUnattended {
		return "", errf(http.StatusBadRequest, "", "--session works with sessions on enrolled devices only")
	}
	if m.Device != "" && m.Device != l.Info.DeviceName {
		return "", errf(http.StatusBadRequest, "", "session %s is with %q, not %q", m.Parent, l.Info.DeviceName, m.Device)
	}
	return l.Info.DeviceName, nil
}

// storeSession writes the new session record and audits the request. A
// record that cannot be written ends the session (it was never offered).
func (s *Server) storeSession(l *broker.Session, state string) error {
	i := l.Info
	err := s.db.PutSession(&store.Session{ID: i.ID, TechID: i.TechID, TechUser: i.TechUser, DeviceID: i.DeviceID,
		DeviceName: i.DeviceName, Mode: i.Mode, Capabilities: i.Caps, State: state, CreatedAt: now(), Reason: i.Reason,
		Relay: s.relayID()})
	if err != nil {
		reason := "the session could not be recorded"
		if errors.Is(err, store.ErrUnavailable) {
			reason = store.ErrUnavailable.Error()
		}
		l.End(reason)
		return fmt.Errorf("store the session: %w", err)
	}
	s.record(auditEvent(i.TechID, "session.request", i.ID, "requested", l.Source,
		append([]string{"device", i.DeviceName, "mode", i.Mode, "caps", joinCaps(i.Caps), "reason", i.Reason}, s.sessionPolicyDetails()...)...))
	return nil
}

func joinCaps(c []string) string { return strings.Join(c, ",") }

// handleAgentSession attaches an agent to a session it was offered.
func (s *Server) handleAgentSession(w http.ResponseWriter, r *http.Request) {
	c, err := transport.Accept(w, r)
	if err != nil {
		return
	}
	s.agentAttach(r.Context(), c, sourceAddr(r), true)
}

// agentAttach reads an agent's attach message and serves its side of the
// session; a session another relay of the cluster holds is spliced to it
// when mayForward (a connection spliced here is not spliced again).
func (s *Server) agentAttach(ctx context.Context, c *transport.Conn, src string, mayForward bool) {
	actx, cancel := context.WithTimeout(ctx, 10*time.Second)
	first, m, err := readFirst(actx, c)
	cancel()
	if err != nil || m.Type != protocol.CtlAttach {
		refuse(ctx, c, errf(http.StatusBadRequest, "", "expected an attach message"))
		return
	}
	l := s.broker.Get(m.SessionID)
	if l == nil && mayForward {
		if home := s.sessionHome(m.SessionID); home != nil {
			s.spliceAgent(ctx, c, home, cluster.KindAttach, src, first)
			return
		}
	}
	if l == nil || !l.CheckAttach(m.AttachToken) || !l.Attach(c) {
		s.record(auditEvent("", "session.attach", m.SessionID, "failure", src))
		refuse(ctx, c, errf(http.StatusUnauthorized, "", "no such session offer"))
		return
	}
	s.serveAgentSide(ctx, l, c)
}

// readFirst reads a connection's first message, a control message, and
// returns it as sent (a copy) and parsed.
func readFirst(ctx context.Context, c *transport.Conn) ([]byte, *protocol.Control, error) {
	msg, err := c.ReadMessage(ctx)
	if err != nil {
		return nil, nil, err
	}
	raw := slices.Clone(msg)
	t, p, err := protocol.ParseFrame(raw)
	if err != nil {
		return nil, nil, err
	}
	if t != protocol.FrameControl {
		return nil, nil, errors.New("not a control message")
	}
	m, err := protocol.ParseControl(p)
	if err != nil {
		return nil, nil, err
	}
	return raw, m, nil
}

// serveAgentSide pumps the agent's frames until the session ends.
func (s *Server) serveAgentSide(ctx context.Context, l *broker.Session, c *transport.Conn) {
	s.connAuthenticated(ctx) // attached with its offer's token or a join code
	kctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go c.KeepAlive(kctx)
	l.Pump(ctx, c, true)
	<-l.Done()
}
