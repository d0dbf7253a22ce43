package relay

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/tether-support/tether/internal/tlsconf"
)

// SyncResult says what SyncCluster changed.
type SyncResult struct {
	// Current is the cluster key's pin in the bundle; Next the bundle's
	// next pin, "" when no rotation is under way there.
	Current, Next string
	// Changed says whether anything was written.
	Changed bool
	// Switching says the relay switches to Current at its next check
	// (within 10 s) or its next start.
	Switching bool
	// Unannounced says this relay never announced Current before
	// switching to it.
	Unannounced bool
	// Again says the bundle holds a further rotation, which a second sync
	// installs once this relay has switched.
	Again bool
	// Withdrawn says the relay stops announcing a rotation the bundle no
	// longer has.
	Withdrawn bool
}

// SyncCluster brings the TLS files of the existing member dir in line
// with the bundle in from, through the relay's own rotation machinery so
// that a serving relay follows without a restart (certs.go):
//   - same cluster key, a rotation in the bundle: the next key and the
//     rotation file are installed, and the relay announces the next pin;
//   - same cluster key, no rotation in the bundle: a pending rotation here
//     is withdrawn;
//   - another cluster key (`relay cert rotate --finish` ran on the
//     source): it becomes this relay's next key with a rotation due now,
//     and the relay switches (audited relay.cert.switch) as after a
//     finish of its own.
//
// A bundle of another cluster (another database or audit head key) is
// refused.
func SyncCluster(dir, from string) (*SyncResult, error) {
	if err := isDataDir(dir); err != nil {
		return nil, err
	}
	b, err := readBundleFile(from)
	if err != nil {
		return nil, err
	}
	if err := checkSameCluster(dir, b); err != nil {
		return nil, err
	}
	cur, err := fingerprint(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	rot, err := tlsconf.ReadRotation(tlsDir(dir))
	if err != nil {
		return nil, err
	}
	if rot != nil && rot.Switching {
		return nil, fmt.Errorf("%s is switching to its next certificate; start the relay (or wait 10 s) and sync again", dir)
	}
	res := &SyncResult{Current: b.Current}
	if b.Rotation != nil {
		res.Next = b.Rotation.Next
	}
	if b.Current != cur {
		return res, syncSwitch(dir, b, rot, res)
	}
	return res, syncRotation(dir, b, rot, res)
}

// checkSameCluster refuses a bundle whose database or audit head key is
// not dir's.
func checkSameCluster(dir string, b *Bundle) error {
	rec, err := readStoreRecord(dir)
	if err != nil {
		return err
	}
	if rec == "" {
		return fmt.Errorf("%s keeps its state in a bbolt file (relay.db): it is no member of a cluster", dir)
	}
	if rec != b.StoreURL {
		return fmt.Errorf("the bundle is of another cluster: its database is %s, this relay's is %s", b.StoreURL, rec)
	}
	seed, err := os.ReadFile(headKeyPath(dir))
	if err != nil {
		return fmt.Errorf("read the audit head key: %w", err)
	}
	if subtle.ConstantTimeCompare(seed, b.Files[headKeyFile]) != 1 {
		return fmt.Errorf("the bundle is of another cluster: its audit head key is not this relay's")
	}
	return nil
}

// syncRotation makes dir's rotation the bundle's (same cluster key).
func syncRotation(dir string, b *Bundle, rot *tlsconf.Rotation, res *SyncResult) error {
	tdir := tlsDir(dir)
	switch {
	case b.Rotation == nil && rot == nil:
		return nil
	case b.Rotation == nil:
		if _, err := tlsconf.CancelRotation(tdir); err != nil {
			return err
		}
		res.Changed, res.Withdrawn = true, true
		return nil
	case rot != nil && rot.Next == b.Rotation.Next && rot.SwitchAt.Equal(b.Rotation.SwitchAt):
		return nil
	}
	// The next key first, the rotation file last: the relay reads the
	// rotation file and then the key it names.
	if err := writeBundleFiles(dir, b, bundleNextFiles[1:]); err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(tdir, tlsconf.RotationFile), b.Files[bundleNextFiles[0]]); err != nil {
		return err
	}
	res.Changed = true
	return nil
}

// syncSwitch makes the bundle's cluster key dir's next key, due now.
func syncSwitch(dir string, b *Bundle, rot *tlsconf.Rotation, res *SyncResult) error {
	t := now().Truncate(time.Second)
	started := t
	if rot != nil && !rot.Started.After(t) {
		started = rot.Started
	}
	res.Unannounced = rot == nil || rot.Next != b.Current
	next := &tlsconf.Rotation{Version: 1, Next: b.Current, Started: started, SwitchAt: t}
	body, err := json.MarshalIndent(next, "", "  ")
	if err != nil {
		return err
	}
	tdir := tlsDir(dir)
	for i, name := range bundleTLSFiles {
		p := filepath.Join(tdir, tlsconf.NextDir, filepath.Base(name))
		if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, b.Files[name]) {
			continue
		}
		if err := writeFileAtomic(p, b.Files[bundleTLSFiles[i]]); err != nil {
			return err
		}
	}
	if err := writeFileAtomic(filepath.Join(tdir, tlsconf.RotationFile), append(body, '\n')); err != nil {
		return err
	}
	res.Changed, res.Switching, res.Again = true, true, b.Rotation != nil
	return nil
}
