package api

import (
	"time"

	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/protocol"
)

// ClusterOffer is the request of POST /v1/cluster/offer: another relay of
// the cluster asks this one to write Offer (a control message of type
// "offer") on the control connection of Device, which is online here.
type ClusterOffer struct {
	Device ids.DeviceID `json:"device"`
	// Session and AttachToken are the offer's, as the session's home relay
	// made them.
	Session     *protocol.SessionInfo `json:"session"`
	AttachToken string                `json:"attach_token"`
}

// ClusterEnd is the request of POST /v1/cluster/sessions/{id}/end: another
// relay asks the session's home relay to end it, for Reason.
type ClusterEnd struct {
	Reason string `json:"reason"`
}

// ClusterClose is the request of POST /v1/cluster/devices/{id}/close:
// another relay, where the device was revoked or removed, asks the relay
// holding the device's control connection to close it, for Reason.
type ClusterClose struct {
	Reason string `json:"reason"`
}

// ClusterReplace is the request of POST /v1/cluster/devices/{id}/replace:
// Relay (the asking relay's ID) registered a newer control connection of
// the device, opened at Since, and wrote the presence row naming it; the
// relay holding an older connection closes it if the row says so.
type ClusterReplace struct {
	Relay string    `json:"relay"`
	Since time.Time `json:"since"`
}
