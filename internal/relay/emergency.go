package relay

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"tether/internal/audit"
	"tether/internal/ids"
	"tether/internal/rbac"
	"tether/internal/store"
	"tether/internal/token"
)

// MaxEmergencyTTL is the longest an emergency (break-glass) token lives.
const MaxEmergencyTTL = 60 * time.Minute

// EmergencyOptions describes one break-glass token.
type EmergencyOptions struct {
	// Dir is the relay's data directory; writing into it is the credential.
	Dir string
	// Reason says why; it is audited with every use. Required.
	Reason string
	// TTL is the token's lifetime: more than zero, at most MaxEmergencyTTL.
	TTL time.Duration
}

// emergencyGrant is what DIR/emergency/<hex SHA-256 of the token>.json
// grants; the file holds it inside a grantFile.
type emergencyGrant struct {
	Reason    string    `json:"reason"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// grantFile is the stored form of a grant: its JSON and an HMAC-SHA256 of
// the token's hash and that JSON under the data directory's grant key, so
// that a grant edited (a later expiry), cut short or copied to another
// token's name is refused.
type grantFile struct {
	Grant json.RawMessage `json:"grant"`
	MAC   []byte          `json:"mac"`
}

// grantLabel domain-separates grant MACs.
const grantLabel = "tether-emergency-grant-v1\x00"

func emergencyDir(dir string) string { return filepath.Join(dir, "emergency") }

// grantKeyPath is the 32-byte key (mode 0600) that grant files are MACed
// with; it is made with the first grant.
func grantKeyPath(dir string) string { return filepath.Join(dir, "emergency-grant.key") }

// grantKey reads the grant key, making it first if create is set.
func grantKey(dir string, create bool) ([]byte, error) {
	k, err := os.ReadFile(grantKeyPath(dir))
	if errors.Is(err, os.ErrNotExist) && create {
		f, err := os.OpenFile(grantKeyPath(dir), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("create emergency grant key: %w", err)
		}
		k = randBytes(32)
		_, werr := f.Write(k)
		if cerr := f.Close(); werr != nil || cerr != nil {
			os.Remove(grantKeyPath(dir))
			return nil, fmt.Errorf("write emergency grant key: %v", errors.Join(werr, cerr))
		}
		return k, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read emergency grant key: %w", err)
	}
	if len(k) != 32 {
		return nil, fmt.Errorf("emergency grant key %s is damaged (%d bytes, want 32)", grantKeyPath(dir), len(k))
	}
	return k, nil
}

// grantMAC authenticates a grant's JSON for the token hashed to h.
func grantMAC(key []byte, h [32]byte, grant []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(grantLabel))
	m.Write(h[:])
	m.Write(grant)
	return m.Sum(nil)
}

// errGrantTampered refuses a grant file that fails its integrity check.
var errGrantTampered = errf(http.StatusUnauthorized, "issue a new one with `relay emergency-access` on the relay host",
	"emergency grant refused: its file failed the integrity check (edited, truncated or copied from another token)")

// readGrant reads and authenticates the grant for the token hashed to h.
// It returns errNoToken if there is none, errGrantTampered if the file is
// not one the grant key authenticates.
func readGrant(dir string, h [32]byte) (emergencyGrant, error) {
	var g emergencyGrant
	b, err := os.ReadFile(emergencyPath(dir, h))
	if err != nil {
		return g, errNoToken
	}
	var f grantFile
	if err := json.Unmarshal(b, &f); err != nil || len(f.Grant) == 0 {
		return g, errGrantTampered
	}
	key, err := grantKey(dir, false)
	if err != nil || !hmac.Equal(f.MAC, grantMAC(key, h, f.Grant)) {
		return g, errGrantTampered
	}
	if err := json.Unmarshal(f.Grant, &g); err != nil || g.ExpiresAt.IsZero() {
		return g, errGrantTampered
	}
	return g, nil
}

func emergencyPath(dir string, h [32]byte) string {
	return filepath.Join(emergencyDir(dir), hex.EncodeToString(h[:])+".json")
}

// EmergencyAccess issues a time-boxed superadmin token on the relay host
// and returns it; only its hash is written, into the data directory, so the
// running relay honours it at once. Issuing is audited when the database is
// free (the relay stopped); every use is audited by the relay either way. An
// emergency token does not bypass anyone's consent to a session.
func EmergencyAccess(o EmergencyOptions) (string, time.Time, error) {
	o.Reason = strings.TrimSpace(o.Reason)
	switch {
	case !Initialized(o.Dir):
		return "", time.Time{}, fmt.Errorf("%q is not a relay data directory (--data DIR)", o.Dir)
	case o.Reason == "" || len(o.Reason) > 500:
		return "", time.Time{}, errors.New("say why with --reason TEXT (at most 500 bytes); it is audited with every use")
	case o.TTL <= 0 || o.TTL > MaxEmergencyTTL:
		return "", time.Time{}, fmt.Errorf("--ttl %v is outside 1s..%v", o.TTL, MaxEmergencyTTL)
	}
	raw, err := token.New(token.LoginPrefix)
	if err != nil {
		return "", time.Time{}, err
	}
	t := time.Now().UTC()
	g := emergencyGrant{Reason: o.Reason, CreatedAt: t, ExpiresAt: t.Add(o.TTL)}
	if err := writeGrant(o.Dir, token.Hash(raw), g); err != nil {
		return "", time.Time{}, err
	}
	auditIssue(o.Dir, g)
	return raw, g.ExpiresAt, nil
}

// writeGrant stores g (mode 0600) under the token's hash, MACed.
func writeGrant(dir string, h [32]byte, g emergencyGrant) error {
	if err := os.MkdirAll(emergencyDir(dir), 0o700); err != nil {
		return fmt.Errorf("create %s: %w", emergencyDir(dir), err)
	}
	key, err := grantKey(dir, true)
	if err != nil {
		return err
	}
	gb, _ := json.Marshal(g)
	b, _ := json.Marshal(grantFile{Grant: gb, MAC: grantMAC(key, h, gb)})
	tmp := emergencyPath(dir, h) + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("write emergency grant: %w", err)
	}
	return os.Rename(tmp, emergencyPath(dir, h))
}

// auditIssue records the issue in the audit log if the relay is not
// holding the database.
func auditIssue(dir string, g emergencyGrant) {
	db, err := openStore(dir)
	if err != nil {
		return
	}
	defer db.Close()
	mac, err1 := db.GetMeta(metaAuditMAC)
	seed, err2 := db.GetMeta(metaAuditSign)
	if err1 != nil || err2 != nil || len(seed) != ed25519.SeedSize {
		return
	}
	l := audit.New(db, mac, ed25519.NewKeyFromSeed(seed), time.Now)
	l.Append(audit.Event{Action: "emergency.issue", Outcome: "success", Source: "relay host",
		Details: map[string]string{"reason": g.Reason, "expires_at": g.ExpiresAt.Format(time.RFC3339)}})
	l.SignHead()
}

// errNoToken is the answer for a token the relay does not know.
var errNoToken = errf(http.StatusUnauthorized, "sign in again with `tech login`", "your sign-in is not valid (signed out, revoked or unknown)")

// emergencyPrincipal returns the break-glass principal for a token hash
// found in the data directory, auditing the use with its reason.
func (s *Server) emergencyPrincipal(r *http.Request, h [32]byte) (*principal, error) {
	id := ids.UserID("emergency-" + hex.EncodeToString(h[:6]))
	src := sourceAddr(r)
	g, err := readGrant(s.cfg.DataDir, h)
	if errors.Is(err, errGrantTampered) {
		s.record(auditEvent(id, "emergency.tampered", r.URL.Path, "denied", src))
		s.log.Warn("emergency grant failed its integrity check", "grant", id)
		return nil, err
	} else if err != nil {
		return nil, err
	}
	if !now().Before(g.ExpiresAt) {
		os.Remove(emergencyPath(s.cfg.DataDir, h))
		s.record(auditEvent(id, "emergency.expired", r.URL.Path, "denied", src, "reason", g.Reason))
		return nil, errf(http.StatusUnauthorized, "issue a new one with `relay emergency-access` on the relay host", "session locked: emergency access expired")
	}
	s.record(auditEvent(id, "emergency.use", r.Method+" "+r.URL.Path, "allowed", src, "reason", g.Reason))
	u := &store.User{ID: id, Username: "emergency", DisplayName: "Emergency access", Roles: []string{rbac.Superadmin}, State: store.UserActive}
	tok := &store.LoginToken{Hash: h, UserID: id, CreatedAt: g.CreatedAt, ExpiresAt: g.ExpiresAt, Emergency: true, Reason: g.Reason}
	return &principal{user: u, tok: tok, perms: s.accounts.Permissions(u), source: src}, nil
}

// deleteToken ends a sign-in: a stored token, or an emergency grant.
func (s *Server) deleteToken(tok *store.LoginToken) error {
	if tok.Emergency {
		return os.Remove(emergencyPath(s.cfg.DataDir, tok.Hash))
	}
	return s.db.DeleteLoginToken(tok.Hash)
}

// notEmergency refuses account self-service to an emergency principal,
// which has no account of its own.
func notEmergency(p *principal) error {
	if p.tok.Emergency {
		return errf(http.StatusForbidden, "emergency access has no password or second factor to change", "not available with emergency access")
	}
	return nil
}
