// Package integration holds Tether's end-to-end tests: they build the real
// relay, agent and tech binaries and run them on loopback with real TLS,
// real PTYs and real bbolt files, checking what a user would see.
//
// Every test but the relay floods calls t.Parallel: each starts its own relay and agents in
// temporary directories on ports the kernel picks, so state shared between
// tests (package variables, process markers for pgrep, X displays) must be
// safe for concurrent use and distinct per test. Wait for a condition with
// eventually rather than a fixed sleep where the condition can be observed.
//
// The TestFlood* tests do not call t.Parallel, so they run one after
// another before the parallel tests start: they load the relay with
// thousands of connections under its short test timeouts (a 1 s header
// read) and measure its memory and its audit log, and on a machine busy
// with the rest of the suite a starved handshake would be cut by those
// timeouts rather than by the limit under test.
//
// TestSignedPolicy* play a compromised relay with a second relay binary
// built once with the test-only tether_hostile tag: it lays the JSON of a
// file the test writes over every session offer, so the real agent is
// shown exactly the lies a relay could tell. Release builds lack the tag.
package integration
