package relay

import (
	"errors"
	"net/http"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/ids"
)

// The request and refusal plumbing the relay-to-relay handlers share.

// peerRequest checks that r comes from a relay of this cluster and decodes
// its JSON body into req. Otherwise it answers (a stranger's request
// audited by peerAuthorized, a malformed body not) and returns false.
func (s *Server) peerRequest(w http.ResponseWriter, r *http.Request, req any) bool {
	if !s.peerAuthorized(w, r) {
		return false
	}
	if err := readJSON(r, req); err != nil {
		s.writeErr(w, err)
		return false
	}
	return true
}

// peerDeviceRequest is peerRequest for a request about the device its
// path names ({id}): it also parses the device ID, and every refusal is
// audited (peerRefused). It returns false once it has answered.
func (s *Server) peerDeviceRequest(w http.ResponseWriter, r *http.Request, req any) (ids.DeviceID, bool) {
	if !s.peerAuthorized(w, r) {
		return "", false
	}
	if err := readJSON(r, req); err != nil {
		s.peerRefused(w, r, err)
		return "", false
	}
	id, err := ids.ParseDeviceID(r.PathValue("id"))
	if err != nil {
		s.peerRefused(w, r, errf(http.StatusBadRequest, "", "malformed device ID"))
		return "", false
	}
	return id, true
}

// peerRefused answers a cluster peer's request with err and audits the
// refusal (cluster.peer, failure); the audit entries are bounded per
// source like every refusal of an unauthenticated caller.
func (s *Server) peerRefused(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	if errors.As(err, &ae) && ae.Status < http.StatusInternalServerError {
		s.record(auditEvent("", "cluster.peer", r.Method+" "+r.URL.Path, "failure", sourceAddr(r), "reason", ae.Msg))
	}
	s.writeErr(w, err)
}

// peerNotHere answers that this relay holds no control connection of the
// device: the usual answer of a relay the device is not on (every live
// relay is asked), not a refusal.
func (s *Server) peerNotHere(w http.ResponseWriter) {
	s.writeErr(w, errf(http.StatusNotFound, "", "device not connected here"))
}

// peerClosed audits that the device's control connection was closed for
// a peer (device.disconnect, with kv) and answers 200 "closed".
func (s *Server) peerClosed(w http.ResponseWriter, r *http.Request, id ids.DeviceID, kv ...string) {
	s.record(auditEvent("", "device.disconnect", id, "success", sourceAddr(r), kv...))
	writeJSON(w, http.StatusOK, api.Status{Status: "closed"})
}
