//go:build tether_norecord

package agent

// recordingBuiltIn is false in this bench-only build: sessions are not
// recorded, so `make bench` can measure what recording costs. Never ship it.
const recordingBuiltIn = false
