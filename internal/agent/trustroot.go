package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/tether-support/tether/internal/transport"
	"github.com/tether-support/tether/internal/trust"
)

// NoRootWarning is said once per start by an agent with no pinned root.
const NoRootWarning = "no trust root is pinned: the relay is trusted for policy; " +
	"pin your organisation's root with `agent trust pin SHA256:<hex>` (see `tech trust show`)"

// TrustError is a trust root the agent refuses: the relay serves a chain
// that does not verify from the pinned root. Reconnecting cannot fix it,
// so `agent run` stops with it.
type TrustError struct{ Err error }

func (e *TrustError) Error() string {
	return "refusing the relay: " + e.Err.Error() + "; the pinned trust root is unchanged"
}

func (e *TrustError) Unwrap() error { return e.Err }

// followRoot fetches the relay's root chain and verifies it from pin,
// returning the newest root.
func followRoot(ctx context.Context, ep transport.Endpoint, pin string) (*trust.Root, error) {
	fp, err := trust.ParseFingerprint(pin)
	if err != nil {
		return nil, &TrustError{err}
	}
	docs, err := transport.GetTrustChain(ctx, ep)
	if err != nil {
		return nil, err
	}
	if len(docs) == 0 {
		return nil, &TrustError{fmt.Errorf("the relay serves no trust root, but this device pinned %s", pin)}
	}
	root, err := trust.Follow(docs, fp, time.Now())
	if err != nil {
		return nil, &TrustError{err}
	}
	return root, nil
}

// checkRoot follows the relay's root chain from the pinned root, stores
// the newest root reached and keeps it for the sessions to check
// technician certificates against; a device with no pin checks nothing.
func (a *Agent) checkRoot(ctx context.Context) error {
	if a.st.TrustRoot == "" {
		return nil
	}
	root, err := followRoot(ctx, a.endpoint(), a.st.TrustRoot)
	if err != nil {
		return err
	}
	a.root.Store(root)
	// Seeing the newest revocation list now raises the version this device
	// accepts; every session checks it again, so a failure only warns.
	rctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	_, err = a.policySource().fetchRevocations(rctx, root, time.Now())
	cancel()
	if err != nil {
		a.cfg.Logger.Warn("the relay's revocation list", "err", err)
	}
	newest := root.Fingerprint.String()
	if newest == a.st.TrustRoot {
		return nil
	}
	// Only this goroutine (the connection loop) reads or writes TrustRoot
	// after Run starts; sessions still running read other fields only.
	a.stMu.Lock()
	old := a.st.TrustRoot
	a.st.TrustRoot = newest
	err = saveState(a.cfg.Home, a.st)
	if err != nil {
		a.st.TrustRoot = old
	}
	a.stMu.Unlock()
	if err != nil {
		return err
	}
	a.cfg.Logger.Info("followed a verified trust root change", "from", old, "to", newest)
	return nil
}

// TrustShow prints the pinned root's fingerprint on out, and on errOut the
// highest signed policy and revocation list versions accepted; or says on
// errOut that none is pinned.
func TrustShow(cfg Config, out, errOut io.Writer) error {
	st, err := readState(cfg.Home)
	if err != nil {
		return err
	}
	if st.TrustRoot == "" {
		fmt.Fprintln(errOut, "No trust root is pinned: the relay is trusted for policy. Pin one with `agent trust pin SHA256:<hex>`.")
		return nil
	}
	fmt.Fprintln(out, st.TrustRoot)
	return acceptedVersions(cfg.Home, errOut)
}

// TrustPin pins the root with fingerprint fp on a device that has none;
// it is checked against the relay's chain at the next connection. An
// existing pin changes only by following a verified root change.
func TrustPin(cfg Config, fp string) error {
	f, err := trust.ParseFingerprint(fp)
	if err != nil {
		return err
	}
	st, err := readState(cfg.Home)
	if err != nil {
		return err
	}
	switch st.TrustRoot {
	case f.String():
		return nil
	case "":
		st.TrustRoot = f.String()
		return saveState(cfg.Home, st)
	}
	return errors.New("this device already pins trust root " + st.TrustRoot +
		"; a pinned root changes only through a root change its administrators signed, which the agent follows when it connects")
}

// readState reads the enrollment state (and checks the device key).
func readState(home string) (*State, error) {
	st, _, err := loadState(home)
	return st, err
}
