package recordings

import (
	"bufio"
	"bytes"
	"crypto/hpke"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"
)

const (
	// IdentityPrefix starts the text form of an [Identity].
	IdentityPrefix = "TETHER-RECORDING-KEY-1"
	// RecipientPrefix starts the text form of a [Recipient].
	RecipientPrefix = "tether-rec1"

	seedSize      = 32   // MLKEM768-X25519 private key (X-Wing seed)
	publicKeySize = 1216 // ML-KEM-768 encapsulation key (1184) || X25519 point (32)
	checksumSize  = 4
	keyIDSize     = 8

	// maxIdentityFileSize bounds how much of an identity file is read.
	maxIdentityFileSize = 64 << 10
)

var keyEncoding = base64.RawURLEncoding.Strict()

// kem is the only KEM this version of the format uses.
var kem = hpke.MLKEM768X25519()

// An Identity is a reviewer's private key: it opens recordings addressed to
// its [Recipient]. An Identity is safe for concurrent use and never changes
// after it is created.
type Identity struct {
	seed []byte
	priv hpke.PrivateKey
	rcpt *Recipient
}

// A Recipient is a reviewer's public key: recordings are encrypted to it. A
// Recipient is safe for concurrent use and never changes after it is created.
type Recipient struct {
	pub   hpke.PublicKey
	bytes []byte
	id    [keyIDSize]byte
}

// GenerateIdentity returns a new random Identity.
func GenerateIdentity() (*Identity, error) {
	priv, err := kem.GenerateKey()
	if err != nil {
		return nil, fmt.Errorf("recordings: generating identity: %w", err)
	}
	seed, err := priv.Bytes()
	if err != nil {
		return nil, fmt.Errorf("recordings: generating identity: %w", err)
	}
	return newIdentity(seed)
}

func newIdentity(seed []byte) (*Identity, error) {
	priv, err := kem.NewPrivateKey(seed)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	r, err := newRecipient(priv.PublicKey().Bytes())
	if err != nil {
		return nil, err
	}
	return &Identity{seed: bytes.Clone(seed), priv: priv, rcpt: r}, nil
}

func newRecipient(b []byte) (*Recipient, error) {
	pub, err := kem.NewPublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	return &Recipient{pub: pub, bytes: bytes.Clone(b), id: keyID(b)}, nil
}

// keyID is the first 8 bytes of SHA-256 of a serialised public key.
func keyID(pub []byte) [keyIDSize]byte {
	sum := sha256.Sum256(pub)
	return [keyIDSize]byte(sum[:keyIDSize])
}

// ParseIdentity parses the text form of an Identity, as returned by
// [Identity.String]. Surrounding white space is ignored.
func ParseIdentity(s string) (*Identity, error) {
	b, err := decodeKey(strings.TrimSpace(s), IdentityPrefix, seedSize)
	if err != nil {
		return nil, fmt.Errorf("%w: identity: %w", ErrInvalidKey, err)
	}
	return newIdentity(b)
}

// ParseRecipient parses the text form of a Recipient, as returned by
// [Recipient.String]. Surrounding white space is ignored.
func ParseRecipient(s string) (*Recipient, error) {
	b, err := decodeKey(strings.TrimSpace(s), RecipientPrefix, publicKeySize)
	if err != nil {
		return nil, fmt.Errorf("%w: recipient: %w", ErrInvalidKey, err)
	}
	return newRecipient(b)
}

// String returns the text form of the identity: IdentityPrefix followed by
// base64url (no padding) of the 32-byte seed and a 4-byte checksum. It is a
// secret.
func (i *Identity) String() string { return encodeKey(IdentityPrefix, i.seed) }

// Recipient returns the public key that matches the identity.
func (i *Identity) Recipient() *Recipient { return i.rcpt }

// String returns the text form of the recipient: RecipientPrefix followed by
// base64url (no padding) of the 1216-byte public key and a 4-byte checksum.
func (r *Recipient) String() string { return encodeKey(RecipientPrefix, r.bytes) }

// KeyID returns the recipient's key ID: the first 8 bytes of SHA-256 of its
// serialised public key. It names the recipient in recording headers.
func (r *Recipient) KeyID() [8]byte { return r.id }

func checksum(prefix string, payload []byte) []byte {
	h := sha256.New()
	io.WriteString(h, prefix)
	h.Write(payload)
	return h.Sum(nil)[:checksumSize]
}

func encodeKey(prefix string, payload []byte) string {
	b := append(bytes.Clone(payload), checksum(prefix, payload)...)
	return prefix + keyEncoding.EncodeToString(b)
}

func decodeKey(s, prefix string, size int) ([]byte, error) {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return nil, fmt.Errorf("missing %q prefix", prefix)
	}
	if strings.IndexFunc(rest, notBase64URL) >= 0 {
		return nil, fmt.Errorf("malformed encoding")
	}
	if keyEncoding.DecodedLen(len(rest)) != size+checksumSize {
		return nil, fmt.Errorf("wrong length")
	}
	b, err := keyEncoding.DecodeString(rest)
	if err != nil || len(b) != size+checksumSize {
		return nil, fmt.Errorf("malformed encoding")
	}
	payload, sum := b[:size], b[size:]
	if subtle.ConstantTimeCompare(sum, checksum(prefix, payload)) != 1 {
		return nil, fmt.Errorf("bad checksum (mistyped key?)")
	}
	return payload, nil
}

// notBase64URL reports characters outside the unpadded base64url alphabet.
// (The decoder itself silently skips '\r' and '\n'.)
func notBase64URL(c rune) bool {
	return !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_')
}

// ReadIdentityFile reads an identity file: exactly one identity line, with
// blank lines and lines starting with '#' ignored. On Unix it refuses
// (with [ErrInsecureKeyFile]) a file whose mode grants any permission to group
// or other users.
func ReadIdentityFile(path string) (*Identity, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("recordings: reading identity file: %w", err)
	}
	defer f.Close()
	if err := checkKeyFileMode(f, path); err != nil {
		return nil, err
	}
	id, err := parseIdentityFile(io.LimitReader(f, maxIdentityFileSize))
	if err != nil {
		return nil, fmt.Errorf("recordings: identity file %s: %w", path, err)
	}
	return id, nil
}

func checkKeyFileMode(f *os.File, path string) error {
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("recordings: reading identity file: %w", err)
	}
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		return nil
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("%w: %s has mode %04o, want 0600 (run: chmod 600 %s)", ErrInsecureKeyFile, path, perm, path)
	}
	return nil
}

func parseIdentityFile(r io.Reader) (*Identity, error) {
	var found *Identity
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if found != nil {
			return nil, fmt.Errorf("line %d: more than one identity", n)
		}
		id, err := ParseIdentity(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		found = id
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if found == nil {
		return nil, fmt.Errorf("%w: no identity found", ErrInvalidKey)
	}
	return found, nil
}

// WriteIdentityFile creates path with mode 0600 and writes a short comment
// header (creation time and public key) followed by the identity. It never
// overwrites an existing file.
func WriteIdentityFile(path string, id *Identity) (err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("recordings: writing identity file: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("recordings: writing identity file: %w", cerr)
		}
		if err != nil {
			os.Remove(path)
		}
	}()
	_, err = fmt.Fprintf(f, "# Tether recording identity (keep secret)\n# created: %s\n# public key: %s\n%s\n",
		time.Now().UTC().Format(time.RFC3339), id.Recipient(), id)
	if err == nil {
		err = f.Sync()
	}
	if err != nil {
		return fmt.Errorf("recordings: writing identity file: %w", err)
	}
	return nil
}
