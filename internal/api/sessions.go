package api

import (
	"time"

	"github.com/tether-support/tether/internal/ids"
)

// Session is one element of the answer to GET /v1/sessions[?active=1] and
// the answer to GET /v1/sessions/{id}: the stored record of a session and
// what the relay knows of it now.
type Session struct {
	ID         ids.SessionID `json:"id"`
	TechID     ids.UserID    `json:"tech_id"`
	TechUser   string        `json:"tech_user,omitempty"`
	DeviceID   ids.DeviceID  `json:"device_id,omitempty"`
	DeviceName string        `json:"device_name,omitempty"`
	// Mode is "unattended" or "attended".
	Mode string `json:"mode"`
	// Capabilities are those requested; Granted those consented to.
	Capabilities []string `json:"capabilities,omitempty"`
	Granted      []string `json:"granted,omitempty"`
	State        string   `json:"state"`
	EndReason    string   `json:"end_reason,omitempty"`
	// Reason is the technician's reason or ticket for the session.
	Reason string `json:"reason,omitempty"`
	// Path is the path the sealed stream uses as the agent last reported
	// it ("direct" or "relay"; empty: relay), PathWhy why.
	Path    string `json:"path,omitempty"`
	PathWhy string `json:"path_why,omitempty"`
	// Files lists the files moved in the session (GET {id} only).
	Files []FileTransfer `json:"files,omitempty"`
	// FilesDropped counts transfers beyond those Files lists.
	FilesDropped int64         `json:"files_dropped,omitempty"`
	CreatedAt    time.Time     `json:"created_at,omitzero"`
	StartedAt    time.Time     `json:"started_at,omitzero"`
	EndedAt      time.Time     `json:"ended_at,omitzero"`
	RecordingID  ids.SessionID `json:"recording_id,omitempty"`
	// Relay is the ID of the relay of a cluster holding the session
	// (empty for a relay alone).
	Relay string `json:"relay,omitempty"`
	// Live: the session is running now, on this relay or on another live
	// relay of its cluster.
	Live bool `json:"live"`
	// Duration is from start to end (or now), as a Go duration.
	Duration       string `json:"duration,omitempty"`
	RecordingState string `json:"recording_state,omitempty"`
}

// FileTransfer is one file moved in a session.
type FileTransfer struct {
	// Direction is "upload" (to the device) or "download".
	Direction string    `json:"direction"`
	Path      string    `json:"path"`
	Size      int64     `json:"size"`
	SHA256    string    `json:"sha256"`
	Time      time.Time `json:"time"`
}

// SessionKilled is the answer to POST /v1/sessions/{id}/kill.
type SessionKilled struct {
	Session ids.SessionID `json:"session"`
	Status  string        `json:"status"`
}

// Recording is one element of the answer to GET /v1/recordings; GET
// /v1/recordings/{id} answers the ciphertext file itself.
type Recording struct {
	// ID is the session's.
	ID         ids.SessionID `json:"id"`
	TechUser   string        `json:"tech_user,omitempty"`
	DeviceName string        `json:"device_name,omitempty"`
	DeviceID   string        `json:"device_id,omitempty"`
	// State is recording, complete or incomplete.
	State  string `json:"state"`
	Size   int64  `json:"size"`
	Pieces int    `json:"pieces"`
	// SHA256 is the hex SHA-256 of the ciphertext file.
	SHA256     string    `json:"sha256,omitempty"`
	KeyIDs     []string  `json:"key_ids,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	// Hold is set while the recording is on legal hold: retention keeps
	// it and its session record.
	Hold *Hold `json:"hold,omitempty"`
}

// Hold is a legal hold on a recording.
type Hold struct {
	// By is the user who placed it, ByName their username then.
	By     ids.UserID `json:"by"`
	ByName string     `json:"by_name,omitempty"`
	At     time.Time  `json:"at"`
	Reason string     `json:"reason,omitempty"`
}

// HoldRequest is the body of POST /v1/recordings/{id}/hold.
type HoldRequest struct {
	// Reason says why, such as a case or ticket number; at most
	// MaxHoldReason bytes of printable text.
	Reason string `json:"reason,omitempty"`
}

// MaxHoldReason bounds HoldRequest.Reason.
const MaxHoldReason = 200

// Recipient is one reviewer key recordings are encrypted to: an element of
// the answer to GET /v1/recordings/recipients and the answer to POST.
type Recipient struct {
	Key     string     `json:"key"`
	KeyID   string     `json:"key_id"`
	AddedBy ids.UserID `json:"added_by"`
	AddedAt time.Time  `json:"added_at"`
}

// RecipientRequest is the body of POST /v1/recordings/recipients.
type RecipientRequest struct {
	Key string `json:"key"`
}

// RecipientRemoved is the answer to DELETE /v1/recordings/recipients/{id}.
type RecipientRemoved struct {
	Removed string `json:"removed"`
}
