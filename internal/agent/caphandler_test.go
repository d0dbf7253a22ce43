package agent

import (
	"context"
	"fmt"
	"testing"

	"github.com/tether-support/tether/internal/protocol"
)

// TestCapHandlerRouting pins which capability serves each inner type, and
// that every type the agent does not accept from the technician still ends
// the session with the words PROTOCOL.md section 1.1 gives.
func TestCapHandlerRouting(t *testing.T) {
	s := newDeviceSession(Config{}, nil, newLiveSessions(), nil, nil)
	routes := map[protocol.InnerType]string{
		protocol.InStart:     protocol.CapShell,
		protocol.InStdin:     protocol.CapShell,
		protocol.InStdinEOF:  protocol.CapShell,
		protocol.InResize:    protocol.CapShell,
		protocol.InFileOpen:  protocol.CapFiles,
		protocol.InFileData:  protocol.CapFiles,
		protocol.InFileDone:  protocol.CapFiles,
		protocol.InClipboard: protocol.CapClipboard,
		// The desktop: screen-view, and input needs screen-control too.
		protocol.InScreenAck:     protocol.CapScreenView,
		protocol.InScreenInput:   protocol.CapScreenView,
		protocol.InScreenControl: protocol.CapScreenView,
	}
	own := map[protocol.InnerType]bool{protocol.InKeepalive: true, protocol.InCapRequest: true, protocol.InVerified: true}
	for b := 0; b <= 0xff; b++ {
		it := protocol.InnerType(b)
		h := s.caps.lookup(it)
		want, routed := routes[it]
		switch {
		case routed && (h == nil || h.capability() != want):
			t.Errorf("0x%02x: handler %v; want the %s handler", b, h, want)
		case !routed && h != nil:
			t.Errorf("0x%02x: routed to %s; want no handler", b, h.capability())
		case !routed && !own[it]:
			err := s.handle(context.Background(), it, nil)
			if want := fmt.Sprintf("protocol error: unexpected message 0x%02x from technician", b); err == nil || err.Error() != want {
				t.Errorf("0x%02x: handle = %v; want %q", b, err, want)
			}
		}
	}
	for _, h := range s.caps.list {
		if !protocol.KnownCapability(h.capability()) {
			t.Errorf("handler consent name %q is not a known capability", h.capability())
		}
	}
}

// The file handler refuses every message when the session has no file root.
func TestFilesHandlerWithoutRoot(t *testing.T) {
	s := newDeviceSession(Config{}, nil, newLiveSessions(), nil, nil)
	for _, it := range []protocol.InnerType{protocol.InFileOpen, protocol.InFileData, protocol.InFileDone} {
		err := s.handle(context.Background(), it, []byte("{}"))
		if err == nil || err.Error() != "file transfer is not available on this device" {
			t.Errorf("0x%02x: %v", byte(it), err)
		}
	}
	s.caps.closeAll() // nothing started: closing is safe
}

type fakeCap struct {
	name  string
	types []protocol.InnerType
}

func (f fakeCap) capability() string                                       { return f.name }
func (f fakeCap) accepts() []protocol.InnerType                            { return f.types }
func (f fakeCap) handle(context.Context, protocol.InnerType, []byte) error { return nil }
func (f fakeCap) close()                                                   {}

func TestCapHandlersRefuseSharedTypes(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("two handlers accepting one type did not panic")
		}
	}()
	newCapHandlers(fakeCap{"a", []protocol.InnerType{protocol.InStart}}, fakeCap{"b", []protocol.InnerType{protocol.InStart}})
}
