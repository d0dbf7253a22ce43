package relay

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/trust"
)

// Every signed trust document the relay keeps (the root chain, the
// policy, the revocation list, the technicians' certificates) is one JSON
// document (a file of the data directory, or on a shared database a Meta
// value: trustdocs.go) and is published through the same steps; this file
// holds those shared steps.

// dataFile is one JSON trust document.
type dataFile struct {
	docs   trustDocs // where it is kept
	name   string    // its file name: "trust-policy.json"
	what   string    // what it holds, for errors: "signed policy"
	plural bool      // what is plural: "... are corrupt"
}

// load decodes the document into v; a missing one leaves v as it is and
// reports found false.
func (f dataFile) load(v any) (found bool, err error) {
	b, found, err := f.docs.read(f.name)
	if err != nil || !found {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		verb := "is"
		if f.plural {
			verb = "are"
		}
		return true, fmt.Errorf("%s %s %s corrupt: %w", f.what, f.name, verb, err)
	}
	return true, nil
}

// save replaces the document with v atomically.
func (f dataFile) save(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if err := f.docs.write(f.name, b); err != nil {
		return fmt.Errorf("write %s: %w", f.what, err)
	}
	return nil
}

// published is what accepting a published signed document yields: the
// audit entry it is recorded under and, on success, how to store it and
// what to answer.
type published struct {
	action  string       // audit action; "" records no refusal entry
	target  string       // audit target
	details []string     // success details after the document's own
	save    func() error // stores the document; nil when accepting did
	answer  any          // the success response body
}

// publishSigned is the skeleton every signed-document publish shares:
// decode the body, take the trust lock, accept the document, audit a refusal
// (with its reason) or store it, audit the success and answer.
func (s *Server) publishSigned(w http.ResponseWriter, r *http.Request, p *principal, accept func(doc []byte) (published, error)) {
	var req api.TrustPublish
	dec := json.NewDecoder(io.LimitReader(r.Body, MaxTrustBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		s.writeErr(w, errf(http.StatusBadRequest, "", "malformed request body: %v", err))
		return
	}
	unlock, err := s.lockTrust()
	if err != nil {
		s.writeErr(w, err)
		return
	}
	defer unlock()
	out, err := accept(req.Document)
	if err != nil {
		if out.action != "" {
			s.record(auditEvent(p.user.ID, out.action, out.target, "failure", p.source, documentDetails(req.Document, "reason", err.Error())...))
		}
		s.writeErr(w, err)
		return
	}
	if out.save != nil {
		if err := out.save(); err != nil {
			s.writeErr(w, err)
			return
		}
	}
	s.record(auditEvent(p.user.ID, out.action, out.target, "success", p.source, documentDetails(req.Document, out.details...)...))
	writeJSON(w, http.StatusOK, out.answer)
}

// publishedRoot is the newest root of the stored chain at t; a conflict
// when none is published.
func (s *Server) publishedRoot(t time.Time) (*trust.Root, error) {
	c, err := s.loadTrustChain()
	if err != nil {
		return nil, err
	}
	if len(c.Documents) == 0 {
		return nil, errf(http.StatusConflict, "create the organisation's root first with `tech trust init`", "no trust root is published")
	}
	ch, err := trust.VerifyChain(c.Documents, t)
	if err != nil {
		return nil, fmt.Errorf("stored trust root chain: %w", err)
	}
	return ch.Newest(), nil
}

// checkNewer refuses d unless its version is above the published
// document cur's (none published, or one that does not decode, allows
// any); what names the kind and command the tech command that signs one.
func checkNewer(cur []byte, d *trust.Document, what, command string) error {
	if cur == nil {
		return nil
	}
	old, err := trust.Decode(cur)
	if err == nil && d.Version <= old.Version {
		return errf(http.StatusConflict, "sign a newer version (`"+command+"`)", "%s version %d is not above the published version %d", what, d.Version, old.Version)
	}
	return nil
}
