package password

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// ErrMalformed means an encoded hash could not be parsed or has parameters
// outside the accepted limits.
var ErrMalformed = errors.New("password: malformed hash")

// Limits on parameters accepted from an encoded hash, so that a corrupted or
// hostile record cannot make Verify allocate gigabytes or spin for minutes.
const (
	maxMemory  = 1 << 20 // KiB: 1 GiB
	maxTime    = 10
	maxThreads = 16
	minSaltLen = 8
	maxSaltLen = 64
	minKeyLen  = 16
	maxKeyLen  = 64
)

var b64 = base64.RawStdEncoding

// encode returns the PHC string for an argon2id hash.
func encode(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Parse decodes a PHC string "$argon2id$v=19$m=M,t=T,p=P$salt$hash" into
// its parameters, salt and key. It rejects other algorithms and versions
// and parameters beyond 1 GiB of memory, 10 passes or 16 threads.
func Parse(encoded string) (Params, []byte, []byte, error) {
	var p Params
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" {
		return p, nil, nil, fmt.Errorf("%w: want 5 $-separated fields", ErrMalformed)
	}
	if parts[1] != "argon2id" {
		return p, nil, nil, fmt.Errorf("%w: algorithm %q, want argon2id", ErrMalformed, parts[1])
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, fmt.Errorf("%w: unsupported version %q", ErrMalformed, parts[2])
	}
	if err := parseParams(parts[3], &p); err != nil {
		return p, nil, nil, err
	}
	salt, err := decodeField(parts[4], "salt", minSaltLen, maxSaltLen)
	if err != nil {
		return p, nil, nil, err
	}
	key, err := decodeField(parts[5], "hash", minKeyLen, maxKeyLen)
	if err != nil {
		return p, nil, nil, err
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}

// parseParams parses "m=M,t=T,p=P", in that order, into p.
func parseParams(s string, p *Params) error {
	kv := strings.Split(s, ",")
	if len(kv) != 3 {
		return fmt.Errorf("%w: parameters %q, want m=,t=,p=", ErrMalformed, s)
	}
	m, err := parseParam(kv[0], "m", 1, maxMemory)
	if err != nil {
		return err
	}
	t, err := parseParam(kv[1], "t", 1, maxTime)
	if err != nil {
		return err
	}
	th, err := parseParam(kv[2], "p", 1, maxThreads)
	if err != nil {
		return err
	}
	if m < 8*th {
		return fmt.Errorf("%w: memory %d KiB below 8*threads", ErrMalformed, m)
	}
	p.Memory, p.Time, p.Threads = uint32(m), uint32(t), uint8(th)
	return nil
}

// parseParam parses "name=N" with lo <= N <= hi.
func parseParam(s, name string, lo, hi uint64) (uint64, error) {
	v, ok := strings.CutPrefix(s, name+"=")
	if !ok {
		return 0, fmt.Errorf("%w: want parameter %s", ErrMalformed, name)
	}
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil || n < lo || n > hi || strconv.FormatUint(n, 10) != v {
		return 0, fmt.Errorf("%w: parameter %s=%q out of range [%d, %d]", ErrMalformed, name, v, lo, hi)
	}
	return n, nil
}

// decodeField decodes unpadded standard base64 of length lo..hi bytes.
func decodeField(s, name string, lo, hi int) ([]byte, error) {
	if len(s) > b64.EncodedLen(hi) {
		return nil, fmt.Errorf("%w: %s too long", ErrMalformed, name)
	}
	b, err := b64.Strict().DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrMalformed, name, err)
	}
	if len(b) < lo || len(b) > hi {
		return nil, fmt.Errorf("%w: %s is %d bytes, want %d to %d", ErrMalformed, name, len(b), lo, hi)
	}
	return b, nil
}
