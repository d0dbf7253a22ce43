package protocol

import (
	"bytes"
	"errors"
	"testing"
)

func TestScreenInputRoundTrip(t *testing.T) {
	cases := []ScreenInput{
		{Kind: InputKey, Keysym: 0x61, Down: true},
		{Kind: InputKey, Keysym: MaxKeysym},
		{Kind: InputPointer, X: 1919, Y: 1079, Buttons: 0x05},
		{Kind: InputPointer},
		{Kind: InputWheel, DX: -3, DY: MaxWheel},
	}
	for _, ev := range cases {
		msg := AppendScreenInput(nil, ev)
		if InnerType(msg[0]) != InScreenInput {
			t.Fatalf("type 0x%02x", msg[0])
		}
		got, err := ParseScreenInput(msg[1:])
		if err != nil {
			t.Fatalf("%+v: %v", ev, err)
		}
		if got != ev {
			t.Errorf("round trip %+v → %+v", ev, got)
		}
	}
}

func TestScreenInputRefused(t *testing.T) {
	cases := map[string][]byte{
		"empty":          {},
		"unknown kind":   {0x09, 0, 0},
		"short key":      {InputKey, 0, 0, 0, 0x61},
		"long key":       {InputKey, 0, 0, 0, 0x61, 1, 0},
		"keysym > 29bit": {InputKey, 0x20, 0, 0, 0, 1},
		"down 2":         {InputKey, 0, 0, 0, 0x61, 2},
		"buttons 0x08":   {InputPointer, 0, 1, 0, 1, 0x08},
		"short pointer":  {InputPointer, 0, 1, 0, 1},
		"wheel 11":       {InputWheel, 11, 0},
		"wheel -11":      {InputWheel, 0, 0xf5},
		"long wheel":     {InputWheel, 1, 1, 1},
	}
	for name, p := range cases {
		if _, err := ParseScreenInput(p); !errors.Is(err, ErrBadInner) {
			t.Errorf("%s: err = %v, want ErrBadInner", name, err)
		}
	}
}

func TestScreenAck(t *testing.T) {
	msg := AppendScreenAck(nil, 0xdeadbeef)
	id, err := ParseScreenAck(msg[1:])
	if err != nil || id != 0xdeadbeef || InnerType(msg[0]) != InScreenAck {
		t.Fatalf("ack = %x, %v", id, err)
	}
	for _, p := range [][]byte{nil, {1, 2, 3}, {1, 2, 3, 4, 5}} {
		if _, err := ParseScreenAck(p); !errors.Is(err, ErrBadInner) {
			t.Errorf("ParseScreenAck(%x) = %v", p, err)
		}
	}
}

func TestScreenCursor(t *testing.T) {
	shape := ScreenCursor{X: 10, Y: 20, Flags: CursorVisible | CursorShape, Serial: 7,
		HotX: 1, HotY: 1, Width: 3, Height: 2, Pix: bytes.Repeat([]byte{0xff}, 24)}
	for _, c := range []ScreenCursor{shape, {X: 5, Y: 6, Flags: CursorVisible}, {}} {
		msg := AppendScreenCursor(nil, c)
		got, err := ParseScreenCursor(msg[1:])
		if err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
		if got.X != c.X || got.Y != c.Y || got.Flags != c.Flags || got.Serial != c.Serial ||
			got.Width != c.Width || got.Height != c.Height || !bytes.Equal(got.Pix, c.Pix) {
			t.Errorf("round trip %+v → %+v", c, got)
		}
	}
	bad := map[string]ScreenCursor{
		"too wide":   {Flags: CursorShape, Width: MaxCursorSide + 1, Height: 1, Pix: make([]byte, (MaxCursorSide+1)*4)},
		"zero size":  {Flags: CursorShape},
		"hot out":    {Flags: CursorShape, Width: 2, Height: 2, HotX: 2, Pix: make([]byte, 16)},
		"short pix":  {Flags: CursorShape, Width: 2, Height: 2, Pix: make([]byte, 15)},
		"long pix":   {Flags: CursorShape, Width: 2, Height: 2, Pix: make([]byte, 17)},
		"bad flags":  {Flags: 0x04},
		"pos + junk": {Flags: CursorVisible, Pix: []byte{1}},
	}
	for name, c := range bad {
		msg := AppendScreenCursor(nil, c)
		if name == "pos + junk" {
			msg = append(msg, 1)
		}
		if _, err := ParseScreenCursor(msg[1:]); !errors.Is(err, ErrBadInner) {
			t.Errorf("%s: err = %v, want ErrBadInner", name, err)
		}
	}
}

func FuzzParseScreenInput(f *testing.F) {
	f.Add([]byte{InputKey, 0, 0, 0, 0x61, 1})
	f.Add([]byte{InputPointer, 0, 1, 0, 1, 0x01})
	f.Add([]byte{InputWheel, 0xff, 1})
	f.Fuzz(func(t *testing.T, p []byte) {
		ev, err := ParseScreenInput(p)
		if err != nil {
			return
		}
		if again := AppendScreenInput(nil, ev); !bytes.Equal(again[1:], p) {
			t.Fatalf("re-encoding %x gave %x", p, again[1:])
		}
	})
}

func FuzzParseScreenCursor(f *testing.F) {
	f.Add([]byte{0, 1, 0, 2, CursorVisible})
	f.Add(AppendScreenCursor(nil, ScreenCursor{Flags: CursorShape, Width: 1, Height: 1, Pix: []byte{1, 2, 3, 4}})[1:])
	f.Fuzz(func(t *testing.T, p []byte) {
		c, err := ParseScreenCursor(p)
		if err != nil {
			return
		}
		if c.Flags&CursorShape != 0 && len(c.Pix) != c.Width*c.Height*4 {
			t.Fatalf("accepted %d pixel bytes for %dx%d", len(c.Pix), c.Width, c.Height)
		}
	})
}
