package relay

import (
	"errors"
	"fmt"
	"time"

	"github.com/tether-support/tether/internal/tlsconf"
)

// CertStatus is the TLS identity in a data directory: the current pin
// and, during a rotation, the next one and when the relay switches.
type CertStatus struct {
	Current  string     `json:"current"`
	Next     string     `json:"next,omitempty"`
	SwitchAt *time.Time `json:"switch_at,omitempty"`
}

// RotateCert starts a certificate rotation in the data directory dir (the
// relay may be serving from it): the next key and certificate, switched to
// overlap from now. The relay announces the next pin within
// Config.CertCheck, or at its next start.
func RotateCert(dir string, overlap time.Duration) (*tlsconf.Rotation, error) {
	if err := isDataDir(dir); err != nil {
		return nil, err
	}
	r, err := tlsconf.Rotate(tlsDir(dir), overlap, time.Now())
	if errors.Is(err, tlsconf.ErrRotationPending) {
		return nil, fmt.Errorf("%w; finish it with `relay cert rotate --data %s --finish` first", err, dir)
	}
	return r, err
}

// FinishCertRotation makes the pending rotation in dir due now.
func FinishCertRotation(dir string) (*tlsconf.Rotation, error) {
	if err := isDataDir(dir); err != nil {
		return nil, err
	}
	r, err := tlsconf.FinishRotation(tlsDir(dir), time.Now())
	if errors.Is(err, tlsconf.ErrNoRotation) {
		return nil, fmt.Errorf("no certificate rotation is pending in %s: start one with `relay cert rotate --data %s`", dir, dir)
	}
	return r, err
}

// CancelCertRotation withdraws the pending rotation in dir: the relay
// stops announcing it (audited relay.cert.withdraw) and its key is deleted.
func CancelCertRotation(dir string) (*tlsconf.Rotation, error) {
	if err := isDataDir(dir); err != nil {
		return nil, err
	}
	r, err := tlsconf.CancelRotation(tlsDir(dir))
	if errors.Is(err, tlsconf.ErrNoRotation) {
		return nil, fmt.Errorf("no certificate rotation is pending in %s", dir)
	}
	return r, err
}

// ReadCertStatus reads the TLS identity and rotation in dir.
func ReadCertStatus(dir string) (*CertStatus, error) {
	if err := isDataDir(dir); err != nil {
		return nil, err
	}
	fp, err := fingerprint(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	st := &CertStatus{Current: fp}
	r, err := tlsconf.ReadRotation(tlsDir(dir))
	if err != nil {
		return nil, err
	}
	if r != nil && !r.Switching {
		st.Next, st.SwitchAt = r.Next, &r.SwitchAt
	}
	return st, nil
}

// isDataDir refuses a directory that holds no relay database.
func isDataDir(dir string) error {
	if !Initialized(dir) {
		return fmt.Errorf("%s is not a relay data directory (run `relay init` or `relay serve` first)", dir)
	}
	return nil
}
