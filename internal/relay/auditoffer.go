package relay

import (
	"tether/internal/audit"
	"tether/internal/protocol"
)

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
