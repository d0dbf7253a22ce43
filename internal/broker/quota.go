package broker

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/tether-support/tether/internal/ids"
)

// DeviceQuotaWindow is the rolling window of the per-device recording
// quota.
const DeviceQuotaWindow = 24 * time.Hour

// deviceKey names the device a session's recording counts against: its
// enrolled ID, or for an attended session the one-time key it joined with.
func deviceKey(deviceID ids.DeviceID, key []byte) string {
	if deviceID != "" {
		return deviceID.String()
	}
	h := sha256.Sum256(key)
	return "attended:" + hex.EncodeToString(h[:8])
}

// usage tracks recording bytes per device: those of live sessions in
// memory, those of finished ones from the recordings index. Safe for
// concurrent use.
type usage struct {
	mu   sync.Mutex
	live map[string]int64 // device key → bytes written by its live sessions
	// gen counts, per device key, the sessions that moved their bytes
	// from live to the index: a session's snapshot of the index is stale
	// once it changes.
	gen map[string]uint64
}

func newUsage() *usage { return &usage{live: make(map[string]int64), gen: make(map[string]uint64)} }

// generation returns dev's current generation.
func (u *usage) generation(dev string) uint64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.gen[dev]
}

// add counts n more bytes for dev's live sessions and returns the new total.
func (u *usage) add(dev string, n int64) int64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.live[dev] += n
	return u.live[dev]
}

// release stops counting n bytes of a finished session as live; the
// caller has written them to the index first.
func (u *usage) release(dev string, n int64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.live[dev] -= n; u.live[dev] <= 0 {
		delete(u.live, dev)
	}
	u.gen[dev]++
}

// storedUsage sums the sizes of dev's finished recordings created within
// the quota window: one indexed lookup in the store, whatever the number
// of recordings. With several relays on one database each asks the shared
// index, so a device's recordings finished on any relay count; its live
// sessions on other relays are not counted (as before).
func (b *Broker) storedUsage(dev string) int64 {
	n, err := b.db.RecordingUsage(dev, now().Add(-DeviceQuotaWindow))
	if err != nil {
		b.log.Error("recording quota: recordings usage", "err", err)
		return 0
	}
	return n
}

// quotaError says which quota a session exceeded; it is the session's end
// reason, shown to both sides and audited.
type quotaError struct {
	what  string
	limit int64
}

func (e *quotaError) Error() string {
	return fmt.Sprintf("%s quota exceeded (limit %d bytes)", e.what, e.limit)
}
