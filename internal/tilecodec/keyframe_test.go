package tilecodec

import (
	"math/rand/v2"
	"testing"
)

// TestKeyframeJoin: a player that starts at a keyframe decodes every live
// update after it, because the live encoder restarts its zstd stream right
// after the keyframe; a decoder that saw everything from the start follows
// the restart too.
func TestKeyframeJoin(t *testing.T) {
	tx := newText(9, 40, 20)
	f := newFrame(t, 320, 320)
	tx.draw(f)
	e, live := NewEncoder(Options{Lossless: true}), NewDecoder(Limits{})
	apply(t, live, encode(t, e, f, false))
	rng := rand.New(rand.NewPCG(3, 4))
	tx.scroll(2, rng)
	tx.draw(f)
	apply(t, live, encode(t, e, f, false))
	if e.LastSent() == nil || e.LastID() != 2 {
		t.Fatalf("after two updates: LastSent %v, LastID %d", e.LastSent() != nil, e.LastID())
	}

	k, err := Keyframe(e.LastSent(), e.LastID(), Options{Lossless: true})
	if err != nil {
		t.Fatal(err)
	}
	if !k.Full || k.ID != 2 || k.Chunks[0][6]&FlagZstdReset == 0 {
		t.Fatalf("keyframe: full %v id %d flags %#x", k.Full, k.ID, k.Chunks[0][6])
	}
	e.RestartStream()
	if u := encode(t, e, f, false); len(u.Chunks) != 0 {
		t.Fatal("an unchanged frame produced an update")
	}
	joined := NewDecoder(Limits{})
	apply(t, joined, k)
	sameBGR(t, joined.Frame(), f)

	for i := 0; i < 3; i++ {
		tx.scroll(1, rng)
		tx.draw(f)
		u := encode(t, e, f, false)
		if i == 0 && (u.Full || u.Chunks[0][6]&FlagZstdReset == 0 || u.ID != 3) {
			t.Fatalf("first live update after the keyframe: full %v flags %#x id %d", u.Full, u.Chunks[0][6], u.ID)
		}
		if i > 0 && u.Chunks[0][6]&FlagZstdReset != 0 {
			t.Fatalf("update %d restarted the stream again", u.ID)
		}
		apply(t, joined, u)
		apply(t, live, u)
		sameBGR(t, joined.Frame(), f)
		sameBGR(t, live.Frame(), f)
	}
}

// TestLastSentAfterReset: Reset forgets the frame.
func TestLastSentAfterReset(t *testing.T) {
	e := NewEncoder(Options{})
	if e.LastSent() != nil || e.LastID() != 0 {
		t.Fatal("a new encoder claims a sent frame")
	}
	encode(t, e, newFrame(t, 64, 64), false)
	e.Reset()
	if e.LastSent() != nil {
		t.Fatal("LastSent after Reset")
	}
}
