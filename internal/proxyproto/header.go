// Package proxyproto reads the PROXY protocol header (versions 1 and 2, as
// specified by HAProxy's proxy-protocol.txt) that a TCP load balancer
// writes before a client's bytes, so that a server behind it learns the
// client's address. Parse decodes one header from a byte slice; Listener
// wraps a net.Listener so that connections from trusted balancers must
// start with one and report the client's address as their RemoteAddr.
//
// Only what the relay needs is accepted: a v1 line for TCP4, TCP6 or
// UNKNOWN, and a v2 block whose command is LOCAL, or PROXY over TCP for
// IPv4 or IPv6. Everything else is an error, so a connection from a
// balancer is never served with an address it did not state.
package proxyproto

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
)

// MaxV1 is the longest version 1 header, its CRLF included (the spec's
// bound: a receiver must not read further looking for the CRLF).
const MaxV1 = 107

// MaxV2 is the longest version 2 header accepted: the 16-byte fixed part
// and at most 2032 bytes of addresses and TLVs (balancers that add TLVs,
// such as cloud load balancers, stay well below it).
const MaxV2 = 2048

// v1Prefix starts every version 1 header; v2Sig every version 2 header.
var (
	v1Prefix = []byte("PROXY ")
	v2Sig    = []byte("\r\n\r\n\x00\r\nQUIT\n")
)

// ErrIncomplete means the bytes so far are a valid beginning of a header:
// read more and parse again.
var ErrIncomplete = errors.New("proxyproto: incomplete header")

// ErrNotProxy means the bytes do not begin a PROXY protocol header.
var ErrNotProxy = errors.New("proxyproto: not a PROXY protocol header")

// Header is one decoded header.
type Header struct {
	// Version is 1 or 2.
	Version int
	// Local is true for a v2 LOCAL command or a v1 UNKNOWN line: the
	// connection is the balancer's own (a health check) and its real
	// endpoints are the addresses to use.
	Local bool
	// Source and Dest are the client's address and the address it
	// connected to; both are invalid when Local.
	Source, Dest netip.AddrPort
}

// Parse decodes the header at the start of b and returns it with its
// length in bytes. It returns ErrIncomplete while b is a valid prefix of a
// header shorter than the limits, ErrNotProxy if b starts with neither
// signature, and another error for a malformed or oversized header.
func Parse(b []byte) (Header, int, error) {
	switch {
	case hasPrefix(b, v2Sig):
		return parseV2(b)
	case hasPrefix(b, v1Prefix):
		return parseV1(b)
	}
	return Header{}, 0, ErrNotProxy
}

// LooksLike reports whether b (at least one byte) could begin a PROXY
// protocol header: it is a prefix of one of the two signatures or starts
// with one.
func LooksLike(b []byte) bool {
	return len(b) > 0 && (hasPrefix(b, v2Sig) || hasPrefix(b, v1Prefix))
}

// hasPrefix reports whether b and sig agree on their common length.
func hasPrefix(b, sig []byte) bool {
	n := min(len(b), len(sig))
	return bytes.Equal(b[:n], sig[:n])
}

// parseV1 decodes "PROXY TCP4|TCP6 SRC DST SPORT DPORT\r\n" or
// "PROXY UNKNOWN ...\r\n".
func parseV1(b []byte) (Header, int, error) {
	end := bytes.Index(b[:min(len(b), MaxV1)], []byte("\r\n"))
	if end < 0 {
		if len(b) >= MaxV1 {
			return Header{}, 0, fmt.Errorf("proxyproto: v1 header longer than %d bytes", MaxV1)
		}
		if bytes.IndexByte(b, '\n') >= 0 {
			return Header{}, 0, errors.New("proxyproto: v1 header: line feed without carriage return")
		}
		return Header{}, 0, ErrIncomplete
	}
	n := end + 2
	f := bytes.Split(b[len(v1Prefix):end], []byte(" "))
	if string(f[0]) == "UNKNOWN" {
		return Header{Version: 1, Local: true}, n, nil
	}
	if len(f) != 5 {
		return Header{}, 0, fmt.Errorf("proxyproto: v1 header: %d fields, want 6", len(f)+1)
	}
	var want4 bool
	switch string(f[0]) {
	case "TCP4":
		want4 = true
	case "TCP6":
	default:
		return Header{}, 0, fmt.Errorf("proxyproto: v1 header: unknown protocol %q", f[0])
	}
	src, err := v1AddrPort(f[1], f[3], want4)
	if err != nil {
		return Header{}, 0, fmt.Errorf("proxyproto: v1 header: source: %w", err)
	}
	dst, err := v1AddrPort(f[2], f[4], want4)
	if err != nil {
		return Header{}, 0, fmt.Errorf("proxyproto: v1 header: destination: %w", err)
	}
	return Header{Version: 1, Source: src, Dest: dst}, n, nil
}

// v1AddrPort parses one address of the family the protocol names and a
// decimal port 0..65535 without leading zeros or a sign.
func v1AddrPort(addr, port []byte, want4 bool) (netip.AddrPort, error) {
	a, err := netip.ParseAddr(string(addr))
	if err != nil {
		return netip.AddrPort{}, err
	}
	if a.Is4() != want4 || a.Zone() != "" {
		return netip.AddrPort{}, fmt.Errorf("address %s does not match the protocol", a)
	}
	if len(port) == 0 || len(port) > 5 || (port[0] == '0' && len(port) > 1) || port[0] < '0' || port[0] > '9' {
		return netip.AddrPort{}, fmt.Errorf("bad port %q", port)
	}
	p, err := strconv.ParseUint(string(port), 10, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("bad port %q", port)
	}
	return netip.AddrPortFrom(a, uint16(p)), nil
}

// v2 command, family and transport values.
const (
	v2Local  = 0x20
	v2Proxy  = 0x21
	v2TCP4   = 0x11
	v2TCP6   = 0x21
	v2Fixed  = 16
	v2Addr4  = 12
	v2Addr6  = 36
	v2MaxLen = MaxV2 - v2Fixed
)

// parseV2 decodes the binary header: signature, version and command,
// family and transport, length, addresses, then TLVs (skipped).
func parseV2(b []byte) (Header, int, error) {
	if len(b) < v2Fixed {
		return Header{}, 0, ErrIncomplete
	}
	verCmd, fam := b[12], b[13]
	l := int(binary.BigEndian.Uint16(b[14:16]))
	if verCmd>>4 != 2 {
		return Header{}, 0, fmt.Errorf("proxyproto: v2 header: version %d", verCmd>>4)
	}
	if verCmd != v2Local && verCmd != v2Proxy {
		return Header{}, 0, fmt.Errorf("proxyproto: v2 header: unknown command %#x", verCmd&0xf)
	}
	if l > v2MaxLen {
		return Header{}, 0, fmt.Errorf("proxyproto: v2 header of %d bytes, more than %d", v2Fixed+l, MaxV2)
	}
	n := v2Fixed + l
	if verCmd == v2Local {
		// The spec: the family and addresses of a LOCAL header are ignored.
		if len(b) < n {
			return Header{}, 0, ErrIncomplete
		}
		return Header{Version: 2, Local: true}, n, nil
	}
	var need int
	switch fam {
	case v2TCP4:
		need = v2Addr4
	case v2TCP6:
		need = v2Addr6
	default:
		return Header{}, 0, fmt.Errorf("proxyproto: v2 header: family/transport %#x is not TCP over IPv4 or IPv6", fam)
	}
	if l < need {
		return Header{}, 0, fmt.Errorf("proxyproto: v2 header: %d address bytes, want at least %d", l, need)
	}
	if len(b) < n {
		return Header{}, 0, ErrIncomplete
	}
	a := b[v2Fixed:]
	h := Header{Version: 2}
	if fam == v2TCP4 {
		h.Source = netip.AddrPortFrom(netip.AddrFrom4([4]byte(a[0:4])), binary.BigEndian.Uint16(a[8:10]))
		h.Dest = netip.AddrPortFrom(netip.AddrFrom4([4]byte(a[4:8])), binary.BigEndian.Uint16(a[10:12]))
	} else {
		h.Source = netip.AddrPortFrom(netip.AddrFrom16([16]byte(a[0:16])), binary.BigEndian.Uint16(a[32:34]))
		h.Dest = netip.AddrPortFrom(netip.AddrFrom16([16]byte(a[16:32])), binary.BigEndian.Uint16(a[34:36]))
	}
	return h, n, nil
}

// AppendV2 appends a version 2 PROXY header for a TCP connection from src
// to dst (both IPv4, or both IPv6 after unmapping), or a LOCAL header when
// src is invalid. It is what a balancer writes; tests use it.
func AppendV2(b []byte, src, dst netip.AddrPort) []byte {
	b = append(b, v2Sig...)
	if !src.IsValid() {
		return append(b, v2Local, 0, 0, 0)
	}
	s, d := src.Addr().Unmap(), dst.Addr().Unmap()
	if s.Is4() && d.Is4() {
		b = append(b, v2Proxy, v2TCP4, 0, v2Addr4)
		b = append(b, s.AsSlice()...)
		b = append(b, d.AsSlice()...)
	} else {
		b = append(b, v2Proxy, v2TCP6, 0, v2Addr6)
		s16, d16 := s.As16(), d.As16()
		b = append(b, s16[:]...)
		b = append(b, d16[:]...)
	}
	b = binary.BigEndian.AppendUint16(b, src.Port())
	return binary.BigEndian.AppendUint16(b, dst.Port())
}
