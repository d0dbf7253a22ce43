//go:build tether_hostile

package broker

import (
	"os"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/tether-support/tether/internal/protocol"
)

// HostileTamperEnv names, in the test-only tether_hostile build, a
// tampering the relay does to forwarded sealed frames: "tech:N" or
// "device:N" flips one byte of the ciphertext of the first sealed frame of
// at least N bytes from that side (the tests aim it at a direct-path
// signalling message, which only its size gives away). Release builds never
// contain this.
const HostileTamperEnv = "TETHER_HOSTILE_TAMPER"

var tampered atomic.Bool

// hostileFrame returns msg, tampered as HostileTamperEnv says.
func hostileFrame(msg []byte, fromAgent bool) []byte {
	side, n, ok := strings.Cut(os.Getenv(HostileTamperEnv), ":")
	min, err := strconv.Atoi(n)
	if !ok || err != nil || (side == "device") != fromAgent || len(msg) < min ||
		protocol.FrameType(msg[0]) != protocol.FrameSealed || tampered.Load() {
		return msg
	}
	if !tampered.CompareAndSwap(false, true) {
		return msg
	}
	msg[len(msg)/2] ^= 0x01
	return msg
}
