// Package identity holds who a person is to the relay and what they may do:
// sign-in checks (passwords, second factors, the throttles and lockout of
// failed attempts, the keyed digest that stands for an unknown login name),
// unlocking, password changes and their history, second-factor enrolment,
// organisations' policies, the roles that resolve into a user's
// permissions, and the rules of which administrator may manage which
// account.
//
// Accounts is the one entry point; the relay holds one and calls it from
// its HTTP handlers, which stay in package relay with the route table and
// the request and response bodies. Everything identity decides is kept in
// the store (users, roles, organisations, throttle counters), so several
// relays on one database agree. What lives only in one process: the
// in-flight sign-in marks and the throttle sweep's schedule (a
// ratelimit.Limiter), and the password hasher's concurrency bound. Still
// in package relay, and next to move here: the emergency (break-glass)
// grants, kept as files in the data directory, and the principal a
// request is served as.
package identity
