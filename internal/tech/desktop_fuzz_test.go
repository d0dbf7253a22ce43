package tech

import (
	"context"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/screen"
	"github.com/tether-support/tether/internal/tilecodec"
)

// drawAll is a DesktopSink that draws (acknowledges) everything at once.
type drawAll struct{ updates, states, cursors int }

func (k *drawAll) Update(u *DesktopUpdate) {
	if err := u.Frame.Validate(); err != nil {
		panic(err)
	}
	k.updates++
	u.Drawn()
}
func (k *drawAll) Cursor(protocol.ScreenCursor)    { k.cursors++ }
func (k *drawAll) State(protocol.ScreenState)      { k.states++ }
func (k *drawAll) Caps(granted []string, _ string) {}

// testStream is a DesktopStream fed by take, without a session channel;
// what it would send is counted.
func testStream(sink DesktopSink, sent *int) *DesktopStream {
	d := &DesktopStream{s: &LiveSession{c: &Client{}}, sink: sink,
		dec:   tilecodec.NewDecoder(tilecodec.Limits{MaxWidth: 1024, MaxHeight: 1024}),
		drawn: make(chan struct{}, 1), first: make(chan error, 1), done: make(chan struct{})}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	d.send = func(context.Context, []byte) error { *sent++; return nil }
	return d
}

// messages splits data into inner messages: type (1 byte) ‖ length
// (uint16 BE) ‖ payload, as many as fit.
func messages(data []byte) [][]byte {
	var out [][]byte
	for len(data) >= 3 {
		n := int(binary.BigEndian.Uint16(data[1:]))
		if n > len(data)-3 {
			n = len(data) - 3
		}
		out = append(out, append([]byte{data[0]}, data[3:3+n]...))
		data = data[3+n:]
	}
	return out
}

// joinMessages is the inverse of messages.
func joinMessages(msgs ...[]byte) []byte {
	var b []byte
	for _, m := range msgs {
		b = append(b, m[0])
		b = binary.BigEndian.AppendUint16(b, uint16(len(m)-1))
		b = append(b, m[1:]...)
	}
	return b
}

// validStream is a state, a cursor and two updates of a 130×70 screen.
func validStream(t testing.TB) [][]byte {
	f, _ := screen.NewFrame(130, 70)
	for i := range f.Pix {
		f.Pix[i] = byte(i * 7 / 5)
	}
	e := tilecodec.NewEncoder(tilecodec.Options{})
	defer e.Close()
	msgs := [][]byte{mustJSON(t, protocol.InScreenState, protocol.ScreenState{Width: 130, Height: 70, MaxFPS: 30}),
		protocol.AppendScreenCursor(nil, protocol.ScreenCursor{X: 5, Y: 6, Flags: 3, Serial: 1, Width: 2, Height: 1, Pix: make([]byte, 8)})}
	for k := 0; k < 2; k++ {
		u, err := e.Encode(f, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range u.Chunks {
			msgs = append(msgs, append([]byte{byte(protocol.InScreenUpdate)}, c...))
		}
		f.Pix[4*131] ^= 0xff
	}
	return msgs
}

func mustJSON(t testing.TB, typ protocol.InnerType, v any) []byte {
	b, err := protocol.AppendJSON(nil, typ, v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDesktopTake: a valid stream is delivered and acknowledged; each
// hostile message is refused as a protocol error naming what was wrong.
func TestDesktopTake(t *testing.T) {
	sink, sent := &drawAll{}, 0
	d := testStream(sink, &sent)
	for _, m := range validStream(t) {
		if err := d.take(protocol.InnerType(m[0]), m[1:]); err != nil {
			t.Fatal(err)
		}
	}
	if sink.updates != 2 || sink.states != 1 || sink.cursors != 1 || sent != 2 {
		t.Fatalf("updates %d states %d cursors %d acks %d", sink.updates, sink.states, sink.cursors, sent)
	}
	hostile := []struct {
		name string
		msg  []byte
		want string
	}{
		{"short update", []byte{byte(protocol.InScreenUpdate), 1, 2, 3}, "a malformed screen update"},
		{"state too large", mustJSON(t, protocol.InScreenState, protocol.ScreenState{Width: 9000, Height: 1}), "a malformed screen state"},
		{"state not JSON", []byte{byte(protocol.InScreenState), '['}, "a malformed screen state"},
		{"cursor hot spot outside", protocol.AppendScreenCursor(nil, protocol.ScreenCursor{Flags: 3, Width: 1, Height: 1, HotX: 4, Pix: make([]byte, 4)}), "a malformed cursor"},
		{"capability answer not JSON", []byte{byte(protocol.InCapAnswer), 'x'}, "a malformed capability message"},
	}
	for _, h := range hostile {
		d := testStream(&drawAll{}, new(int))
		err := d.take(protocol.InnerType(h.msg[0]), h.msg[1:])
		var pe *deviceProtocolError
		if err == nil || !errors.As(err, &pe) || pe.reason != "protocol error: the device sent "+h.want {
			t.Errorf("%s: %v", h.name, err)
		}
	}
}

// FuzzDesktopMessages feeds arbitrary message sequences from a device to
// the technician's stream: it must never panic, deliver a frame that does
// not describe its buffer, or accept anything after refusing a message.
func FuzzDesktopMessages(f *testing.F) {
	valid := validStream(f)
	f.Add(joinMessages(valid...))
	f.Add(joinMessages(valid[0], valid[2]))
	f.Add(joinMessages(valid[1], valid[0], []byte{byte(protocol.InCapRevoked), '{', '}'}))
	f.Fuzz(func(t *testing.T, data []byte) {
		d := testStream(&drawAll{}, new(int))
		defer d.dec.Close()
		for _, m := range messages(data) {
			if err := d.take(protocol.InnerType(m[0]), m[1:]); err != nil {
				return
			}
		}
	})
}
