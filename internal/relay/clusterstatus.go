package relay

import (
	"fmt"
	"time"

	"github.com/tether-support/tether/internal/cluster"
	"github.com/tether-support/tether/internal/store"
)

// ClusterStatus lists the relays registered in the shared database of the
// data directory dir, with their last heartbeat, whether it is within
// 5 × heartbeat (zero: cluster.DefaultHeartbeat), and the agents and open
// sessions each holds. A data directory on bbolt has no cluster.
func ClusterStatus(dir string, heartbeat time.Duration) ([]store.RelayInfo, error) {
	if !usesDatabase(dir) {
		return nil, fmt.Errorf("%s keeps its state in a bbolt file: only relays sharing a PostgreSQL database form a cluster (see relay migrate)", dir)
	}
	db, err := openStore(dir)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	cs, ok := db.(store.Cluster)
	if !ok {
		return nil, fmt.Errorf("the store of %s keeps no cluster", dir)
	}
	if heartbeat <= 0 {
		heartbeat = cluster.DefaultHeartbeat
	}
	rs, err := cs.Relays(cluster.ExpiryBeats * heartbeat)
	if err != nil {
		return nil, err
	}
	if rs == nil {
		rs = []store.RelayInfo{}
	}
	return rs, nil
}
