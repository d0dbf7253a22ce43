// Package cluster is what lets several relays share one database and act as
// one service: each relay's registration and heartbeat in the shared store,
// the sweep of relays whose heartbeat stopped (their devices offline, their
// sessions ended, their recordings marked incomplete), and the relay-to-relay
// link: the peer client, which speaks to another relay's /v1/cluster/
// endpoints over mutual TLS with the cluster certificate, the check those
// endpoints run on the client's certificate, and the splice that copies an
// agent's session frames, unparsed, between two relays.
//
// Every relay of a cluster serves the same TLS key pair (the cluster key,
// pinned once by every client), so a relay recognises another by the key
// it presents as a client certificate: the TLS handshake proves possession
// of its private key, and its fingerprint must be the relay's own current
// or next pin (PROTOCOL.md, "Relay-to-relay link").
//
// A relay alone on a bbolt store runs none of this: only a store that
// implements store.Cluster (PostgreSQL) gets a Node.
package cluster
