package api

import (
	"time"

	"github.com/tether-support/tether/internal/ids"
)

// Bounds of one answer to GET /v1/reports/sessions: beyond either, the
// oldest sessions are left out and Truncated is set.
const (
	MaxReportSessions = 5000
	MaxReportFiles    = 200000
)

// SessionReports is the answer to GET /v1/reports/sessions: the sessions
// requested in the time range, oldest first.
type SessionReports struct {
	Sessions []SessionReport `json:"sessions"`
	// Truncated says more sessions matched than one answer holds
	// (MaxReportSessions, MaxReportFiles); the oldest were left out, and
	// a narrower range (until=) reaches them.
	Truncated bool `json:"truncated,omitempty"`
}

// SessionReport is one session of a session report: who, which device,
// when and for how long, what the end user granted, the files moved with
// their SHA-256 hashes, why it ended and its recording.
type SessionReport struct {
	ID         ids.SessionID `json:"id"`
	TechID     ids.UserID    `json:"tech_id"`
	TechUser   string        `json:"tech_user,omitempty"`
	DeviceID   ids.DeviceID  `json:"device_id,omitempty"`
	DeviceName string        `json:"device_name,omitempty"`
	// Mode is "unattended" or "attended".
	Mode string `json:"mode"`
	// Reason is the technician's reason or ticket.
	Reason string `json:"reason,omitempty"`
	// Capabilities are those requested; Granted those the end user
	// granted last.
	Capabilities []string `json:"capabilities,omitempty"`
	Granted      []string `json:"granted,omitempty"`
	// CreatedAt is when the technician asked; StartedAt when consent was
	// first given (zero if never); EndedAt when it ended (zero if live).
	CreatedAt time.Time `json:"created_at"`
	StartedAt time.Time `json:"started_at,omitzero"`
	EndedAt   time.Time `json:"ended_at,omitzero"`
	// DurationSeconds is from StartedAt to EndedAt (or the report's time),
	// 0 for a session that never started.
	DurationSeconds int64  `json:"duration_seconds"`
	State           string `json:"state"`
	EndReason       string `json:"end_reason,omitempty"`
	// Files are the files moved, as the device reported them.
	Files []FileTransfer `json:"files,omitempty"`
	// FilesDropped counts transfers beyond those Files lists.
	FilesDropped   int64         `json:"files_dropped,omitempty"`
	RecordingID    ids.SessionID `json:"recording_id,omitempty"`
	RecordingState string        `json:"recording_state,omitempty"`
}
