// Package broker pairs a technician's connection with a device's and
// forwards the end-to-end sealed frames between them, which it cannot read.
// It holds the live sessions (Broker, Session), the devices online on their
// control connections (Agents), the bounded per-connection queues
// (outbox), the intake of encrypted recordings with their quotas, and the
// frame log.
//
// The broker knows nothing of users or permissions: the relay's handlers
// authenticate and authorise a request (package identity) and then hand the
// broker a protocol.SessionInfo and the connections. It writes the session
// record, the files moved and the recordings index through Records, and
// audits through the function it is given.
//
// All of its state lives only in the process that holds the connections:
// the session table, the attach tokens, the agent registry, the recording
// bytes counted against a device's quota before they reach the index, the
// control-message rate buckets and the recording files on local disk. A
// second relay cannot see or end a session brokered by another; that is
// the next thing to move for several relays on one database.
package broker
