//go:build !tether_norecord

package agent

// recordingBuiltIn is false only in the bench-only build tagged
// tether_norecord, used to measure what recording costs.
const recordingBuiltIn = true
