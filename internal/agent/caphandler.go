package agent

import (
	"context"
	"fmt"

	"github.com/tether-support/tether/internal/protocol"
)

// capHandler serves one capability of a session: the inner messages of its
// kind from the technician, and its clean-up when the session ends. The
// shell, file transfer and the clipboard are handlers; a new capability (the
// desktop) is a new handler, not a new case in the session's dispatch.
type capHandler interface {
	// capability is the consent name the end user grants it under
	// (protocol.CapShell, …).
	capability() string
	// accepts lists the inner message types it handles; no two handlers
	// of a session accept the same type.
	accepts() []protocol.InnerType
	// handle acts on one message of those types. An error ends the session
	// (see handleReason); the handler checks the grant itself.
	handle(ctx context.Context, t protocol.InnerType, p []byte) error
	// close stops what it runs, once, at the session's end. It must be
	// safe before any message was handled.
	close()
}

// capHandlers is a session's capability handlers, in the order they are
// closed, indexed by the inner types they accept.
type capHandlers struct {
	list   []capHandler
	byType map[protocol.InnerType]capHandler
}

// newCapHandlers indexes hs. Two handlers accepting one type is a
// programming error and panics.
func newCapHandlers(hs ...capHandler) capHandlers {
	r := capHandlers{list: hs, byType: make(map[protocol.InnerType]capHandler)}
	for _, h := range hs {
		for _, t := range h.accepts() {
			if prev, dup := r.byType[t]; dup {
				panic(fmt.Sprintf("agent: inner type 0x%02x accepted by both %s and %s", byte(t), prev.capability(), h.capability()))
			}
			r.byType[t] = h
		}
	}
	return r
}

// lookup returns the handler accepting t, or nil.
func (r capHandlers) lookup(t protocol.InnerType) capHandler { return r.byType[t] }

// closeAll closes every handler, in order.
func (r capHandlers) closeAll() {
	for _, h := range r.list {
		h.close()
	}
}
