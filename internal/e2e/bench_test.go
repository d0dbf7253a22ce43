package e2e

import "testing"

func BenchmarkSeal16K(b *testing.B) {
	s, _ := newPair(b)
	msg := make([]byte, 16<<10)
	aad := []byte{1}
	frame := make([]byte, 0, len(msg)+s.Overhead())
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if frame, err = s.Seal(frame[:0], aad, msg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen16K(b *testing.B) {
	s, o := newPair(b)
	msg := make([]byte, 16<<10)
	aad := []byte{1}
	frame := seal(b, s, aad, msg)
	plain := make([]byte, 0, len(msg))
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		o.seq = 0 // reopen the same frame; only the sequence check is bypassed
		if _, err := o.Open(plain[:0], aad, frame); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHandshake(b *testing.B) {
	key := detDeviceKey(1)
	p := testParams(key)
	b.ReportAllocs()
	for b.Loop() {
		i, hello, err := NewInitiator(p)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, _, err := runHandshake(i, hello, NewResponder(p, key), tamper{}); err != nil {
			b.Fatal(err)
		}
	}
}
