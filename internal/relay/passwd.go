package relay

import (
	"encoding/json"
	"io"
	"net/http"

	"github.com/tether-support/tether/internal/api"
)

// maxLoginBody bounds a login or password-change body. It is well above
// password.MaxLength so that an overlong password is refused by name rather
// than as a malformed body.
const maxLoginBody = 4 << 20

// readBig decodes a JSON body of at most maxLoginBody bytes into v.
func readBig(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxLoginBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errf(http.StatusBadRequest, "", "malformed request body: %v", err)
	}
	return nil
}

// handlePasswd changes the caller's password after checking the current
// one, the organisations' policy and the password history. Other sign-ins
// of the user are revoked.
func (s *Server) handlePasswd(w http.ResponseWriter, r *http.Request, p *principal) {
	var req api.PasswdRequest
	if err := readBig(r, &req); err != nil {
		s.writeErr(w, err)
		return
	}
	err := notEmergency(p)
	if err == nil {
		err = s.accounts.ChangePassword(r.Context(), p.user, p.source, []byte(req.Current), []byte(req.New))
	}
	if err != nil {
		s.record(auditEvent(p.user.ID, "user.passwd", p.user.ID, "failure", p.source, "reason", err.Error()))
		s.writeErr(w, err)
		return
	}
	s.record(auditEvent(p.user.ID, "user.passwd", p.user.ID, "success", p.source))
	if _, err := s.db.DeleteUserLoginTokensExcept(p.user.ID, p.tok.Hash); err != nil {
		s.log.Error("revoke other sign-ins", "user", p.user.ID, "err", err)
	}
	writeJSON(w, http.StatusOK, api.Status{Status: "password changed"})
}
