package agent

import (
	"bytes"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/screen"
	"github.com/tether-support/tether/internal/tilecodec"
	"github.com/tether-support/tether/recordings"
)

// TestFlushEveryEnv: the test-only knob can shorten the flush interval,
// never lengthen it or make it absurdly short.
func TestFlushEveryEnv(t *testing.T) {
	for _, tc := range []struct {
		env  string
		want time.Duration
	}{
		{"", defaultFlushEvery},
		{"100ms", 100 * time.Millisecond},
		{"10ms", 10 * time.Millisecond},
		{"1ms", defaultFlushEvery},
		{"2s", defaultFlushEvery},
		{"1h", defaultFlushEvery},
		{"-1s", defaultFlushEvery},
		{"soon", defaultFlushEvery},
	} {
		t.Setenv(flushEveryEnv, tc.env)
		if got := flushEvery(); got != tc.want {
			t.Errorf("%s=%q: flush every %v, want %v", flushEveryEnv, tc.env, got, tc.want)
		}
	}
}

// recordTo starts a recorder writing its ciphertext to buf, with a fresh
// reviewer identity.
func recordTo(t *testing.T, buf *bytes.Buffer, input bool) (*recorder, *recordings.Identity) {
	t.Helper()
	id, err := recordings.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	rec, err := startRecorder(buf, ids.NewSessionID(), []*recordings.Recipient{id.Recipient()}, input)
	if err != nil {
		t.Fatal(err)
	}
	return rec, id
}

// stopAndRead stops rec and reads back what it recorded.
func stopAndRead(t *testing.T, rec *recorder, buf *bytes.Buffer, id *recordings.Identity) (evs []recordings.CastEvent, recs []recordings.Record, desktop bool) {
	t.Helper()
	if _, err := rec.stop(); err != nil {
		t.Fatalf("recorder failed: %v", err)
	}
	r, err := recordings.NewReader(bytes.NewReader(buf.Bytes()), id)
	if err != nil {
		t.Fatal(err)
	}
	_, desktop, err = recordings.ReadStream(r, recordings.StreamVisitor{
		Cast: func(e recordings.CastEvent) error { evs = append(evs, e); return nil },
		Record: func(r recordings.Record) error {
			r.Data = bytes.Clone(r.Data)
			recs = append(recs, r)
			return nil
		},
	})
	if err != nil {
		t.Fatalf("reading the recording back: %v", err)
	}
	return evs, recs, desktop
}

// TestRecorderDesktopSwitch: the first screen event switches the recording
// to the desktop stream; what came before stays asciicast, everything after
// (terminal events and markers too) becomes records, in order, and the
// update chunks are recorded byte for byte and decode.
func TestRecorderDesktopSwitch(t *testing.T) {
	var buf bytes.Buffer
	rec, id := recordTo(t, &buf, true)
	f, _ := screen.NewFrame(130, 70)
	for i := range f.Pix {
		f.Pix[i] = byte(i / 977)
	}
	enc := tilecodec.NewEncoder(tilecodec.Options{Lossless: true})
	u, err := enc.Encode(f, true)
	if err != nil {
		t.Fatal(err)
	}
	cur := protocol.ScreenCursor{X: 3, Y: 4, Flags: protocol.CursorVisible}
	in := protocol.ScreenInput{Kind: protocol.InputKey, Keysym: 0x61, Down: true}
	steps := []func() error{
		func() error { return rec.marker("consent granted: %s", "screen-view") },
		func() error { return rec.output([]byte("before")) },
		func() error { return rec.screenUpdate(u.Chunks, false) },
		func() error { return rec.screenCursor(cur) },
		func() error { return rec.screenInput(in) },
		func() error { return rec.screenUpdate(u.Chunks, true) },
		func() error { return rec.output([]byte("after")) },
		func() error { return rec.resize(100, 30) },
		func() error { return rec.marker("paused by the user") },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	evs, recs, desktop := stopAndRead(t, rec, &buf, id)
	if !desktop || len(evs) != 2 || evs[1].Data != "before" {
		t.Fatalf("desktop %v, cast events %+v: want the marker and \"before\" as asciicast", desktop, evs)
	}
	var kinds []recordings.RecordKind
	dec := tilecodec.NewDecoder(tilecodec.Limits{})
	defer dec.Close()
	for _, r := range recs {
		kinds = append(kinds, r.Kind)
		if r.Kind == recordings.RecUpdate {
			if _, err := dec.Apply(r.Data); err != nil {
				t.Fatalf("recorded chunk does not decode: %v", err)
			}
		}
	}
	want := []recordings.RecordKind{}
	for range u.Chunks {
		want = append(want, recordings.RecUpdate)
	}
	want = append(want, recordings.RecCursor, recordings.RecInput)
	for range u.Chunks {
		want = append(want, recordings.RecKeyframe)
	}
	want = append(want, recordings.RecOutput, recordings.RecResize, recordings.RecMarker)
	if !slices.Equal(kinds, want) {
		t.Fatalf("record kinds %v, want %v", kinds, want)
	}
	if !sameBGR(dec.Frame(), f) {
		t.Fatal("the recorded update does not reproduce the frame")
	}
	if got := string(recs[len(recs)-1].Data); got != "paused by the user" {
		t.Errorf("last marker %q", got)
	}
}

// TestRecorderTerminalOnly: a session that never shows the screen records
// plain asciicast v2, as before the desktop existed.
func TestRecorderTerminalOnly(t *testing.T) {
	var buf bytes.Buffer
	rec, id := recordTo(t, &buf, false)
	rec.marker("start: interactive shell")
	rec.output([]byte("$ "))
	rec.inputEvent([]byte("not recorded"))
	if _, err := rec.stop(); err != nil {
		t.Fatal(err)
	}
	r, err := recordings.NewReader(bytes.NewReader(buf.Bytes()), id)
	if err != nil {
		t.Fatal(err)
	}
	pt, err := io.ReadAll(r)
	if err != nil && err != io.EOF {
		t.Fatal(err)
	}
	if bytes.Contains(pt, []byte(recordings.DesktopSwitch)) {
		t.Fatal("a terminal-only session switched to the desktop stream")
	}
	if _, n, err := recordings.ParseCast(bytes.NewReader(pt)); err != nil || n != 2 {
		t.Fatalf("ParseCast: %d events, %v; want 2 events", n, err)
	}
}

// TestRecorderRefusesBadScreenEvents: a malformed chunk or cursor is
// refused to the caller and does not spoil the recording; a nil recorder
// records nothing.
func TestRecorderRefusesBadScreenEvents(t *testing.T) {
	var buf bytes.Buffer
	rec, id := recordTo(t, &buf, true)
	if err := rec.screenUpdate([][]byte{make([]byte, 5)}, false); err == nil {
		t.Error("a 5-byte chunk was accepted")
	}
	if err := rec.screenUpdate([][]byte{make([]byte, recordings.MaxRecordData+1)}, true); err == nil {
		t.Error("an oversized keyframe chunk was accepted")
	}
	if err := rec.screenCursor(protocol.ScreenCursor{Flags: protocol.CursorShape, Width: 500, Height: 1}); err == nil {
		t.Error("an oversized cursor was accepted")
	}
	if err := rec.screenInput(protocol.ScreenInput{Kind: 9}); err == nil {
		t.Error("an unknown input kind was accepted")
	}
	rec.marker("still fine")
	evs, recs, desktop := stopAndRead(t, rec, &buf, id)
	if desktop || len(recs) != 0 || len(evs) != 1 {
		t.Fatalf("desktop %v, %d records, events %+v", desktop, len(recs), evs)
	}
	var none *recorder
	if none.screenUpdate([][]byte{{1}}, false) != nil || none.screenCursor(protocol.ScreenCursor{}) != nil ||
		none.screenInput(protocol.ScreenInput{}) != nil {
		t.Error("a nil recorder returned an error")
	}
}

// sameBGR compares two frames' pixels, ignoring the padding byte.
func sameBGR(a, b *screen.Frame) bool {
	if a == nil || a.Width != b.Width || a.Height != b.Height {
		return false
	}
	for y := range a.Height {
		for x := range a.Width {
			i, j := y*a.Stride+x*4, y*b.Stride+x*4
			if !bytes.Equal(a.Pix[i:i+3], b.Pix[j:j+3]) {
				return false
			}
		}
	}
	return true
}
