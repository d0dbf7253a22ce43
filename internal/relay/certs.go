package relay

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/tlsconf"
)

// The relay's TLS identity and its rotation (PROTOCOL.md section 2, TLS).
//
// The listener picks the certificate per handshake (getCertificate) from
// certs, so a switch needs no restart: connections already open keep the
// key they were made with, new ones get the new key. `relay cert rotate`
// (tlsconf.Rotate) only writes files; the relay finds them at its start and
// then every Config.CertCheck (checkRotation), audits and announces the
// next pin, and switches once the rotation is due.

// certState is the identity served now and the rotation announced, if any.
type certState struct {
	cert *tls.Certificate
	fp   string
	// next and switchAt describe the announced rotation; next is "" when
	// none is.
	next     string
	switchAt time.Time
}

// loadCerts completes a switch a crash interrupted and loads the current
// identity. A rotation file that does not parse stops the start.
func (s *Server) loadCerts() error {
	dir := tlsDir(s.cfg.DataDir)
	rot, err := tlsconf.ReadRotation(dir)
	if err != nil {
		return fmt.Errorf("certificate rotation: %w (fix or remove the file; see docs/operations.md)", err)
	}
	if rot != nil && rot.Switching {
		if err := tlsconf.Promote(dir, rot); err != nil {
			return fmt.Errorf("complete the interrupted certificate switch: %w", err)
		}
	}
	cert, err := tlsconf.Load(dir)
	if err != nil {
		return fmt.Errorf("load TLS identity from %q (was the directory made by `relay init`?): %w", s.cfg.DataDir, err)
	}
	s.certs.Store(&certState{cert: &cert, fp: tlsconf.Fingerprint(cert.Leaf)})
	return nil
}

// Fingerprint returns the pin of the certificate served now, "SHA256:<hex>".
func (s *Server) Fingerprint() string { return s.certs.Load().fp }

// watchCerts looks for a rotation's files every Config.CertCheck.
func (s *Server) watchCerts(ctx context.Context) {
	every(ctx, s.cfg.CertCheck, s.checkRotation)
}

// checkRotation brings the served identity in line with the data
// directory: it announces a new rotation, switches when one is due, and
// stops announcing one whose file was removed.
func (s *Server) checkRotation() {
	s.certMu.Lock()
	defer s.certMu.Unlock()
	dir := tlsDir(s.cfg.DataDir)
	rot, err := tlsconf.ReadRotation(dir)
	if err != nil {
		s.certProblem(err)
		return
	}
	cur := s.certs.Load()
	switch {
	case rot == nil && cur.next == "":
	case rot == nil:
		s.withdrawRotation(cur)
	case rot.Due(time.Now()):
		s.switchCert(dir, cur, rot)
	case rot.Next != cur.next || !rot.SwitchAt.Equal(cur.switchAt):
		s.announceRotation(dir, cur, rot)
	}
}

// certProblem logs a problem with the rotation's files, once for each
// distinct message, and keeps serving what is served.
func (s *Server) certProblem(err error) {
	if msg := err.Error(); msg != s.certErr {
		s.certErr = msg
		s.log.Error("certificate rotation: keeping the certificate served now", "err", err)
	}
}

// announceRotation starts announcing rot's next pin: audited, sent to the
// agents connected now, and from now on to every agent that connects and
// on every signed-in technician's answer.
func (s *Server) announceRotation(dir string, cur *certState, rot *tlsconf.Rotation) {
	if _, err := tlsconf.LoadNext(dir, rot); err != nil {
		s.certProblem(err)
		return
	}
	if rot.Next == cur.fp {
		s.certProblem(fmt.Errorf("the next certificate %s is the one served now", rot.Next))
		return
	}
	s.certErr = ""
	s.certs.Store(&certState{cert: cur.cert, fp: cur.fp, next: rot.Next, switchAt: rot.SwitchAt})
	s.record(auditEvent(hostActor, "relay.cert.announce", rot.Next, "success", hostActor,
		"current", cur.fp, "switch_at", rot.SwitchAt.Format(time.RFC3339)))
	s.log.Info("announcing the next TLS certificate", "current", cur.fp, "next", rot.Next, "switch_at", rot.SwitchAt)
	msg := &protocol.Control{Type: protocol.CtlNextPin, Pin: rot.Next}
	for _, a := range s.agents.All() {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			a.Conn.WriteControl(ctx, msg)
		}()
	}
}

// switchCert makes rot's next identity the one served and removes the old
// key. Agents' control connections are closed, so that each reconnects,
// sees the new key in use and drops the old pin.
func (s *Server) switchCert(dir string, cur *certState, rot *tlsconf.Rotation) {
	if err := tlsconf.Promote(dir, rot); err != nil {
		s.certProblem(err)
		return
	}
	cert, err := tlsconf.Load(dir)
	if err != nil {
		s.certProblem(err)
		return
	}
	s.certErr = ""
	fp := tlsconf.Fingerprint(cert.Leaf)
	s.certs.Store(&certState{cert: &cert, fp: fp})
	s.record(auditEvent(hostActor, "relay.cert.switch", fp, "success", hostActor, "previous", cur.fp))
	s.log.Info("switched to the next TLS certificate; the old key is removed", "previous", cur.fp, "current", fp)
	for _, a := range s.agents.All() {
		go a.Conn.Close("the relay switched to its next certificate; reconnect")
	}
}

// withdrawRotation stops announcing a rotation whose file was removed by
// hand.
func (s *Server) withdrawRotation(cur *certState) {
	s.certs.Store(&certState{cert: cur.cert, fp: cur.fp})
	s.record(auditEvent(hostActor, "relay.cert.withdraw", cur.next, "success", hostActor, "current", cur.fp))
	s.log.Warn("the certificate rotation was withdrawn (its file is gone); no next pin is announced", "next", cur.next)
}

// announceNextPin adds the next pin, during a rotation, to an answer for
// a signed-in technician (protocol.HeaderNextPin).
func (s *Server) announceNextPin(w http.ResponseWriter) {
	if next := s.certs.Load().next; next != "" {
		w.Header().Set(protocol.HeaderNextPin, next)
	}
}

// nextPinMessage is the control message announcing the next pin to an
// agent, or nil when no rotation is announced.
func (s *Server) nextPinMessage() *protocol.Control {
	if next := s.certs.Load().next; next != "" {
		return &protocol.Control{Type: protocol.CtlNextPin, Pin: next}
	}
	return nil
}

// servedCert records which certificate one connection's handshake got,
// for the agent's authentication, which is bound to it.
type servedCert struct{ fp atomic.Pointer[string] }

// servedKey carries a connection's *servedCert in its context.
type servedKey struct{}

// getCertificate is the listener's tls.Config.GetCertificate: the current
// certificate, noted for the connection.
func (s *Server) getCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	st := s.certs.Load()
	if h, ok := s.served.Load(hello.Conn); ok {
		h.(*servedCert).fp.Store(&st.fp)
	}
	return st.cert, nil
}

// trackServed prepares a TLS connection's record of the certificate it is
// served (from http.Server.ConnContext).
func (s *Server) trackServed(ctx context.Context, c net.Conn) context.Context {
	tc, ok := c.(*tls.Conn)
	if !ok {
		return ctx
	}
	h := &servedCert{}
	s.served.Store(tc.NetConn(), h)
	return context.WithValue(ctx, servedKey{}, h)
}

// connState forgets a connection in served once its handshake is behind
// it (http.Server.ConnState).
func (s *Server) connState(c net.Conn, st http.ConnState) {
	if st == http.StateNew || st == http.StateIdle {
		return
	}
	if tc, ok := c.(*tls.Conn); ok {
		s.served.Delete(tc.NetConn())
	}
}

// servedFingerprint is the pin of the certificate the request's
// connection was served, or the current one if unknown.
func (s *Server) servedFingerprint(ctx context.Context) string {
	if h, _ := ctx.Value(servedKey{}).(*servedCert); h != nil {
		if fp := h.fp.Load(); fp != nil {
			return *fp
		}
	}
	return s.Fingerprint()
}
