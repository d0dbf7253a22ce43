package stunserver

import (
	"net/netip"
	"testing"

	"github.com/pion/stun/v4"
)

var testSrc = netip.MustParseAddrPort("203.0.113.7:40000")

func build(t testing.TB, setters ...stun.Setter) []byte {
	t.Helper()
	m, err := stun.Build(append([]stun.Setter{stun.TransactionID}, setters...)...)
	if err != nil {
		t.Fatal(err)
	}
	return m.Raw
}

// checkResponse decodes res and checks it answers req from src with src.
func checkResponse(t testing.TB, req, res []byte, src netip.AddrPort) {
	t.Helper()
	m := &stun.Message{Raw: append([]byte(nil), res...)}
	if err := m.Decode(); err != nil {
		t.Fatalf("response does not decode: %v", err)
	}
	if m.Type != stun.BindingSuccess {
		t.Fatalf("response type %v", m.Type)
	}
	if string(m.TransactionID[:]) != string(req[8:20]) {
		t.Fatal("response carries another transaction ID")
	}
	var xa stun.XORMappedAddress
	if err := xa.GetFrom(m); err != nil {
		t.Fatalf("no XOR-MAPPED-ADDRESS: %v", err)
	}
	got, _ := netip.AddrFromSlice(xa.IP)
	if got.Unmap() != src.Addr().Unmap() || xa.Port != int(src.Port()) {
		t.Fatalf("mapped address %v:%d, want %v", got, xa.Port, src)
	}
	if len(res) > len(req)+24 {
		t.Fatalf("response of %d bytes to a request of %d: amplifies", len(res), len(req))
	}
}

func TestAnswer(t *testing.T) {
	plain := build(t, stun.BindingRequest)
	withFP := build(t, stun.BindingRequest, stun.NewSoftware("x"), stun.Fingerprint)
	badFP := append([]byte(nil), withFP...)
	badFP[len(badFP)-1] ^= 1
	long := append(append([]byte(nil), plain...), 0, 0, 0, 0)
	huge := build(t, stun.BindingRequest, stun.RawAttribute{Type: 0x8030, Value: make([]byte, MaxRequest)})
	badCookie := append([]byte(nil), plain...)
	badCookie[4] ^= 0xff
	tests := []struct {
		name string
		pkt  []byte
		src  netip.AddrPort
		ok   bool
	}{
		{"binding request", plain, testSrc, true},
		{"with software and fingerprint", withFP, testSrc, true},
		{"IPv6 source", plain, netip.MustParseAddrPort("[2001:db8::5]:3478"), true},
		{"IPv4-mapped source", plain, netip.MustParseAddrPort("[::ffff:192.0.2.1]:9"), true},
		{"bad fingerprint", badFP, testSrc, false},
		{"binding indication", build(t, stun.NewType(stun.MethodBinding, stun.ClassIndication)), testSrc, false},
		{"binding success", build(t, stun.BindingSuccess), testSrc, false},
		{"binding error", build(t, stun.BindingError), testSrc, false},
		{"TURN allocate", build(t, stun.NewType(stun.MethodAllocate, stun.ClassRequest)), testSrc, false},
		{"USERNAME (an ICE check)", build(t, stun.BindingRequest, stun.NewUsername("a:b")), testSrc, false},
		{"CHANGE-REQUEST", build(t, stun.BindingRequest, stun.RawAttribute{Type: 0x0003, Value: []byte{0, 0, 0, 6}}), testSrc, false},
		{"trailing bytes", long, testSrc, false},
		{"truncated", plain[:19], testSrc, false},
		{"too big", huge, testSrc, false},
		{"bad cookie", badCookie, testSrc, false},
		{"empty", nil, testSrc, false},
		{"port 0", plain, netip.MustParseAddrPort("203.0.113.7:0"), false},
		{"multicast source", plain, netip.MustParseAddrPort("224.0.0.1:5000"), false},
		{"broadcast source", plain, netip.MustParseAddrPort("255.255.255.255:5000"), false},
		{"unspecified source", plain, netip.MustParseAddrPort("0.0.0.0:5000"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := answer(tc.pkt, tc.src)
			if !tc.ok {
				if res != nil {
					t.Fatalf("answered %x", res)
				}
				return
			}
			if res == nil {
				t.Fatal("not answered")
			}
			checkResponse(t, tc.pkt, res, tc.src)
		})
	}
}

// FuzzAnswer: whatever arrives, the server either stays silent or sends a
// Binding success for the sender's address, no more than 24 bytes larger.
func FuzzAnswer(f *testing.F) {
	f.Add(build(f, stun.BindingRequest))
	f.Add(build(f, stun.BindingRequest, stun.Fingerprint))
	f.Add([]byte{0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42})
	f.Fuzz(func(t *testing.T, pkt []byte) {
		res := answer(pkt, testSrc)
		if res != nil {
			checkResponse(t, pkt, res, testSrc)
		}
	})
}
