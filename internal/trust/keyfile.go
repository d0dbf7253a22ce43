package trust

import (
	"bytes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/scrypt"
)

// Key file layout constants (FORMAT.md §5).
const (
	kdfScrypt       = 1
	aeadXChaCha     = 1
	keySaltSize     = 16
	keyFileMaxBytes = 4096
	maxScryptMemory = 1 << 30
)

// keyMagic starts every key file: "TTK" and format version 1.
var keyMagic = []byte{'T', 'T', 'K', 1}

// ErrWrongPassphrase means the key file did not decrypt.
var ErrWrongPassphrase = errors.New("wrong passphrase (or the key file is damaged)")

// ScryptParams are the key file's passphrase hardening parameters.
type ScryptParams struct {
	// LogN is log2 of scrypt's cost N.
	LogN uint8
	// R is scrypt's block size.
	R uint32
	// P is scrypt's parallelism.
	P uint32
}

// DefaultScrypt costs about 128 MiB and a fraction of a second per unlock.
var DefaultScrypt = ScryptParams{LogN: 17, R: 8, P: 1}

// check bounds the parameters so a crafted file cannot exhaust memory.
func (s ScryptParams) check() error {
	if s.LogN < 10 || s.LogN > 22 || s.R < 1 || s.R > 32 || s.P < 1 || s.P > 16 ||
		uint64(128)*uint64(s.R)<<s.LogN > maxScryptMemory {
		return fmt.Errorf("scrypt parameters logN=%d r=%d p=%d are out of bounds", s.LogN, s.R, s.P)
	}
	return nil
}

// WriteKeyFile stores k in a new 0600 file at path, encrypted under
// passphrase. It never replaces an existing file.
func WriteKeyFile(path string, k *PrivateKey, passphrase []byte, params ScryptParams) error {
	b, err := sealKey(k, passphrase, params, rand.Reader)
	if err != nil {
		return fmt.Errorf("write key file %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("write key file: %w", err)
	}
	_, werr := f.Write(b)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(path)
		return fmt.Errorf("write key file %s: %w", path, werr)
	}
	return nil
}

// ReadKeyFile opens the key file at path with passphrase. It refuses a
// file that anyone but its owner may read.
func ReadKeyFile(path string, passphrase []byte) (*PrivateKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("key file %s is not a regular file", path)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("key file %s is readable by others (mode %04o); run chmod 600 on it", path, perm)
	}
	b, err := io.ReadAll(io.LimitReader(f, keyFileMaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read key file %s: %w", path, err)
	}
	k, err := openKey(b, passphrase)
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return k, nil
}

// sealKey is the key file's bytes for k.
func sealKey(k *PrivateKey, passphrase []byte, params ScryptParams, rnd io.Reader) ([]byte, error) {
	if len(passphrase) == 0 {
		return nil, errors.New("an empty passphrase is not allowed")
	}
	if err := params.check(); err != nil {
		return nil, err
	}
	salt := make([]byte, keySaltSize)
	nonce := make([]byte, chacha20poly1305.NonceSizeX)
	if _, err := io.ReadFull(rnd, salt); err != nil {
		return nil, fmt.Errorf("salt: %w", err)
	}
	if _, err := io.ReadFull(rnd, nonce); err != nil {
		return nil, fmt.Errorf("nonce: %w", err)
	}
	w := &writer{}
	w.raw(keyMagic)
	w.u8(kdfScrypt)
	w.u8(params.LogN)
	w.u32(params.R)
	w.u32(params.P)
	w.raw(salt)
	w.u8(aeadXChaCha)
	w.raw(nonce)
	aead, err := keyAEAD(passphrase, salt, params)
	if err != nil {
		return nil, err
	}
	seed := k.Seed()
	return aead.Seal(w.b, nonce, seed[:], w.b), nil
}

// openKey decrypts a key file's bytes.
func openKey(b, passphrase []byte) (*PrivateKey, error) {
	if len(b) > keyFileMaxBytes {
		return nil, errors.New("too large to be a key file")
	}
	r := &reader{b: b}
	if m := r.take(len(keyMagic)); r.err == nil && !bytes.Equal(m, keyMagic) {
		return nil, errors.New("not a Tether key file (bad magic or format version)")
	}
	kdf := r.u8()
	params := ScryptParams{LogN: r.u8(), R: r.u32(), P: r.u32()}
	salt := r.take(keySaltSize)
	alg := r.u8()
	nonce := r.take(chacha20poly1305.NonceSizeX)
	if r.err != nil {
		return nil, fmt.Errorf("header: %w", r.err)
	}
	if kdf != kdfScrypt || alg != aeadXChaCha {
		return nil, fmt.Errorf("unknown key derivation %d or cipher %d", kdf, alg)
	}
	if err := params.check(); err != nil {
		return nil, err
	}
	header := b[:len(b)-len(r.b)]
	aead, err := keyAEAD(passphrase, salt, params)
	if err != nil {
		return nil, err
	}
	seed, err := aead.Open(nil, nonce, r.b, header)
	if err != nil || len(seed) != SeedSize {
		return nil, ErrWrongPassphrase
	}
	return NewKeyFromSeed([SeedSize]byte(seed)), nil
}

// keyAEAD derives the file key from passphrase.
func keyAEAD(passphrase, salt []byte, p ScryptParams) (cipher.AEAD, error) {
	key, err := scrypt.Key(passphrase, salt, 1<<p.LogN, int(p.R), int(p.P), chacha20poly1305.KeySize)
	if err != nil {
		return nil, fmt.Errorf("derive key: %w", err)
	}
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, fmt.Errorf("cipher: %w", err)
	}
	return aead, nil
}
