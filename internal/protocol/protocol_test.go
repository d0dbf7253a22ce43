package protocol

import (
	"bytes"
	"errors"
	"testing"
)

func TestParseFrame(t *testing.T) {
	tests := []struct {
		name    string
		msg     []byte
		want    FrameType
		wantErr error
	}{
		{"empty", nil, 0, ErrEmptyFrame},
		{"control", []byte{0x01, '{', '}'}, FrameControl, nil},
		{"sealed", []byte{0x20, 1, 2, 3}, FrameSealed, nil},
		{"unknown", []byte{0x7f}, 0, ErrUnknownFrame},
		{"too big", make([]byte, MaxFrame+1), 0, ErrFrameTooBig},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _, err := ParseFrame(tc.msg)
			if !errors.Is(err, tc.wantErr) || got != tc.want {
				t.Fatalf("got %v, %v; want %v, %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestControlRoundTrip(t *testing.T) {
	in := &Control{Type: CtlRequest, Version: Version, Device: "pc-7", Caps: []string{CapShell}}
	frame, err := AppendControl(nil, in)
	if err != nil {
		t.Fatal(err)
	}
	ft, p, err := ParseFrame(frame)
	if err != nil || ft != FrameControl {
		t.Fatalf("got %v %v, want a control frame", ft, err)
	}
	out, err := ParseControl(p)
	if err != nil || out.Type != in.Type || out.Device != in.Device || len(out.Caps) != 1 {
		t.Fatalf("got %+v %v, want %+v", out, err, in)
	}
	if _, err := AppendControl(nil, &Control{Type: CtlError, Error: string(make([]byte, MaxControlSize))}); !errors.Is(err, ErrFrameTooBig) {
		t.Fatalf("oversized control: got %v, want ErrFrameTooBig", err)
	}
	for _, bad := range []string{"", "{", "[]", `{"type":""}`, `{"version":1}`} {
		if _, err := ParseControl([]byte(bad)); !errors.Is(err, ErrBadControl) {
			t.Errorf("ParseControl(%q): got %v, want ErrBadControl", bad, err)
		}
	}
}

func TestInnerMessages(t *testing.T) {
	rows, cols, err := ParseResize(AppendResize(nil, 37, 101)[1:])
	if err != nil || rows != 37 || cols != 101 {
		t.Fatalf("resize: got %d %d %v, want 37 101", rows, cols, err)
	}
	code, err := ParseExit(AppendExit(nil, -1)[1:])
	if err != nil || code != -1 {
		t.Fatalf("exit: got %d %v, want -1", code, err)
	}
	if _, _, err := ParseResize([]byte{1, 2, 3}); !errors.Is(err, ErrBadInner) {
		t.Fatalf("short resize: got %v, want ErrBadInner", err)
	}
	for _, bad := range [][]byte{nil, {0x00}, {0xff}, make([]byte, MaxInner+1)} {
		if _, _, err := ParseInner(bad); err == nil {
			t.Errorf("ParseInner(% x…) accepted a bad message", bad[:min(len(bad), 4)])
		}
	}
	if typ, p, err := ParseInner(append([]byte{byte(InStdout)}, "hi"...)); err != nil || typ != InStdout || !bytes.Equal(p, []byte("hi")) {
		t.Fatalf("got %v %q %v", typ, p, err)
	}
}

func TestForwarded(t *testing.T) {
	for ft, want := range map[FrameType]bool{FrameControl: false, FrameClientHello: true, FrameServerHello: true, FrameClientFinish: true, FrameSealed: true, 0x33: false} {
		if got := ft.Forwarded(); got != want {
			t.Errorf("%v.Forwarded() = %v, want %v", ft, got, want)
		}
	}
}

// FuzzParseFrame checks the frame splitter never panics and agrees with
// Forwarded for every accepted type.
func FuzzParseFrame(f *testing.F) {
	f.Add([]byte{0x01, '{', '}'})
	f.Add([]byte{0x20, 0, 0, 0, 0, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, msg []byte) {
		ft, p, err := ParseFrame(msg)
		if err != nil {
			return
		}
		if len(p) != len(msg)-1 || ft.String() == "unknown" {
			t.Fatalf("accepted %v with payload %d of %d bytes", ft, len(p), len(msg))
		}
	})
}

// FuzzParseControl checks the control decoder never panics and that what
// it accepts re-encodes.
func FuzzParseControl(f *testing.F) {
	f.Add([]byte(`{"type":"request","version":1,"device":"pc","caps":["shell"]}`))
	f.Add([]byte(`{"type":"offer","session":{"id":"00","caps":null}}`))
	f.Fuzz(func(t *testing.T, p []byte) {
		c, err := ParseControl(p)
		if err != nil {
			return
		}
		if c.Type == "" {
			t.Fatal("accepted a control message without a type")
		}
		if _, err := AppendControl(nil, c); err != nil && !errors.Is(err, ErrFrameTooBig) {
			t.Fatalf("accepted message does not re-encode: %v", err)
		}
	})
}

// FuzzParseInner checks the inner decoders never panic.
func FuzzParseInner(f *testing.F) {
	f.Add([]byte{byte(InResize), 0, 24, 0, 80})
	f.Add([]byte{byte(InExit), 0, 0, 0, 7})
	f.Add([]byte(`\x02{"argv":["sh"],"pty":true}`))
	f.Fuzz(func(t *testing.T, msg []byte) {
		typ, p, err := ParseInner(msg)
		if err != nil {
			return
		}
		switch typ {
		case InResize:
			ParseResize(p)
		case InExit:
			ParseExit(p)
		case InStart:
			var s Start
			DecodeJSON(p, &s)
		case InConsent:
			var c Consent
			DecodeJSON(p, &c)
		case InFeatures:
			ParseFeatures(p)
		}
	})
}
