//go:build !tether_hostile

package broker

// hostileFrame returns msg unchanged: only the test-only tether_hostile
// build tampers with forwarded frames (see hostile_on.go).
func hostileFrame(msg []byte, _ bool) []byte { return msg }
