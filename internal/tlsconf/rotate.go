package tlsconf

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// A rotation lives beside the current identity in the directory given to
// Generate: the next key and certificate in NextDir (same file names as
// the current ones) and RotationFile, which says when the relay switches.
const (
	NextDir      = "next"
	RotationFile = "rotation.json"
)

// maxRotationFile bounds what ReadRotation reads.
const maxRotationFile = 4 << 10

var (
	// ErrRotationPending is returned by Rotate while a rotation is under way.
	ErrRotationPending = errors.New("tlsconf: a certificate rotation is already pending")
	// ErrNoRotation is returned by FinishRotation when none is pending.
	ErrNoRotation = errors.New("tlsconf: no certificate rotation is pending")
	// ErrBadRotation is wrapped by ParseRotation's errors.
	ErrBadRotation = errors.New("tlsconf: invalid rotation file")
)

// Rotation is RotationFile: a pending switch from the current key to the
// next one.
type Rotation struct {
	// Version is 1.
	Version int `json:"version"`
	// Next is the next certificate's fingerprint (its key's pin).
	Next string `json:"next"`
	// Started is when the next key was made; SwitchAt when the relay
	// switches to it (RFC 3339, UTC).
	Started  time.Time `json:"started"`
	SwitchAt time.Time `json:"switch_at"`
	// Switching is set while Promote moves the next key into place, so
	// that an interrupted switch is completed at the next start.
	Switching bool `json:"switching,omitempty"`
}

// Due reports whether the switch is due at now.
func (r *Rotation) Due(now time.Time) bool { return r.Switching || !now.Before(r.SwitchAt) }

// ParseRotation decodes and checks a RotationFile: one JSON object, version
// 1, a canonical Next, both times set, and SwitchAt not before Started.
func ParseRotation(b []byte) (*Rotation, error) {
	if len(b) > maxRotationFile {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrBadRotation, len(b), maxRotationFile)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var r Rotation
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadRotation, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: data after the object", ErrBadRotation)
	}
	if r.Version != 1 {
		return nil, fmt.Errorf("%w: version %d, want 1", ErrBadRotation, r.Version)
	}
	next, err := ParseFingerprint(r.Next)
	if err != nil || next != r.Next {
		return nil, fmt.Errorf("%w: next is not a canonical SHA256:<hex> fingerprint", ErrBadRotation)
	}
	if r.Started.IsZero() || r.SwitchAt.IsZero() || r.SwitchAt.Before(r.Started) {
		return nil, fmt.Errorf("%w: started and switch_at must be set, switch_at not before started", ErrBadRotation)
	}
	return &r, nil
}

// ReadRotation returns the pending rotation in dir, or nil when there is
// none.
func ReadRotation(dir string) (*Rotation, error) {
	b, err := readSmall(filepath.Join(dir, RotationFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("tlsconf: read rotation: %w", err)
	}
	r, err := ParseRotation(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, RotationFile), err)
	}
	return r, nil
}

// readSmall reads at most maxRotationFile+1 bytes of path.
func readSmall(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxRotationFile+1))
}

// writeRotation stores r as RotationFile in dir, atomically.
func writeRotation(dir string, r *Rotation) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("tlsconf: encode rotation: %w", err)
	}
	return writeFile(filepath.Join(dir, RotationFile), append(b, '\n'), 0o644)
}

// Rotate makes the next key and self-signed certificate in dir/NextDir,
// with the current certificate's names and addresses, and a RotationFile
// that switches to it overlap after now. It refuses (ErrRotationPending)
// while a rotation is pending, and needs a current identity in dir.
func Rotate(dir string, overlap time.Duration, now time.Time) (*Rotation, error) {
	if overlap <= 0 {
		return nil, errors.New("tlsconf: rotate: the overlap must be positive")
	}
	if r, err := ReadRotation(dir); err != nil || r != nil {
		if err == nil {
			err = fmt.Errorf("%w: next %s, switching at %s", ErrRotationPending, r.Next, r.SwitchAt.Format(time.RFC3339))
		}
		return nil, err
	}
	cur, err := Load(dir)
	if err != nil {
		return nil, err
	}
	hosts := append([]string(nil), cur.Leaf.DNSNames...)
	for _, ip := range cur.Leaf.IPAddresses {
		hosts = append(hosts, ip.String())
	}
	next := filepath.Join(dir, NextDir)
	// Left over from a rotation that failed half way: never announced, so
	// nobody pins it.
	if err := os.RemoveAll(next); err != nil {
		return nil, fmt.Errorf("tlsconf: rotate: %w", err)
	}
	if err := Generate(next, hosts); err != nil {
		return nil, err
	}
	nc, err := Load(next)
	if err != nil {
		return nil, err
	}
	r := &Rotation{Version: 1, Next: Fingerprint(nc.Leaf), Started: now.UTC().Truncate(time.Second),
		SwitchAt: now.Add(overlap).UTC().Truncate(time.Second)}
	if err := writeRotation(dir, r); err != nil {
		return nil, err
	}
	return r, nil
}

// FinishRotation makes the pending rotation due now: the relay switches at
// its next check, or its next start.
func FinishRotation(dir string, now time.Time) (*Rotation, error) {
	r, err := ReadRotation(dir)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, ErrNoRotation
	}
	if now.Before(r.SwitchAt) {
		r.SwitchAt = now.UTC().Truncate(time.Second)
		if r.SwitchAt.Before(r.Started) {
			r.SwitchAt = r.Started
		}
		if err := writeRotation(dir, r); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// LoadNext loads the pending rotation's next identity and checks it is the
// one r names.
func LoadNext(dir string, r *Rotation) (tls.Certificate, error) {
	c, err := Load(filepath.Join(dir, NextDir))
	if err != nil {
		return tls.Certificate{}, err
	}
	if fp := Fingerprint(c.Leaf); !same(fp, r.Next) {
		return tls.Certificate{}, fmt.Errorf("tlsconf: the next certificate is %s, but %s names %s", fp, RotationFile, r.Next)
	}
	return c, nil
}

// Promote switches dir to the next identity of the pending rotation r and
// removes the old key: it marks the rotation as switching, moves the next
// key and certificate over the current ones, then removes NextDir and
// RotationFile. An interrupted Promote is completed by calling it again
// (the relay does at its start).
func Promote(dir string, r *Rotation) error {
	if !r.Switching {
		if _, err := LoadNext(dir, r); err != nil {
			return err
		}
		r.Switching = true
		if err := writeRotation(dir, r); err != nil {
			return err
		}
	}
	for _, name := range []string{KeyFile, CertFile} {
		err := os.Rename(filepath.Join(dir, NextDir, name), filepath.Join(dir, name))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("tlsconf: switch to the next certificate: %w", err)
		}
	}
	cur, err := Load(dir)
	if err != nil {
		return fmt.Errorf("tlsconf: switch to the next certificate: %w", err)
	}
	if fp := Fingerprint(cur.Leaf); !same(fp, r.Next) {
		return fmt.Errorf("tlsconf: switch to the next certificate: the current one is %s, want %s", fp, r.Next)
	}
	if err := os.RemoveAll(filepath.Join(dir, NextDir)); err != nil {
		return fmt.Errorf("tlsconf: switch to the next certificate: %w", err)
	}
	if err := os.Remove(filepath.Join(dir, RotationFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("tlsconf: switch to the next certificate: %w", err)
	}
	return nil
}

// CancelRotation withdraws the pending rotation: RotationFile first (the
// relay stops announcing), then the next key.
func CancelRotation(dir string) (*Rotation, error) {
	r, err := ReadRotation(dir)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, ErrNoRotation
	}
	if r.Switching {
		return nil, errors.New("tlsconf: the switch to the next certificate has begun; it cannot be cancelled")
	}
	if err := os.Remove(filepath.Join(dir, RotationFile)); err != nil {
		return nil, fmt.Errorf("tlsconf: cancel rotation: %w", err)
	}
	if err := os.RemoveAll(filepath.Join(dir, NextDir)); err != nil {
		return nil, fmt.Errorf("tlsconf: cancel rotation: %w", err)
	}
	return r, nil
}
