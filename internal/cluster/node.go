package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/tether-support/tether/internal/store"
)

// DefaultHeartbeat is how often a relay writes its heartbeat and sweeps
// dead relays when --cluster-heartbeat does not say.
const DefaultHeartbeat = 2 * time.Second

// ExpiryBeats is how many heartbeats a relay may miss before the others
// count it dead.
const ExpiryBeats = 5

// Config describes one relay of a cluster.
type Config struct {
	// ID is the relay's own ID (LoadOrCreateID).
	ID string
	// Advertise is the URL other relays reach it at (set by Register).
	Advertise string
	// Heartbeat is how often it writes its heartbeat; zero means
	// DefaultHeartbeat.
	Heartbeat time.Duration
	// Store is the shared store.
	Store store.Cluster
	// EndHeld ends what a dead relay (or this relay's previous life) left
	// open: its sessions (the usual end record and audit entry) and their
	// recordings (marked incomplete). It must be idempotent: every relay
	// sweeps, and more than one may sweep the same relay.
	EndHeld func(relayID string) error
	// Rejoined is called after the relay registered again because
	// another relay had swept it (its heartbeats did not reach the
	// database): the relay publishes its devices' presence again.
	Rejoined func()
	// Log receives the sweep's findings.
	Log *slog.Logger
}

// Node is one relay's membership of the cluster.
type Node struct {
	cfg Config
	// healthySince is when the current run of successful heartbeats
	// began (the local clock); zero after a failed one. Only the Run
	// goroutine (Beat) and Register touch it.
	healthySince time.Time
	// stopped is closed when Run returns.
	stopped chan struct{}
}

// New returns the relay's membership; nothing is written until Recover
// and Register.
func New(cfg Config) *Node {
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = DefaultHeartbeat
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Node{cfg: cfg, stopped: make(chan struct{})}
}

// Recover ends what this relay's previous life left (its presence rows,
// its open sessions and recordings): nothing of it can still be running,
// since the ID is this data directory's own. It runs before the relay
// serves.
func (n *Node) Recover() error {
	if err := n.sweep(n.cfg.ID); err != nil {
		return fmt.Errorf("recover what this relay's last run held: %w", err)
	}
	return nil
}

// Register records the relay, reachable at advertise, with a fresh
// heartbeat.
func (n *Node) Register(advertise string) error {
	n.cfg.Advertise = advertise
	if err := n.cfg.Store.RegisterRelay(n.cfg.ID, advertise); err != nil {
		return err
	}
	n.healthySince = time.Now()
	return nil
}

// ID returns the relay's ID.
func (n *Node) ID() string { return n.cfg.ID }

// Heartbeat returns the heartbeat interval.
func (n *Node) Heartbeat() time.Duration { return n.cfg.Heartbeat }

// Expiry is the age past which a relay's heartbeat counts as stopped.
func (n *Node) Expiry() time.Duration { return ExpiryBeats * n.cfg.Heartbeat }

// Run beats and sweeps every heartbeat until ctx ends. It is called once.
func (n *Node) Run(ctx context.Context) {
	defer close(n.stopped)
	t := time.NewTicker(n.cfg.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n.Beat()
		}
	}
}

// Leave removes the relay's registration and presence rows, at a clean
// shutdown: after Run has returned (its context ended), so that no late
// heartbeat registers the relay again.
func (n *Node) Leave(ran bool) error {
	if ran {
		<-n.stopped
	}
	return n.cfg.Store.RemoveRelay(n.cfg.ID)
}

// Beat writes the heartbeat (registering again if another relay swept
// this one while its heartbeats did not reach the database) and sweeps
// dead relays. A relay sweeps only after 5 heartbeats in a row succeeded:
// after the database was out of reach every relay's heartbeat is old, and
// the others must have had the time to beat again before any is judged.
func (n *Node) Beat() {
	err := n.cfg.Store.HeartbeatRelay(n.cfg.ID)
	rejoined := false
	if errors.Is(err, store.ErrNotFound) {
		n.cfg.Log.Warn("cluster: this relay's registration was swept (heartbeats missed); registering again")
		err, rejoined = n.cfg.Store.RegisterRelay(n.cfg.ID, n.cfg.Advertise), true
	}
	if err != nil {
		if !n.healthySince.IsZero() {
			n.cfg.Log.Error("cluster: heartbeat failed", "err", err)
		}
		n.healthySince = time.Time{}
		return
	}
	if n.healthySince.IsZero() {
		n.healthySince = time.Now()
	}
	if rejoined && n.cfg.Rejoined != nil {
		n.cfg.Rejoined()
	}
	if time.Since(n.healthySince) < n.Expiry() {
		return
	}
	n.sweepDead()
}

// sweepDead ends what each dead relay held and removes it.
func (n *Node) sweepDead() {
	dead, err := n.cfg.Store.ExpiredRelays(n.Expiry())
	if err != nil {
		n.cfg.Log.Error("cluster: list expired relays", "err", err)
		return
	}
	for _, id := range dead {
		if id == n.cfg.ID {
			continue
		}
		n.cfg.Log.Warn("cluster: relay stopped answering; ending what it held", "relay", id)
		if err := n.sweep(id); err != nil {
			n.cfg.Log.Error("cluster: sweep of a dead relay", "relay", id, "err", err)
			continue
		}
		if err := n.cfg.Store.RemoveRelay(id); err != nil {
			n.cfg.Log.Error("cluster: remove a dead relay", "relay", id, "err", err)
		}
	}
}

// sweep takes a relay's devices offline and ends what it held.
func (n *Node) sweep(id string) error {
	if _, err := n.cfg.Store.ClearRelayPresence(id); err != nil {
		return err
	}
	if n.cfg.EndHeld == nil {
		return nil
	}
	return n.cfg.EndHeld(id)
}
