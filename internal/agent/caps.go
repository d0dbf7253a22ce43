package agent

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tether-support/tether/internal/consent"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/sanitize"
)

// hasCap reports whether capability c is granted right now (as
// protocol.Covers says: screen-control covers screen-view). A session
// reusing its parent's consent has c only while the parent has it too, so a
// revocation reaches it even before it hears of it. It takes no lock (two
// atomic loads per session), so a desktop handler may call it for every
// input event; see also onRevoke.
func (s *deviceSession) hasCap(c string) bool {
	if !s.grants.allows(c) {
		return false
	}
	p := s.parent.Load()
	return p == nil || p.hasCap(c)
}

// grantedCaps returns a copy of what is granted.
func (s *deviceSession) grantedCaps() []string {
	s.capMu.Lock()
	defer s.capMu.Unlock()
	return slices.Clone(s.granted)
}

// setGranted replaces the granted set and reports it to the relay with a
// new signed consent receipt. Capabilities it takes away stop being
// granted at once, and their onRevoke hooks (this session's and those of
// the sessions reusing its consent) run before the relay is told; so do
// the onGrant hooks of the capabilities it adds.
func (s *deviceSession) setGranted(ctx context.Context, caps []string, granted bool, why string) {
	s.capMu.Lock()
	s.granted = slices.Clone(caps)
	lost, gained := s.grants.swap(caps)
	rev := s.revision
	s.revision++
	children := slices.Clone(s.children)
	s.capMu.Unlock()
	s.grants.fire(lost, why)
	s.grants.fireGrant(gained, why)
	for _, c := range children {
		c.grants.fire(lost, why)
		c.grants.fireGrant(gained, why)
	}
	receipt, sig := s.receipt(caps, granted, rev)
	s.conn.WriteControl(ctx, &protocol.Control{Type: protocol.CtlConsent, Granted: granted, Caps: caps, Reason: why,
		Receipt: receipt, ReceiptSig: sig})
}

// receipt builds and signs a consent receipt with the device key.
func (s *deviceSession) receipt(caps []string, granted bool, rev int) ([]byte, []byte) {
	t := time.Now().UTC()
	r := protocol.ConsentReceipt{Session: s.info.ID, Device: s.info.DeviceID, Tech: s.info.TechID, Caps: caps,
		Granted: granted, Time: t, Expires: t.Add(s.pol.limit), Revision: rev, PolicyVersion: s.policyVersion,
		CertID: certID(s.certRaw)}
	b, _ := json.Marshal(r)
	return b, ed25519.Sign(s.key, protocol.ReceiptMessage(b))
}

// view is what the end user is shown of this session now.
func (s *deviceSession) view() SessionView {
	name, user := s.techShown()
	return SessionView{ID: s.info.ID, TechName: name, TechUser: user, Caps: s.grantedCaps()}
}

// requestCaps asks the end user again for capabilities requested
// mid-session; the answer applies to that request only. At most one request
// is pending per session, requests come no faster than
// Config.CapRequestInterval and no more than Config.CapRequestBudget per
// session: anything beyond is refused at once, without a prompt. A request
// within those limits for a capability the technician's role does not
// allow is refused without a prompt too, and, like the end user's
// answers, reported to the relay for its audit log. A request for
// screen-control asks for screen-view with it.
func (s *deviceSession) requestCaps(ctx context.Context, p []byte) error {
	var req protocol.CapRequest
	if err := protocol.DecodeJSON(p, &req); err != nil {
		return err
	}
	if len(req.Caps) == 0 {
		return errors.New("protocol error: a capability request named no capability")
	}
	for _, c := range req.Caps {
		if !protocol.KnownCapability(c) {
			return fmt.Errorf("protocol error: unknown capability %q requested", sanitize.Display(c, 40))
		}
	}
	asked := protocol.NormalizeCaps(req.Caps)
	if why := s.admitCapRequest(); why != "" {
		s.markCaps(asked, "refused without asking: "+why)
		s.ch.SendJSON(ctx, protocol.InCapAnswer, protocol.Consent{Caps: s.grantedCaps(), Why: why})
		return nil
	}
	for _, c := range asked {
		if !s.pol.mayAsk(c) {
			s.refuseCapRequest(ctx, asked, "the technician's role does not allow "+c)
			return nil
		}
	}
	go s.askForCaps(ctx, asked)
	return nil
}

// refuseCapRequest refuses an admitted request without asking the end
// user: a marker per capability, a consent report for the audit log, the
// answer to the technician.
func (s *deviceSession) refuseCapRequest(ctx context.Context, asked []string, why string) {
	defer s.capRequestDone()
	s.markCaps(asked, "refused without asking: "+why)
	all := s.grantedCaps()
	s.setGranted(ctx, all, false, capsLabel(asked)+" refused without asking: "+why)
	s.ch.SendJSON(ctx, protocol.InCapAnswer, protocol.Consent{Caps: all, Why: why})
}

// askForCaps prompts the end user for an admitted request and answers it;
// the prompt may take a minute, so it runs beside the session's reading.
func (s *deviceSession) askForCaps(ctx context.Context, asked []string) {
	defer s.capRequestDone()
	pctx, cancel := s.untilEnded(ctx)
	defer cancel()
	d := s.ask(pctx, s.consentRequest(asked))
	if s.ending.Load() {
		return
	}
	all := s.grantedCaps()
	why := d.Why
	if d.Granted {
		var added []string
		for _, c := range d.Capabilities {
			if !slices.Contains(all, c) {
				all, added = append(all, c), append(added, c)
			}
		}
		s.rec.marker("capability granted: %s", capsLabel(d.Capabilities))
		s.markCaps(added, "granted")
	} else {
		s.rec.marker("capability refused: %s (%s)", capsLabel(asked), d.Why)
		s.markCaps(asked, "refused: "+d.Why)
		why = capsLabel(asked) + " refused: " + d.Why
	}
	s.setGranted(ctx, all, d.Granted, why)
	s.ch.SendJSON(ctx, protocol.InCapAnswer, protocol.Consent{Granted: d.Granted, Caps: all, Why: d.Why})
	s.ui.Status(s.view())
}

// markCaps puts one recording marker per capability: "<cap> <what>", such
// as "screen-control granted" or "screen-view revoked by the end user".
func (s *deviceSession) markCaps(caps []string, what string) {
	for _, c := range caps {
		s.rec.marker("%s %s", c, what)
	}
}

// admitCapRequest takes one capability request from the session's budget,
// or says why it is refused without asking.
func (s *deviceSession) admitCapRequest() string {
	s.capMu.Lock()
	defer s.capMu.Unlock()
	now := time.Now()
	switch {
	case s.capPending:
		return "another capability request is still waiting for the end user's answer"
	case s.capAsked >= s.cfg.CapRequestBudget:
		return fmt.Sprintf("too many capability requests in this session (at most %d)", s.cfg.CapRequestBudget)
	case !s.capLast.IsZero() && now.Sub(s.capLast) < s.cfg.CapRequestInterval:
		return fmt.Sprintf("capability requests too frequent: wait %v between them", s.cfg.CapRequestInterval)
	}
	s.capPending = true
	s.capAsked++
	s.capLast = now
	return ""
}

// capRequestDone marks the pending capability request answered; the
// interval counts from the answer.
func (s *deviceSession) capRequestDone() {
	s.capMu.Lock()
	s.capPending = false
	s.capLast = time.Now()
	s.capMu.Unlock()
}

// untilEnded returns a context cancelled when ctx is or the session ends,
// so a prompt for an ended session closes at once.
func (s *deviceSession) untilEnded(ctx context.Context) (context.Context, context.CancelFunc) {
	c, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-s.ended:
			cancel()
		case <-c.Done():
		}
	}()
	return c, cancel
}

// revoke takes capabilities away at the end user's word and reports
// whether anything was granted that caps names. Revoking the shell ends the
// session; revoking a file direction stops transfers in that direction at
// once. Sessions reusing this one's consent lose the same capabilities
// (see hasCap).
func (s *deviceSession) revoke(caps []string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if slices.Contains(caps, protocol.CapShell) && s.hasCap(protocol.CapShell) {
		s.end("the end user revoked the shell")
		return true
	}
	kept, gone := revokeCaps(s.grantedCaps(), caps)
	if len(gone) == 0 {
		return false
	}
	why := "revoked by the end user: " + capsLabel(gone)
	s.setGranted(ctx, kept, true, why)
	s.files.abortDirections(!protocol.Covers(kept, protocol.CapFilesTo), !protocol.Covers(kept, protocol.CapFilesFrom), why)
	s.rec.marker("%s", why)
	s.markCaps(gone, "revoked by the end user")
	s.ui.Notice(fmt.Sprintf("Revoked %s.", strings.Join(gone, ", ")))
	s.ch.SendJSON(ctx, protocol.InCapRevoked, protocol.Consent{Granted: true, Caps: kept, Why: why})
	s.ui.Status(s.view())
	return true
}

// revokeCaps takes caps out of granted and returns what remains and what
// was taken. Each file direction can be taken by its own name from a
// "files" grant (the other direction stays), and "files" takes both.
// screen-view takes screen-control with it; screen-control alone leaves
// screen-view.
func revokeCaps(granted, caps []string) (kept, gone []string) {
	for _, g := range granted {
		if g == protocol.CapFiles {
			for _, dir := range []string{protocol.CapFilesTo, protocol.CapFilesFrom} {
				if revoked(dir, caps) {
					gone = append(gone, dir)
				} else {
					kept = append(kept, dir)
				}
			}
			continue
		}
		if revoked(g, caps) {
			gone = append(gone, g)
		} else {
			kept = append(kept, g)
		}
	}
	if len(gone) == 0 {
		return granted, nil
	}
	return kept, gone
}

// revoked reports whether granted capability g falls under a revocation.
func revoked(g string, caps []string) bool {
	for _, c := range caps {
		if c == g || (c == protocol.CapFiles && (g == protocol.CapFilesTo || g == protocol.CapFilesFrom)) ||
			(c == protocol.CapScreenView && g == protocol.CapScreenControl) {
			return true
		}
	}
	return false
}

// consentRequest describes this session's technician asking for caps.
func (s *deviceSession) consentRequest(caps []string) consent.Request {
	req := consent.Request{SessionID: s.info.ID.String(), TechName: s.info.TechName, TechUser: s.info.TechUser,
		Org: s.info.Org, Capabilities: caps, Recorded: s.info.Recorded, SecurityCode: s.ch.SecurityCode,
		Reason: s.info.Reason, ShellGranted: s.shellGranted()}
	certifyRequest(&req, s.cert)
	return req
}

// fileMoved records a finished transfer: a recording marker, and a report
// to the relay for the audit log (name, size, SHA-256).
func (s *deviceSession) fileMoved(direction, rel string, size int64, sum string) {
	s.rec.marker("file %s: %s (%d bytes, sha256 %s)", direction, rel, size, sum)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.conn.WriteControl(ctx, &protocol.Control{Type: protocol.CtlFile, Mode: direction, Name: rel, Size: size, Hash: sum})
}
