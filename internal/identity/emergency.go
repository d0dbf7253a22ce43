package identity

import (
	"crypto/hmac"
	"crypto/rand"
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

	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/rbac"
	"github.com/tether-support/tether/internal/store"
	"github.com/tether-support/tether/internal/token"
)

// MaxEmergencyTTL is the longest an emergency (break-glass) token lives.
const MaxEmergencyTTL = 60 * time.Minute

// EmergencyGrant is what DIR/emergency/<hex SHA-256 of the token>.json
// grants; the file holds it inside a grantFile.
type EmergencyGrant struct {
	// Reason says why; it is audited with every use.
	Reason string `json:"reason"`
	// CreatedAt is when the grant was issued.
	CreatedAt time.Time `json:"created_at"`
	// ExpiresAt is when the grant stops working.
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

// GrantKeyPath is the 32-byte key (mode 0600) in the data directory dir
// that grant files are MACed with; it is made with the first grant.
func GrantKeyPath(dir string) string { return filepath.Join(dir, "emergency-grant.key") }

// grantKey reads the grant key, making it first if create is set.
func grantKey(dir string, create bool) ([]byte, error) {
	k, err := os.ReadFile(GrantKeyPath(dir))
	if errors.Is(err, os.ErrNotExist) && create {
		f, err := os.OpenFile(GrantKeyPath(dir), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("create emergency grant key: %w", err)
		}
		k = make([]byte, 32)
		rand.Read(k) // crypto/rand never fails
		_, werr := f.Write(k)
		if cerr := f.Close(); werr != nil || cerr != nil {
			os.Remove(GrantKeyPath(dir))
			return nil, fmt.Errorf("write emergency grant key: %v", errors.Join(werr, cerr))
		}
		return k, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read emergency grant key: %w", err)
	}
	if len(k) != 32 {
		return nil, fmt.Errorf("emergency grant key %s is damaged (%d bytes, want 32)", GrantKeyPath(dir), len(k))
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

var (
	// ErrNoGrant is ReadGrant's answer when there is no grant for a token.
	ErrNoGrant = errors.New("no emergency grant for this token")
	// ErrGrantTampered refuses a grant file that fails its integrity check.
	ErrGrantTampered = errf(http.StatusUnauthorized, "issue a new one with `relay emergency-access` on the relay host",
		"emergency grant refused: its file failed the integrity check (edited, truncated or copied from another token)")
	// ErrGrantExpired refuses a grant past its expiry.
	ErrGrantExpired = errf(http.StatusUnauthorized, "issue a new one with `relay emergency-access` on the relay host", "session locked: emergency access expired")
)

// ReadGrant reads and authenticates the grant in the data directory dir
// for the token hashed to h. It returns ErrNoGrant if there is none,
// ErrGrantTampered if the file is not one the grant key authenticates.
func ReadGrant(dir string, h [32]byte) (EmergencyGrant, error) {
	var g EmergencyGrant
	b, err := os.ReadFile(EmergencyPath(dir, h))
	if err != nil {
		return g, ErrNoGrant
	}
	var f grantFile
	if err := json.Unmarshal(b, &f); err != nil || len(f.Grant) == 0 {
		return g, ErrGrantTampered
	}
	key, err := grantKey(dir, false)
	if err != nil || !hmac.Equal(f.MAC, grantMAC(key, h, f.Grant)) {
		return g, ErrGrantTampered
	}
	if err := json.Unmarshal(f.Grant, &g); err != nil || g.ExpiresAt.IsZero() {
		return g, ErrGrantTampered
	}
	return g, nil
}

// CheckGrant is ReadGrant that also refuses, and removes, a grant expired
// at t; it returns the expired grant with ErrGrantExpired so that its
// reason can be audited.
func CheckGrant(dir string, h [32]byte, t time.Time) (EmergencyGrant, error) {
	g, err := ReadGrant(dir, h)
	if err != nil {
		return g, err
	}
	if !t.Before(g.ExpiresAt) {
		os.Remove(EmergencyPath(dir, h))
		return g, ErrGrantExpired
	}
	return g, nil
}

// EmergencyPath is the file in the data directory dir that holds the
// grant for the token hashed to h.
func EmergencyPath(dir string, h [32]byte) string {
	return filepath.Join(emergencyDir(dir), hex.EncodeToString(h[:])+".json")
}

// IssueGrant makes a time-boxed emergency token and writes its grant into
// the data directory dir; it returns the token and the grant. The caller
// has checked that dir is a relay data directory.
func IssueGrant(dir, reason string, ttl time.Duration) (string, EmergencyGrant, error) {
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "" || len(reason) > 500:
		return "", EmergencyGrant{}, errors.New("say why with --reason TEXT (at most 500 bytes); it is audited with every use")
	case ttl <= 0 || ttl > MaxEmergencyTTL:
		return "", EmergencyGrant{}, fmt.Errorf("--ttl %v is outside 1s..%v", ttl, MaxEmergencyTTL)
	}
	raw, err := token.New(token.LoginPrefix)
	if err != nil {
		return "", EmergencyGrant{}, err
	}
	t := time.Now().UTC()
	g := EmergencyGrant{Reason: reason, CreatedAt: t, ExpiresAt: t.Add(ttl)}
	if err := WriteGrant(dir, token.Hash(raw), g); err != nil {
		return "", EmergencyGrant{}, err
	}
	return raw, g, nil
}

// WriteGrant stores g (mode 0600) in the data directory dir under the
// token's hash, MACed.
func WriteGrant(dir string, h [32]byte, g EmergencyGrant) error {
	if err := os.MkdirAll(emergencyDir(dir), 0o700); err != nil {
		return fmt.Errorf("create %s: %w", emergencyDir(dir), err)
	}
	key, err := grantKey(dir, true)
	if err != nil {
		return err
	}
	gb, _ := json.Marshal(g)
	b, _ := json.Marshal(grantFile{Grant: gb, MAC: grantMAC(key, h, gb)})
	tmp := EmergencyPath(dir, h) + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("write emergency grant: %w", err)
	}
	return os.Rename(tmp, EmergencyPath(dir, h))
}

// RemoveGrant ends the grant for the token hashed to h early.
func RemoveGrant(dir string, h [32]byte) error { return os.Remove(EmergencyPath(dir, h)) }

// EmergencyID is the user ID that an emergency token hashed to h acts
// and is audited as.
func EmergencyID(h [32]byte) ids.UserID {
	return ids.UserID("emergency-" + hex.EncodeToString(h[:6]))
}

// EmergencyUser is who a valid grant g for the token hashed to h signs
// in as: a superadmin with no stored account, and its sign-in.
func EmergencyUser(h [32]byte, g EmergencyGrant) (*store.User, *store.LoginToken) {
	id := EmergencyID(h)
	u := &store.User{ID: id, Username: "emergency", DisplayName: "Emergency access", Roles: []string{rbac.Superadmin}, State: store.UserActive}
	tok := &store.LoginToken{Hash: h, UserID: id, CreatedAt: g.CreatedAt, ExpiresAt: g.ExpiresAt, Emergency: true, Reason: g.Reason}
	return u, tok
}
