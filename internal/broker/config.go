package broker

import (
	"time"

	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/metrics"
	"github.com/tether-support/tether/internal/recstore"
	"github.com/tether-support/tether/internal/store"
)

// Config is what bounds a brokered session. The relay fills it from its
// own configuration, defaults applied.
type Config struct {
	// Recordings is where recording files are written, one per session.
	Recordings recstore.Store
	// SessionRecordingQuota is the most recording bytes one session may
	// store, DeviceRecordingQuota the most one device's sessions may store
	// in any DeviceQuotaWindow.
	SessionRecordingQuota int64
	DeviceRecordingQuota  int64
	// ControlMaxSize is the largest control message a peer may send.
	ControlMaxSize int
	// ControlRate and ControlBurst bound how fast each side of a session
	// may send control messages (per second, and at once).
	ControlRate  float64
	ControlBurst int
	// Metrics counts sessions, forwarded bytes, queue drops, consent
	// answers and recording bytes; nil gets a private set nobody serves.
	Metrics *metrics.Relay
}

// Records is the part of the store the broker writes: the session record
// as it moves through its states, the files it moved, and the recordings
// index with what the quota reads back.
type Records interface {
	UpdateSession(id ids.SessionID, fn func(*store.Session) error) error
	AppendSessionFile(id ids.SessionID, f store.FileTransfer) error
	PutRecording(r *store.Recording) error
	UpdateRecording(id ids.SessionID, fn func(*store.Recording) error) error
	RecordingUsage(deviceID string, since time.Time) (int64, error)
}
