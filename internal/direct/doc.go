// Package direct provides the direct path of a session: a reliable,
// ordered WebRTC data channel (github.com/pion/webrtc) between the
// technician's CLI and the agent, carrying the sealed end-to-end channel's
// frames as a transport.FrameConn, so that a session whose two ends can
// reach each other does not detour through the relay.
//
// WebRTC is not a security boundary here. Its offer, answer and candidates
// travel inside the sealed channel (PROTOCOL.md section 8.8), so the relay
// cannot alter them; each side sends its DTLS certificate's fingerprint
// there too and, once the data channel is open, checks that the peer's
// DTLS certificate is that one; then each side sends, as the first message
// on the data channel, an HMAC keyed with the session's exporter over both
// fingerprints and its role (Bind), which proves the two ends of the data
// channel are the two ends of the sealed session. Frames on the data
// channel are the sealed channel's own, opened and checked as on the
// relay path.
//
// The ICE agent uses host and server-reflexive candidates only: mDNS
// candidates are off, there is no TURN server (the relay path is the
// fallback), and STUN servers come from Config. A Peer opens UDP sockets
// only once it starts gathering (Offer or Accept): a session whose policy
// denies the direct path never makes a Peer, and so never opens one.
package direct
