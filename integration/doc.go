// Package integration holds Tether's end-to-end tests: they build the real
// relay, agent and tech binaries and run them on loopback with real TLS,
// real PTYs and real bbolt files, checking what a user would see.
package integration
