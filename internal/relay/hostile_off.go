//go:build !tether_hostile

package relay

import "github.com/tether-support/tether/internal/protocol"

// hostileSessionInfo does nothing: only the test-only tether_hostile build
// tampers with what it sends (see hostile_on.go).
func hostileSessionInfo(*protocol.SessionInfo) {}
