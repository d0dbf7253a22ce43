// Package identity holds who a person is to the relay and what they may do:
// sign-in checks (passwords, second factors, the throttles and lockout of
// failed attempts, the keyed digest that stands for an unknown login name),
// unlocking, password changes and their history, second-factor enrolment,
// organisations (their names, the relay's own stored at init) and their
// policies, the roles that resolve into a user's permissions, the rules of
// which administrator may manage which account, and the emergency
// (break-glass) grants: their file format and MAC, issuing, checking and
// expiry, and the superadmin they sign in as.
//
// Accounts is the one entry point; the relay holds one and calls it from
// its HTTP handlers, which stay in package relay with the route table and
// the request and response bodies. Everything identity decides is kept in
// the store (users, roles, organisations, throttle counters), so several
// relays on one database agree. What lives only in one process: the
// in-flight sign-in marks and the throttle sweep's schedule (a
// ratelimit.Limiter), and the password hasher's concurrency bound. The
// emergency grants are kept as files in the relay's data directory (being
// able to write there is the credential), each MACed under a key kept
// beside them, so only relays sharing that directory honour them.
package identity
