package identity

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"

	"github.com/tether-support/tether/internal/username"
)

// A sign-in with an unknown username must not leave the typed name in the
// audit log or the store: people type their password into the username
// field. Such names are recorded as "unknown:" and a keyed digest instead,
// which is short, the same for the same name (so repeated attempts can be
// correlated) and useless without the relay's secret key.

// unknownNamePrefix starts the audit target of a failed sign-in whose name
// is no user.
const unknownNamePrefix = "unknown:"

// nameDigestLabel separates this use of the secret key from the others.
const nameDigestLabel = "tether login name digest v1\x00"

// LoginTarget returns what the audit log records as the target of a sign-in
// attempt for name: the user's ID if name is a user, else
// unknownNamePrefix and the name's digest. It is never longer than 24
// bytes and never holds the typed text.
func (s *Accounts) LoginTarget(name string) string {
	if canon, err := username.Canonical(name); err == nil {
		if u, err := s.db.UserByName(canon); err == nil {
			return u.ID.String()
		}
	}
	return unknownNamePrefix + s.nameDigest(name)
}

// nameDigest returns 16 hex digits of HMAC-SHA256 over the canonical form
// of name (or name itself if it has none), keyed with the relay's secret
// key. Without the key it returns "?" rather than anything derived from
// name alone.
func (s *Accounts) nameDigest(name string) string {
	key, err := s.secretKey()
	if err != nil {
		s.log.Error("digest of a login name", "err", err)
		return "?"
	}
	return nameDigestWith(key, name)
}

// nameDigestWith is nameDigest with the secret key given.
func nameDigestWith(key []byte, name string) string {
	if canon, err := username.Canonical(name); err == nil {
		name = canon
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(nameDigestLabel))
	m.Write([]byte(name))
	return hex.EncodeToString(m.Sum(nil)[:8])
}
