package stunserver

import (
	"net/netip"

	"github.com/pion/stun/v4"
)

const (
	// headerSize is a STUN message header's size.
	headerSize = 20
	// MaxRequest is the largest datagram considered: a Binding request
	// needs no attributes at all, and bounding it bounds the work a
	// packet costs.
	MaxRequest = 548
	// comprehensionOptional is the first attribute type a server may
	// ignore (RFC 8489 section 14).
	comprehensionOptional = 0x8000
)

// answer returns the Binding success response to pkt, a datagram received
// from src, or nil when pkt is anything but a well-formed Binding request
// this server may answer.
func answer(pkt []byte, src netip.AddrPort) []byte {
	if !answerable(src) || len(pkt) < headerSize || len(pkt) > MaxRequest || !stun.IsMessage(pkt) {
		return nil
	}
	// The first two bits of a STUN message are zero and the length
	// counts the attributes exactly, a multiple of 4.
	if pkt[0]&0xc0 != 0 || int(pkt[2])<<8|int(pkt[3]) != len(pkt)-headerSize || len(pkt)%4 != 0 {
		return nil
	}
	req := &stun.Message{Raw: append([]byte(nil), pkt...)}
	if err := req.Decode(); err != nil || req.Type != stun.BindingRequest {
		return nil
	}
	for _, a := range req.Attributes {
		if uint16(a.Type) < comprehensionOptional {
			return nil
		}
	}
	if req.Contains(stun.AttrFingerprint) && stun.Fingerprint.Check(req) != nil {
		return nil
	}
	ip := src.Addr().Unmap()
	res, err := stun.Build(stun.NewTransactionIDSetter(req.TransactionID), stun.BindingSuccess,
		&stun.XORMappedAddress{IP: ip.AsSlice(), Port: int(src.Port())})
	if err != nil {
		return nil
	}
	return res.Raw
}

// answerable reports whether src is an address a response may go to: a
// unicast address and a port other than 0.
func answerable(src netip.AddrPort) bool {
	a := src.Addr().Unmap()
	return src.Port() != 0 && a.IsValid() && !a.IsUnspecified() && !a.IsMulticast() &&
		!(a.Is4() && a == netip.AddrFrom4([4]byte{255, 255, 255, 255}))
}
