package agent

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"time"

	"github.com/tether-support/tether/internal/protocol"
)

// clipboardHandler is the clipboard capability: it sets or reads the
// device's clipboard for the technician. It holds nothing between messages.
type clipboardHandler struct{ s *deviceSession }

func (h *clipboardHandler) capability() string { return protocol.CapClipboard }

func (h *clipboardHandler) accepts() []protocol.InnerType {
	return []protocol.InnerType{protocol.InClipboard}
}

func (h *clipboardHandler) close() {}

// handle sets or reads the device's clipboard for the technician, if the
// end user granted the clipboard capability.
func (h *clipboardHandler) handle(ctx context.Context, _ protocol.InnerType, p []byte) error {
	s := h.s
	s.touch()
	var req protocol.Clipboard
	if err := protocol.DecodeJSON(p, &req); err != nil {
		return err
	}
	resp := protocol.Clipboard{Set: req.Set}
	text, err := h.op(ctx, req)
	if err != nil {
		resp.Error = err.Error()
	} else {
		resp.Text = []byte(text)
		data := string(req.Text)
		op := "set"
		if !req.Set {
			data, op = text, "get"
		}
		sum := sha256.Sum256([]byte(data))
		s.rec.marker("clipboard %s: %d bytes, sha256 %s", op, len(data), hex.EncodeToString(sum[:]))
		s.ui.Notice(fmt.Sprintf("The technician %s your clipboard (%d bytes).", map[bool]string{true: "set", false: "read"}[req.Set], len(data)))
		s.conn.WriteControl(ctx, &protocol.Control{Type: protocol.CtlClipboard, Mode: op, Size: int64(len(data)), Hash: hex.EncodeToString(sum[:])})
	}
	return s.ch.SendJSON(ctx, protocol.InClipboard, resp)
}

// op checks the grant and the size, then runs the command.
func (h *clipboardHandler) op(ctx context.Context, req protocol.Clipboard) (string, error) {
	s := h.s
	if !s.hasCap(protocol.CapClipboard) {
		return "", errors.New("the end user has not granted the clipboard")
	}
	if len(req.Text) > protocol.MaxClipboard {
		return "", fmt.Errorf("clipboard text of %d bytes is over the %d-byte limit", len(req.Text), protocol.MaxClipboard)
	}
	op := "get"
	if req.Set {
		op = "set"
	}
	cmd, err := clipboardCommand(s.cfg.ClipboardCmd, op)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c := exec.CommandContext(ctx, cmd[0], cmd[1:]...)
	c.Env = append(os.Environ(), "TETHER_CLIPBOARD_OP="+op)
	var out bytes.Buffer
	c.Stdout = &limitWriter{w: &out, n: protocol.MaxClipboard + 1}
	if req.Set {
		c.Stdin = bytes.NewReader(req.Text)
	}
	if err := c.Run(); err != nil {
		return "", fmt.Errorf("clipboard command failed: %w", err)
	}
	if out.Len() > protocol.MaxClipboard {
		return "", fmt.Errorf("the clipboard holds more than %d bytes", protocol.MaxClipboard)
	}
	if req.Set {
		return "", nil
	}
	return out.String(), nil
}

// clipboardCommand picks the command for op: --clipboard-cmd through sh -c
// (TETHER_CLIPBOARD_OP says get or set), else the platform's tools.
func clipboardCommand(custom, op string) ([]string, error) {
	if custom != "" {
		return []string{"sh", "-c", custom}, nil
	}
	var cands [][]string
	switch runtime.GOOS {
	case "darwin":
		cands = [][]string{{"pbpaste"}, {"pbcopy"}}
	case "windows":
		cands = [][]string{{"powershell", "-NoProfile", "-Command", "Get-Clipboard"}, {"powershell", "-NoProfile", "-Command", "$input | Set-Clipboard"}}
	default:
		cands = [][]string{{"wl-paste", "--no-newline"}, {"wl-copy"}, {"xclip", "-selection", "clipboard", "-o"}, {"xclip", "-selection", "clipboard"}, {"xsel", "-b", "-o"}, {"xsel", "-b", "-i"}}
	}
	for i := 0; i+1 < len(cands); i += 2 {
		c := cands[i]
		if op == "set" {
			c = cands[i+1]
		}
		if _, err := exec.LookPath(c[0]); err == nil {
			return c, nil
		}
	}
	return nil, errors.New("no clipboard tool found on the device (install wl-clipboard or xclip, or run the agent with --clipboard-cmd)")
}

// limitWriter stops storing after n bytes (and keeps accepting, so the
// command is not killed by a broken pipe).
type limitWriter struct {
	w io.Writer
	n int
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}
