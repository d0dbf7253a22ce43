//go:build !linux && !darwin && !windows

package screenlock

// platformMethods returns nothing: there is no known lock method here.
func platformMethods() []candidate { return nil }
