package transport

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/protocol"
)

// FuzzChannelInner has a peer seal any inner message, then "after", while
// the receiver has or has not prepared a new path. The receiver never
// panics; a path switch point is followed only when prepared and empty,
// and is otherwise a malformed message that fails the channel; any other
// message is delivered as sealed or refused as malformed.
func FuzzChannelInner(f *testing.F) {
	f.Add(false, []byte{byte(protocol.InPathSwitch)})
	f.Add(true, []byte{byte(protocol.InPathSwitch)})
	f.Add(true, []byte{byte(protocol.InPathSwitch), 0})
	f.Add(false, []byte{byte(protocol.InStdin), 'l', 's'})
	f.Add(true, []byte{byte(protocol.InEnd), 'b', 'y', 'e'})
	f.Add(false, []byte{})
	f.Add(false, []byte{0x18})
	f.Fuzz(func(t *testing.T, prepared bool, inner []byte) {
		if len(inner) > protocol.MaxInner {
			return
		}
		tech, agent, oldT, _ := memChannels(t)
		newT, newA := memPair("direct")
		if prepared {
			mustPrepare(t, agent, newA)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := tech.SendMsg(ctx, inner); err != nil {
			t.Fatal(err)
		}
		if err := tech.Send(ctx, protocol.InStdin, []byte("after")); err != nil {
			t.Fatal(err)
		}
		isSwitch := len(inner) > 0 && inner[0] == byte(protocol.InPathSwitch)
		if isSwitch && prepared && len(inner) == 1 {
			// The receiver now reads only the new path: deliver "after" there.
			sealed := sealedFrames(oldT)
			if err := newT.inject(ctx, sealed[len(sealed)-1]); err != nil {
				t.Fatal(err)
			}
		}
		typ, p, err := agent.Recv(ctx)
		switch {
		case isSwitch && prepared && len(inner) == 1:
			if err != nil || typ != protocol.InStdin || string(p) != "after" {
				t.Fatalf("after a prepared switch point: got %v %q %v, want stdin \"after\"", typ, p, err)
			}
			return
		case isSwitch:
			if !errors.Is(err, protocol.ErrBadInner) {
				t.Fatalf("unprepared or non-empty switch point: got %v, want ErrBadInner", err)
			}
			if _, _, err := agent.Recv(ctx); !errors.Is(err, protocol.ErrBadInner) {
				t.Fatalf("channel usable after a refused switch point: %v", err)
			}
			return
		case err != nil:
			var ee *EndError
			if !errors.Is(err, protocol.ErrBadInner) && !(errors.As(err, &ee) && ee.Authenticated && typ == protocol.InEnd) {
				t.Fatalf("got %v, want ErrBadInner or the peer's end", err)
			}
		case byte(typ) != inner[0] || string(p) != string(inner[1:]):
			t.Fatalf("delivered %v %q, sealed % x", typ, p, inner)
		}
		if typ, p, err := agent.Recv(ctx); err != nil || typ != protocol.InStdin || string(p) != "after" {
			t.Fatalf("next message: got %v %q %v, want stdin \"after\"", typ, p, err)
		}
	})
}
