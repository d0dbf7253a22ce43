// Package stunserver answers STUN Binding requests (RFC 8489) on one UDP
// socket, so that each side of a session can learn the address the relay
// sees it from (its server-reflexive address) before trying a direct path.
//
// It answers nothing else: no TURN, no other method, no indication, no
// request carrying an attribute it would have to understand. A response
// carries only XOR-MAPPED-ADDRESS, so it is never more than 24 bytes larger
// than the smallest request (32 bytes for 20 over IPv4, 44 over IPv6) and
// one packet answers one packet. Answers are rate-limited per source
// address (per /64 for IPv6) and in total, in a table of bounded size, so
// the relay cannot be turned into a useful reflector by spoofed sources.
// Everything that is not answered is dropped without a word.
package stunserver
