package direct

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/transport"
)

// pair is two Peers on loopback whose signalling goes straight across.
type pair struct {
	t, a *Peer
}

// newPair makes an offerer and an answerer; mutate may change the
// answerer's offer and the offerer's answer in flight.
func newPair(t testing.TB, expT, expA []byte, cut *Cut, mutate func(*protocol.DirectSignal)) (*pair, error) {
	t.Helper()
	var p pair
	tc := make(chan string, 64)
	ac := make(chan string, 64)
	var err error
	p.t, err = NewPeer(Config{Role: Offerer, Exporter: expT, LoopbackOnly: true, OnCandidate: func(c string) { tc <- c },
		Disconnected: time.Second, Failed: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	p.a, err = NewPeer(Config{Role: Answerer, Exporter: expA, LoopbackOnly: true, OnCandidate: func(c string) { ac <- c },
		Disconnected: time.Second, Failed: 2 * time.Second, Cut: cut})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.t.Close(); p.a.Close() })
	offer, err := p.t.Offer()
	if err != nil {
		t.Fatal(err)
	}
	if mutate != nil {
		mutate(&offer)
	}
	answer, err := p.a.Accept(offer)
	if err != nil {
		return nil, err
	}
	if err := p.t.SetAnswer(answer); err != nil {
		return nil, err
	}
	go trickle(tc, p.a)
	go trickle(ac, p.t)
	return &p, nil
}

func trickle(from <-chan string, to *Peer) {
	for c := range from {
		if c == "" {
			return
		}
		to.AddCandidate(c)
	}
}

// open opens both ends at once.
func (p *pair) open(t *testing.T) (transport.FrameConn, transport.FrameConn, error, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	type res struct {
		c   transport.FrameConn
		err error
	}
	ch := make(chan res, 1)
	go func() { c, err := p.a.Open(ctx); ch <- res{c, err} }()
	ct, errT := p.t.Open(ctx)
	r := <-ch
	return ct, r.c, errT, r.err
}

var exporter = bytes.Repeat([]byte{7}, 32)

// TestDirectFrames: frames of every size up to MaxFrame cross both ways,
// in order; then cutting the answerer's sockets reports the path lost and
// fails reads.
func TestDirectFrames(t *testing.T) {
	cut := &Cut{}
	p, err := newPair(t, exporter, exporter, cut, nil)
	if err != nil {
		t.Fatal(err)
	}
	ct, ca, errT, errA := p.open(t)
	if errT != nil || errA != nil {
		t.Fatalf("open: %v / %v", errT, errA)
	}
	if r := p.t.Route(); !strings.Contains(r, "127.0.0.1") {
		t.Errorf("route %q, want loopback", r)
	}
	w := p.t.Why()
	t.Logf("why: %s", w)
	if !strings.HasPrefix(w, "LAN") {
		t.Errorf("why %q, want LAN", w)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sizes := []int{1, 100, 1500, 65536, protocol.MaxFrame - 1}
	go func() {
		for i, n := range sizes {
			f := append([]byte{byte(protocol.FrameSealed)}, bytes.Repeat([]byte{byte(i)}, n)...)
			if err := ct.WriteFrame(ctx, f); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for i, n := range sizes {
		ft, pl, err := ca.ReadFrame(ctx)
		if err != nil || ft != protocol.FrameSealed || len(pl) != n || pl[0] != byte(i) {
			t.Fatalf("frame %d: %v %d bytes, %v", i, ft, len(pl), err)
		}
	}
	if err := ca.WriteFrame(ctx, make([]byte, protocol.MaxFrame+1)); !errors.Is(err, protocol.ErrFrameTooBig) {
		t.Fatalf("oversized frame: %v", err)
	}
	cut.Fire()
	select {
	case <-p.t.Lost():
	case <-ctx.Done():
		t.Fatal("the offerer never noticed the cut path")
	}
}

// TestDirectRefusals: a wrong fingerprint in the sealed signal, another
// session's exporter, malformed SDP and a candidate flood each fail
// clearly.
func TestDirectRefusals(t *testing.T) {
	t.Run("fingerprint", func(t *testing.T) {
		p, err := newPair(t, exporter, exporter, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		// The answerer is told another fingerprint than the offerer's
		// certificate, as if the relay had swapped it (it cannot: sealed).
		p.a.mu.Lock()
		p.a.peerFP = strings.Replace(p.a.peerFP, p.a.peerFP[8:10], "00", 1)
		if p.a.peerFP == p.t.localFP {
			p.a.peerFP = strings.Replace(p.a.peerFP, "00", "11", 1)
		}
		p.a.mu.Unlock()
		_, _, _, errA := p.open(t)
		if !errors.Is(errA, ErrFingerprint) {
			t.Fatalf("answerer: %v, want ErrFingerprint", errA)
		}
	})
	t.Run("exporter", func(t *testing.T) {
		p, err := newPair(t, exporter, bytes.Repeat([]byte{8}, 32), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _, errT, errA := p.open(t)
		if !errors.Is(errT, ErrBinding) || !errors.Is(errA, ErrBinding) {
			t.Fatalf("open: %v / %v, want ErrBinding on both", errT, errA)
		}
	})
	t.Run("malformed sdp", func(t *testing.T) {
		_, err := newPair(t, exporter, exporter, nil, func(s *protocol.DirectSignal) { s.SDP = "v=0\r\nm=nonsense\r\n" })
		if !errors.Is(err, ErrSignal) {
			t.Fatalf("got %v, want ErrSignal", err)
		}
	})
	t.Run("flood", func(t *testing.T) {
		p, err := NewPeer(Config{Role: Answerer, Exporter: exporter, LoopbackOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		var last error
		for i := range protocol.MaxDirectCandidates + 1 {
			last = p.AddCandidate("candidate:" + strings.Repeat("1", i%3+1) + " 1 udp 1 127.0.0.1 9 typ host")
		}
		if !errors.Is(last, ErrFlood) {
			t.Fatalf("candidate %d: %v, want ErrFlood", protocol.MaxDirectCandidates+1, last)
		}
	})
}
