package agent

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/tether-support/tether/internal/protocol"
)

// shellHandler is the shell capability: it starts the one process the
// technician asks for (a shell on a PTY, or a command), feeds it input,
// resizes its terminal, streams its output, and kills it at the end.
type shellHandler struct {
	s *deviceSession

	mu   sync.Mutex
	proc *process // nil until started
}

func (h *shellHandler) capability() string { return protocol.CapShell }

func (h *shellHandler) accepts() []protocol.InnerType {
	return []protocol.InnerType{protocol.InStart, protocol.InStdin, protocol.InStdinEOF, protocol.InResize}
}

func (h *shellHandler) handle(ctx context.Context, t protocol.InnerType, p []byte) error {
	s := h.s
	switch t {
	case protocol.InStart:
		s.used.Store(true)
		return h.start(ctx, p)
	case protocol.InStdin:
		s.touch()
		if err := s.rec.inputEvent(p); err != nil {
			return fmt.Errorf("recording failed: %w", err)
		}
		if pr := h.current(); pr != nil {
			pr.write(p)
		}
	case protocol.InStdinEOF:
		if pr := h.current(); pr != nil {
			pr.closeStdin()
		}
	case protocol.InResize:
		rows, cols, err := protocol.ParseResize(p)
		if err != nil {
			return err
		}
		if pr := h.current(); pr != nil {
			pr.resize(rows, cols)
		}
		if err := s.rec.resize(int(cols), int(rows)); err != nil {
			return fmt.Errorf("recording failed: %w", err)
		}
	}
	return nil
}

// close kills the process group, if a process was started.
func (h *shellHandler) close() {
	h.mu.Lock()
	if h.proc != nil {
		h.proc.kill()
	}
	h.mu.Unlock()
}

// current returns the running process, or nil before the start.
func (h *shellHandler) current() *process {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.proc
}

// start launches what the technician asked for, if the shell was granted.
func (h *shellHandler) start(ctx context.Context, p []byte) error {
	s := h.s
	if !s.hasCap(protocol.CapShell) {
		return errors.New("the end user did not grant the shell capability")
	}
	var st protocol.Start
	if err := protocol.DecodeJSON(p, &st); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.proc != nil {
		return errors.New("protocol error: a second start message")
	}
	pr, err := startProcess(st, newScope(s.info.ID.String(), s.log))
	if err != nil {
		return fmt.Errorf("could not start: %w", err)
	}
	if st.Rows > 0 && st.Cols > 0 {
		s.rec.resize(int(st.Cols), int(st.Rows))
	}
	if pr.shell {
		s.rec.marker("start: interactive shell")
	} else {
		s.rec.marker("start: %q", st.Argv)
	}
	h.proc = pr
	s.log.Info("process started", "pty", pr.pty != nil, "command", st.Argv)
	go h.pumpOutput(ctx, pr)
	return nil
}

// pumpOutput streams the process's output to the technician, then reports
// its exit status and ends the session.
func (h *shellHandler) pumpOutput(ctx context.Context, pr *process) {
	s := h.s
	done := make(chan struct{})
	pr.readOutputs(func(t protocol.InnerType, b []byte) error {
		if err := s.rec.output(b); err != nil {
			go s.end("recording failed: " + err.Error())
			return err
		}
		return s.ch.Send(ctx, t, b)
	}, done)
	code := pr.wait(done)
	if s.ending.Load() {
		return // killed by the end path, which reports its own reason
	}
	s.ch.SendMsg(ctx, protocol.AppendExit(nil, int32(code)))
	what := "command"
	if pr.shell {
		what = "shell"
	}
	s.end(fmt.Sprintf("%s exited with status %d", what, code))
}
