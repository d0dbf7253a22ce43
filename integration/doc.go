// Package integration holds Tether's end-to-end tests: they build the real
// relay, agent and tech binaries and run them on loopback with real TLS,
// real PTYs and real bbolt files, checking what a user would see.
//
// Every test calls t.Parallel: each starts its own relay and agents in
// temporary directories on ports the kernel picks, so state shared between
// tests (package variables, process markers for pgrep, X displays) must be
// safe for concurrent use and distinct per test. Wait for a condition with
// eventually rather than a fixed sleep where the condition can be observed.
package integration
