package stunserver

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/pion/stun/v4"
)

// serve starts a server on loopback with limits l, stopped at the end of
// the test.
func serve(t *testing.T, l Limits) *Server {
	t.Helper()
	s, err := Listen("127.0.0.1:0", l, nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	t.Cleanup(func() {
		s.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return s
}

// TestClientLearnsItsAddress: pion's own STUN client gets the address
// it sends from as its reflexive address.
func TestClientLearnsItsAddress(t *testing.T) {
	s := serve(t, Limits{})
	conn, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(s.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	c, err := stun.NewClient(conn, stun.WithRTO(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var got stun.XORMappedAddress
	var evErr error
	if err := c.Do(stun.MustBuild(stun.TransactionID, stun.BindingRequest), func(ev stun.Event) {
		if evErr = ev.Error; evErr == nil {
			evErr = got.GetFrom(ev.Message)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if evErr != nil {
		t.Fatal(evErr)
	}
	local := conn.LocalAddr().(*net.UDPAddr)
	if !got.IP.Equal(local.IP) || got.Port != local.Port {
		t.Fatalf("reflexive address %v, want %v", got, local)
	}
	if st := s.Stats(); st.Answered != 1 || st.Dropped != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestFloodIsBounded sends a bounded flood of junk, other STUN methods and
// Binding requests from one source: the junk gets nothing, and the
// requests get PerSource answers, all of them well-formed.
func TestFloodIsBounded(t *testing.T) {
	const perSource, rounds, perRound = 5, 10, 40
	s := serve(t, Limits{PerSource: perSource, Total: 1000, Window: time.Hour, Sources: 16})
	conn, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(s.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := build(t, stun.BindingRequest)
	junk := [][]byte{
		{0xff}, make([]byte, 20), make([]byte, 1400), req[:12],
		build(t, stun.NewType(stun.MethodAllocate, stun.ClassRequest)),
		build(t, stun.BindingRequest, stun.NewUsername("u:v")),
	}
	var requests, sent uint64
	deadline := time.Now().Add(20 * time.Second)
	for r := range rounds {
		for i := range perRound {
			pkt := junk[i%len(junk)]
			if i%4 == 0 {
				pkt, requests = build(t, stun.BindingRequest), requests+1
			}
			if _, err := conn.Write(pkt); err != nil {
				t.Fatal(err)
			}
			sent++
		}
		// Each round waits until the server has read it, so that no
		// datagram is lost to a full socket buffer.
		for st := s.Stats(); st.Answered+st.Dropped+st.Limited < sent; st = s.Stats() {
			if time.Now().After(deadline) {
				t.Fatalf("round %d: server read %d of %d datagrams", r, st.Answered+st.Dropped+st.Limited, sent)
			}
			time.Sleep(time.Millisecond)
		}
	}
	st := s.Stats()
	if st.Answered != perSource || st.Limited != requests-perSource || st.Dropped != sent-requests {
		t.Fatalf("stats %+v after %d datagrams with %d requests", st, sent, requests)
	}
	buf := make([]byte, 1500)
	var answers int
	for {
		conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		n, err := conn.Read(buf)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		m := &stun.Message{Raw: append([]byte(nil), buf[:n]...)}
		if err := m.Decode(); err != nil || m.Type != stun.BindingSuccess || n > len(req)+24 {
			t.Fatalf("unexpected answer %x", buf[:n])
		}
		answers++
	}
	if answers != perSource {
		t.Fatalf("%d answers received, want %d", answers, perSource)
	}
}
