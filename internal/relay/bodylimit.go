package relay

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/password"
	"github.com/tether-support/tether/internal/protocol"
)

// Request body limits, enforced before any byte of a body is parsed.
const (
	// MaxLoginBody bounds POST /v1/login and /v1/agent/enroll: a name, a
	// password of at most password.MaxLength bytes (or a token) and a key.
	MaxLoginBody = 8 << 10
	// MaxSecretBody bounds the bodies carrying two passwords (passwd) or a
	// password again (MFA), JSON-escaped.
	MaxSecretBody = 16 << 10
	// MaxAPIBody bounds every other POST body.
	MaxAPIBody = 64 << 10
	// MaxIgnoredBody bounds the body of a GET or DELETE, which is ignored
	// (some clients send "{}").
	MaxIgnoredBody = 1 << 10
	// MaxTrustBody bounds PUT /v1/trust/root, /v1/trust/policy and /v1/trust/revocations: one signed document of at
	// most trust.MaxDocumentSize bytes, base64 in JSON.
	MaxTrustBody = 360 << 10
)

// bodyLimit returns the most body bytes the route pattern accepts; only
// POST routes use a body.
func bodyLimit(pattern string) int64 {
	method, path, _ := strings.Cut(pattern, " ")
	switch {
	case method == http.MethodPut && (path == protocol.PathTrustRoot || path == protocol.PathTrustPolicy || path == protocol.PathTrustRevocations || strings.HasPrefix(path, protocol.PathTrustCerts+"/")):
		return MaxTrustBody
	case method == http.MethodPut && path == protocol.PathTrustTechKey:
		return MaxAPIBody
	case method != http.MethodPost:
		return MaxIgnoredBody
	case path == protocol.PathLogin || path == protocol.PathAgentEnroll:
		return MaxLoginBody
	case path == protocol.PathPasswd || path == protocol.PathMFAEnroll || path == protocol.PathMFAConfirm || path == protocol.PathMFADisable:
		return MaxSecretBody
	default:
		return MaxAPIBody
	}
}

// streamed reports whether the route answers with a download of unbounded
// size, whose write deadline is renewed on every write.
func streamed(pattern string) bool {
	rt, _ := api.Find(pattern)
	return rt.Download
}

// limitBody wraps a route's handler: a body declared larger than the
// route's limit is refused with 413 before it is read; any other body is
// read through http.MaxBytesReader, so no more than the limit is ever
// read or held whatever the peer claims. Public routes have their body
// read in full here, before the handler (and its rate limits) run;
// authenticated routes read it once the token is checked (authed).
func (s *Server) limitBody(rt route) http.Handler {
	limit, stream := bodyLimit(rt.pattern), streamed(rt.pattern)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > limit {
			s.refuseBody(w, r, tooLarge(r, limit))
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		if rt.perm == permPublic || rt.perm == permClusterPeer {
			if err := bufferBody(r, limit); err != nil {
				s.refuseBody(w, r, err)
				return
			}
			bodyRead(w)
		}
		if stream {
			w = &progressWriter{ResponseWriter: w, rc: http.NewResponseController(w), d: s.cfg.Limits.WriteTimeout}
		}
		rt.handler.ServeHTTP(w, r)
	})
}

// tooLarge is the answer to a body over the route's limit.
func tooLarge(r *http.Request, limit int64) *apiError {
	hint := "send a smaller request"
	if limit < MaxAPIBody && r.Method == http.MethodPost {
		hint = fmt.Sprintf("a password is at most %d bytes; send a smaller request", password.MaxLength)
	}
	return errf(http.StatusRequestEntityTooLarge, hint,
		"request body too long: %s %s accepts at most %d bytes", r.Method, r.URL.Path, limit)
}

// bufferBody reads r's (MaxBytesReader-bounded) body in full and replaces
// it with the bytes read, allocating at most limit bytes. A body over the
// limit is a 413, one not sent within the read timeout a 408.
func bufferBody(r *http.Request, limit int64) error {
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	b, err := io.ReadAll(r.Body)
	r.Body.Close()
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return tooLarge(r, limit)
	} else if err != nil {
		return errf(http.StatusRequestTimeout, "send the whole request at once",
			"request body not received in time: %v", err)
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	return nil
}

// bodyRead lifts the read deadline once the whole request is in: the read
// timeout bounds how long a peer takes to send it, not how long the relay
// takes to answer (which the write timeout bounds).
func bodyRead(w http.ResponseWriter) {
	http.NewResponseController(w).SetReadDeadline(time.Time{})
}

// refuseBody answers a body refused by bufferBody (or declared too large)
// and closes the connection, so nothing more of it is read; it counts as an
// unauthenticated failure of the source.
func (s *Server) refuseBody(w http.ResponseWriter, r *http.Request, err error) {
	s.record(auditEvent("", "request.refused", r.Method+" "+r.URL.Path, "failure", sourceAddr(r), "reason", err.Error()))
	w.Header().Set("Connection", "close")
	s.writeErr(w, err)
}

// progressWriter renews the write deadline on every write, so a streamed
// download may take as long as it needs while a stalled reader is still
// cut off after the write timeout.
type progressWriter struct {
	http.ResponseWriter
	rc *http.ResponseController
	d  time.Duration
}

// Write renews the deadline, then writes.
func (p *progressWriter) Write(b []byte) (int, error) {
	p.rc.SetWriteDeadline(time.Now().Add(p.d))
	return p.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (p *progressWriter) Unwrap() http.ResponseWriter { return p.ResponseWriter }
