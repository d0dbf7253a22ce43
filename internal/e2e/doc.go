// Package e2e provides Tether's end-to-end encrypted channel between the
// technician's CLI (the initiator) and the agent on the supported machine
// (the responder). The relay between them carries every byte produced here
// opaquely and learns nothing from it; a relay that substitutes keys is
// caught by the device signature or, failing that, by the security code.
//
// The package works on byte slices only; framing and transport belong to the
// caller.
//
// # Handshake
//
// Both sides know the Params before the handshake: the relay's 16-byte
// session ID, the technician's user ID and username as asserted by the relay,
// and the agent's enrolled Ed25519 device public key. All integers are
// big-endian and every message starts with the 2-byte protocol version
// (Version = 1). Messages have fixed sizes; any other size is rejected.
//
//	ClientHello (initiator -> responder), ClientHelloSize = 1250 bytes
//	  version      2
//	  x25519       32    initiator's ephemeral X25519 public key
//	  mlkem_ek     1184  initiator's ephemeral ML-KEM-768 encapsulation key
//	  commit       32    SHA-256("tether-e2e-v1 commit" || Nt), Nt 32 random bytes
//
//	ServerHello (responder -> initiator), ServerHelloSize = 1186 bytes
//	  version      2
//	  x25519       32    responder's ephemeral X25519 public key
//	  mlkem_ct     1088  ML-KEM-768 ciphertext encapsulated to mlkem_ek
//	  signature    64    Ed25519(device key, "tether-e2e-v1 server signature" || TH1)
//
//	ClientFinish (initiator -> responder), ClientFinishSize = 34 bytes
//	  version      2
//	  nt           32    Nt, checked against commit in constant time
//
// TH1 is SHA-256 over, in order: the fields "tether-e2e-v1 transcript",
// SessionID, TechID, TechUser and DeviceKey, each preceded by its length as
// a 4-byte big-endian integer; then the whole ClientHello; then the
// ServerHello without its signature. The initiator verifies the signature
// before using anything else in the ServerHello.
//
// The commit/reveal of Nt stops a man-in-the-middle relay from grinding its
// own key shares until the two security codes collide: the codes depend on
// Nt, which the initiator reveals only after the responder's share and
// signature are fixed, and the relay must fix its own Nt' towards the
// responder before it learns Nt.
//
// # Key schedule
//
//	secret = ML-KEM shared key (32) || X25519 shared secret (32)
//	TH2    = SHA-256(TH1 || signature || ClientFinish)
//	PRK    = HKDF-Extract(SHA-256, salt = TH2, IKM = secret)
//	k_i2r  = HKDF-Expand(PRK, "tether-e2e-v1 initiator->responder", 32)
//	k_r2i  = HKDF-Expand(PRK, "tether-e2e-v1 responder->initiator", 32)
//	code   = HKDF-Expand(PRK, "tether-e2e-v1 security code", 8)
//	exp    = HKDF-Expand(PRK, "tether-e2e-v1 exporter", 32)
//
// exp is Session.Exporter. It is never a key of the channel itself; it
// keys proofs bound to the session and further streams (below).
//
// An all-zero X25519 result (a low-order share) is rejected. The security
// code is the 8 code bytes read as a big-endian uint64, reduced modulo 10^8
// (bias below 2^-37) and shown as "dddd-dddd". Users compare it out of band;
// equal codes mean both sides hold the same keys.
//
// # Frames
//
// Each direction has its own AES-256-GCM key and a 64-bit sequence number
// that starts at 0 and increases by one per frame. A sealed payload is
//
//	seq (8, big-endian) || ciphertext || tag (16)
//
// with nonce = 4 zero bytes || seq, and associated data = seq (8) ||
// SessionID (16) || caller aad. The caller puts its 1-byte frame type in aad
// so the type is authenticated too. The receiver accepts only the next
// sequence number: a lower one is a replay, a higher one means a frame was
// dropped or reordered, and either ends the session, as does any
// authentication failure. An Opener that has failed stays failed.
//
// # Frame transports and path switch
//
// The channel does not depend on how its frames travel. Today they go
// through the relay's WebSocket; the caller's transport (package
// transport, FrameConn) may be any path that delivers whole frames in
// order, such as a later direct peer-to-peer path. Nothing about a path is
// trusted: its operator can drop, repeat, reorder, alter or move frames,
// and the strict sequence numbers and the AEAD turn each of those into a
// refusal (or, for drops, a stall), never into a frame accepted twice or
// out of its place.
//
// A live channel can move to another path mid-session without new keys,
// and without a replay window, because each direction's sequence numbers
// simply carry on across the move. A side may only switch when both
// announced the "path-switch" feature in the feature lists that open the
// channel (protocol.InFeatures, the first sealed message of each
// direction; transport.Channel.Negotiate):
//
//   - The receiver prepares the new path before the sender may switch (the
//     two sides agree on the move inside the channel). A switch point from
//     a peer that was not expected ends the channel.
//   - The sender marks its switch point: after every frame it sent on the
//     old path it seals one more message there, the path-switch message
//     (protocol.InPathSwitch, empty), say with sequence number M. Every
//     later frame of that direction goes on the new path only, starting at
//     M+1.
//   - The receiver reads the old path until it has opened that message, in
//     order like any other (so it has read everything sent before it), then
//     reads only the new path, whose first acceptable frame is M+1. It
//     never reads the old path again; once both directions have left it,
//     each side closes it.
//   - The opener is the same object before and after, so a frame replayed
//     on the new path from the old one, the switch point included, carries
//     a sequence number already consumed and is refused as a replay; a
//     frame of the new path moved onto the old one before the switch point
//     is refused as out of order; frames replayed on the old path after the
//     move are never read. A second switch point without a newly prepared
//     path ends the channel.
//
// The two directions move independently (each at its own switch point);
// one move at a time. Leaving a path that carries more than the two peers'
// frames does not close what else it carries: the relay connection stays
// the session's control path (consent, recording, end), and whoever reads
// it after the move MUST treat a sealed frame arriving there as a protocol
// error, not hand it to the channel — except in direct-path mode, below.
//
// # Direct path: acknowledgement, resending and fallback
//
// The direct path (package direct: a WebRTC data channel between the two
// ends, set up by messages sealed in this channel, PROTOCOL.md section
// 8.8) is such a further path, and it can fail. So that a failure loses
// nothing, with the "direct-path" feature negotiated each side, from its
// move on:
//
//   - acknowledges: it seals InPathAck carrying the sequence number it will
//     open next from the peer, at least every 32 frames and once per
//     heartbeat while it sends on the direct path (so the acknowledgement is
//     also the direct path's heartbeat);
//   - keeps a copy of every sealed frame it sent on the direct path until an
//     acknowledgement covers it;
//   - falls back when the direct path fails or stalls (it delivers nothing
//     for the stall bound: the peer's heartbeat comes every second; a
//     direction that dies alone is noticed by the side that stops
//     receiving, whose fallback moves the other too), or when the peer did: it resends every unacknowledged frame on
//     the relay path, byte for byte and in order (the same sealed frames,
//     with their sequence numbers), says so in a sealed InDirectState, and
//     sends only on the relay from then on. There is no second move.
//
// The receiver relaxes the "only the next sequence number" rule exactly
// once, and only downwards: from the first sealed frame the peer sends on
// the relay path after its switch point (a frame below the switch point
// there is a copy only the relay can have made: dropped, and it changes
// nothing), it reads the relay path only and drops unopened every frame
// whose sequence number is below the next one it opens (a resent frame the
// direct path had delivered). It still opens exactly the next one and
// refuses a higher one as out of order. So every frame is opened once and in
// order, whichever path delivered it; what a relay can do is replay a resent
// frame and so end the direct path early, never make a frame count twice.
// The relay connection stays the session's lifeline: its loss ends the
// channel even while the direct path is up. At the session's end each side
// says "closing" on the path in use and moves back to the relay the same
// way, so its last frames (the end, the lock result) travel on the lifeline
// and none is lost when the direct path is torn down.
//
// # Further streams
//
// A session can carry further sealed streams beside its channel (a remote
// desktop's screen updates, for example), each with its own keys and
// sequence numbers, so that a stream can be sent on its own path or at its
// own pace without sharing the channel's counter. Session.Derive(label)
// gives a stream's Sealer and Opener:
//
//	k_i2r(label) = HKDF-Expand(exp, "tether-e2e-v1 stream" || 0x00 || label || 0x00 || "initiator->responder", 32)
//	k_r2i(label) = HKDF-Expand(exp, "tether-e2e-v1 stream" || 0x00 || label || 0x00 || "responder->initiator", 32)
//
// exp is the exporter, a uniformly random 32-byte HKDF output, used as the
// PRK directly. A label is 1 to 64 bytes of printable ASCII (0x20-0x7e),
// so it cannot hold the 0x00 that ends it and two labels never give the
// same info. Frames of a stream have exactly the channel's layout, nonce,
// associated data (with the same session ID) and rules. Keys differ per
// label, direction and session, so a frame of one stream fails
// authentication in every other stream, in the channel, and in any other
// session. Each label is derived at most once per Session (a second Derive
// would reuse keys and nonces, and is refused): one label is one stream
// for the whole session. Whoever holds the exporter can derive every
// stream's keys, so the exporter must be kept as secret as a key (the
// technician's CLI stores it only in a 0600 file while the session runs,
// for the parent proof).
//
// # Labels
//
// Every label in use, each for exactly one purpose. A new purpose takes a
// new label, added here (a stream label also as a constant beside
// LabelScreen) before it is used; a label is never reused or changed.
//
//	"tether-e2e-v1 commit"               commitment to Nt (handshake)
//	"tether-e2e-v1 transcript"           first field of TH1
//	"tether-e2e-v1 server signature"     prefix of what the device key signs
//	"tether-e2e-v1 initiator->responder" HKDF info of k_i2r
//	"tether-e2e-v1 responder->initiator" HKDF info of k_r2i
//	"tether-e2e-v1 security code"        HKDF info of the code bytes
//	"tether-e2e-v1 exporter"             HKDF info of exp
//	"tether-e2e-v1 stream"               prefix of every stream key's HKDF info
//	"tether-parent-proof-v1\x00"         HMAC-SHA256(exp, label || child session ID):
//	                                     the parent proof (package protocol)
//	"tether-direct-bind-v1\x00"          HMAC-SHA256(exp, label || role || sender's DTLS
//	                                     fingerprint || 0x00 || receiver's): the direct
//	                                     path's binding (package direct)
//
// Stream labels (the label argument of Derive), each a distinct stream:
//
//	"tether screen v1"                   reserved: screen updates of a remote desktop (LabelScreen)
//	"tether test ..."                    reserved for tests; never used by a program
//
// The parent proof's HMAC input starts with "tether-parent-proof-v1", the
// direct path's binding with "tether-direct-bind-v1" and every stream key's
// HKDF input with "tether-e2e-v1 stream", so no proof computation ever
// equals another kind of computation under the same exp.
//
// # Limits
//
// A Sealer seals at most 2^64-1 frames, then returns ErrExhausted. Keys are
// fresh per session and direction and nonces never repeat, so the practical
// bound is AES-GCM's: its security margin shrinks with the total volume
// sealed under one key (a distinguishing advantage near 2^-32 after 2^48
// blocks, about 4 PiB), far beyond any support session. Frame size is the
// caller's to bound (the transport's maximum frame size).
// Handshake messages are single-use: an Initiator or Responder that has
// finished or failed cannot be reused, and each session uses fresh
// ephemeral keys.
package e2e
