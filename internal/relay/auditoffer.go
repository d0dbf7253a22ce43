package relay

import (
	"context"

	"github.com/tether-support/tether/internal/audit"
	"github.com/tether-support/tether/internal/broker"
	"github.com/tether-support/tether/internal/protocol"
)

// writeOffer sends offer to a with the audit head signed now; one offer at
// a time per device, so the heads it carries never go down.
func (s *Server) writeOffer(ctx context.Context, a *broker.Agent, offer *protocol.Control) error {
	a.OfferMu.Lock()
	defer a.OfferMu.Unlock()
	offer.AuditHead = s.offerAuditHead()
	return a.Conn.WriteControl(ctx, offer)
}

// offerAuditHead signs the audit log's newest entry and returns the head
// for a session offer, so that agents can refuse a relay whose log went
// back below a head they saw (PROTOCOL.md 10.1). On failure it logs and
// returns nil: the agent then decides (one that saw a head refuses).
func (s *Server) offerAuditHead() *protocol.AuditHead {
	if err := s.audit.SignHead(); err != nil {
		s.log.Warn("cannot sign the audit head for an offer", "err", err)
		return nil
	}
	h, err := audit.LoadHead(s.db)
	if err != nil || h == nil {
		if err != nil {
			s.log.Warn("cannot load the audit head for an offer", "err", err)
		}
		return nil
	}
	return &protocol.AuditHead{Key: s.audit.HeadKey(), Seq: h.Seq, Hash: h.Hash, Time: h.Time, Sig: h.Sig}
}
