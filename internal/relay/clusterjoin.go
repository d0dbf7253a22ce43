package relay

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tether-support/tether/internal/audit"
	"github.com/tether-support/tether/internal/store"
)

// JoinResult says what JoinCluster made.
type JoinResult struct {
	// Bundle is the bundle the directory was made from.
	Bundle *Bundle
}

// JoinCluster makes the data directory dir, which must be missing or
// empty, of a new relay of the cluster from the bundle in from. It writes
// the bundle's files into a new directory on dir's file system, checks
// that the database the bundle names is reachable and initialised (it
// holds the audit MAC key) and that the bundle's audit head key signs
// that database's chain, records relay.cluster.join in the audit log
// (actor "relay host"), and only then moves the files into place: a
// refused join leaves nothing behind. The database's password, if any,
// comes from $TETHER_STORE_URL (--store-file) or ~/.pgpass, never from
// the bundle.
func JoinCluster(dir, from string) (*JoinResult, error) {
	exists, err := checkRestoreTarget(dir)
	if err != nil {
		return nil, err
	}
	b, err := readBundleFile(from)
	if err != nil {
		return nil, err
	}
	parent := dir
	if !exists {
		parent = filepath.Dir(filepath.Clean(dir))
		if err := os.MkdirAll(parent, 0o700); err != nil {
			return nil, err
		}
	}
	tmp, err := os.MkdirTemp(parent, ".tether-join-*")
	if err != nil {
		return nil, fmt.Errorf("make a directory to join into: %w", err)
	}
	defer os.RemoveAll(tmp) // a no-op once moved into place
	if err := writeBundleFiles(tmp, b, bundleOrder(b.Files)); err != nil {
		return nil, err
	}
	if err := checkJoined(tmp, b); err != nil {
		return nil, err
	}
	if err := putInPlace(tmp, dir, exists); err != nil {
		return nil, fmt.Errorf("put the joined files in place: %w", err)
	}
	syncDir(filepath.Dir(filepath.Clean(dir)))
	return &JoinResult{Bundle: b}, nil
}

// checkJoined opens the database of the new data directory dir, checks it
// belongs to the bundle's cluster and audits the join.
func checkJoined(dir string, b *Bundle) error {
	db, err := openStore(dir)
	if err != nil {
		return fmt.Errorf("the cluster's database %s: %w", b.StoreURL, err)
	}
	defer db.Close()
	if err := checkClusterDB(db, b); err != nil {
		return err
	}
	ev := audit.NewEvent(hostActor, "relay.cluster.join", b.Current, "success", hostActor,
		"bundle_created", b.Created.UTC().Format("2006-01-02T15:04:05Z"))
	return auditHostAction(dir, db, "cluster join", ev)
}

// checkClusterDB refuses a database no relay initialised, and one whose
// audit chain the bundle's head key did not sign.
func checkClusterDB(db store.Store, b *Bundle) error {
	mac, err := db.GetMeta(metaAuditMAC)
	if errors.Is(err, store.ErrNotFound) || (err == nil && len(mac) == 0) {
		return fmt.Errorf("the database %s holds no relay's state: initialise it first with `relay init --data DIR --store %s` on the first relay", b.StoreURL, b.StoreURL)
	}
	if err != nil {
		return fmt.Errorf("the cluster's database %s: %w", b.StoreURL, err)
	}
	head, err := audit.LoadHead(db)
	if err != nil {
		return fmt.Errorf("the cluster's database %s: %w", b.StoreURL, err)
	}
	if head == nil || head.VerifyHead(b.HeadKey()) != nil {
		return fmt.Errorf("the audit chain in %s is not signed by the bundle's audit head key: the bundle is of another cluster", b.StoreURL)
	}
	return nil
}
