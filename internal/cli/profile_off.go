//go:build !tether_pprof

package cli

// startProfile does nothing in normal builds; see profile_on.go.
func startProfile(string) (stop func()) { return func() {} }
