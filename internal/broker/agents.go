package broker

import (
	"sync"
	"time"

	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/store"
	"github.com/tether-support/tether/internal/transport"
)

// Agent is an enrolled agent's live control connection.
type Agent struct {
	// Dev is the device as it authenticated.
	Dev *store.Device
	// Conn is the control connection offers are sent on.
	Conn *transport.Conn
	// Since is when the connection was registered (the cluster's
	// presence row names it).
	Since time.Time
	// OfferMu serialises signing the audit head and writing an offer, so
	// the heads the device sees never go down.
	OfferMu sync.Mutex
}

// Agents tracks which devices are online. Safe for concurrent use.
type Agents struct {
	mu     sync.Mutex
	m      map[ids.DeviceID]*Agent
	closed bool           // the relay is shutting down: no more agents
	wg     sync.WaitGroup // one per watched connection
}

// NewAgents returns an empty registry.
func NewAgents() *Agents { return &Agents{m: make(map[ids.DeviceID]*Agent)} }

// ReplacedReason is the close reason of a control connection a newer one
// of the same device replaced.
const ReplacedReason = "replaced by a newer connection from the same device"

// Add registers a, closing any older connection of the same device. It
// returns false if the relay is shutting down.
func (r *Agents) Add(a *Agent) bool {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return false
	}
	old := r.m[a.Dev.ID]
	r.m[a.Dev.ID] = a
	r.wg.Add(1)
	r.mu.Unlock()
	if old != nil {
		old.Conn.Close(ReplacedReason)
	}
	return true
}

// Remove unregisters a if it is still the current connection; every add
// is followed by exactly one remove.
func (r *Agents) Remove(a *Agent) {
	r.mu.Lock()
	if r.m[a.Dev.ID] == a {
		delete(r.m, a.Dev.ID)
	}
	r.mu.Unlock()
	r.wg.Done()
}

// CloseAll closes every agent connection and refuses new ones (relay
// shutdown), then waits for their goroutines to finish.
func (r *Agents) CloseAll() {
	r.mu.Lock()
	r.closed = true
	conns := make([]*Agent, 0, len(r.m))
	for _, a := range r.m {
		conns = append(conns, a)
	}
	r.mu.Unlock()
	for _, a := range conns {
		a.Conn.CloseNow()
	}
	r.wg.Wait()
}

// Get returns the device's current connection, or nil if it is offline.
func (r *Agents) Get(id ids.DeviceID) *Agent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.m[id]
}

// Count returns how many devices are online.
func (r *Agents) Count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.m)
}

// Online reports whether the device has a control connection.
func (r *Agents) Online(id ids.DeviceID) bool { return r.Get(id) != nil }
