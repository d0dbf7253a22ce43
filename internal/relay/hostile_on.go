//go:build tether_hostile

package relay

import (
	"encoding/json"
	"os"

	"github.com/tether-support/tether/internal/protocol"
)

// HostileInfoEnv names a file whose JSON, when the relay is built with the
// tether_hostile tag (integration tests only), is laid over every session
// offer's SessionInfo: the tests play a compromised relay that lies to
// agents. Release builds never contain this.
const HostileInfoEnv = "TETHER_HOSTILE_SESSION_INFO"

// hostileSessionInfo overwrites info's fields with the file's.
func hostileSessionInfo(info *protocol.SessionInfo) {
	b, err := os.ReadFile(os.Getenv(HostileInfoEnv))
	if err != nil || len(b) == 0 {
		return
	}
	json.Unmarshal(b, info)
}
