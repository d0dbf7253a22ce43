package agent

import (
	"context"
	"errors"

	"github.com/tether-support/tether/internal/protocol"
)

// filesHandler is the file transfer capability (files:to-device and
// files:from-device): it routes the technician's file messages to the
// session's files, which exist from consent on.
type filesHandler struct {
	s  *deviceSession
	fl *files // nil until consent, or when there is no home to confine transfers to
}

func (h *filesHandler) capability() string { return protocol.CapFiles }

func (h *filesHandler) accepts() []protocol.InnerType {
	return []protocol.InnerType{protocol.InFileOpen, protocol.InFileData, protocol.InFileDone}
}

// open opens the file root at consent; without one, every file message
// is refused.
func (h *filesHandler) open() error {
	var err error
	h.fl, err = openFiles(h.s)
	return err
}

func (h *filesHandler) handle(ctx context.Context, t protocol.InnerType, p []byte) error {
	fl := h.fl
	if fl == nil {
		return errors.New("file transfer is not available on this device")
	}
	switch t {
	case protocol.InFileOpen:
		h.s.touch()
		h.s.used.Store(true)
		var o protocol.FileOpen
		if err := protocol.DecodeJSON(p, &o); err != nil {
			return err
		}
		return fl.open(ctx, o)
	case protocol.InFileData:
		id, data, err := protocol.ParseFileData(p)
		if err != nil {
			return err
		}
		return fl.data(id, data)
	default:
		var d protocol.FileDone
		if err := protocol.DecodeJSON(p, &d); err != nil {
			return err
		}
		return fl.done(ctx, d)
	}
}

// close aborts every transfer and closes the root.
func (h *filesHandler) close() { h.fl.close() }

// busy reports whether a transfer is in progress.
func (h *filesHandler) busy() bool { return h.fl.busy() }

// abortDirections stops the transfers of the revoked directions.
func (h *filesHandler) abortDirections(puts, gets bool, why string) {
	h.fl.abortDirections(puts, gets, why)
}
