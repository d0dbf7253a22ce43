package integration

// The hostile-device kit: a test-only device that enrolls and speaks the
// real protocol exactly like internal/agent up to consent, then hands the
// open, consented session to a scripted handler that can send whatever it
// likes — things our agent never would. Tests use it to check that the
// technician's side (the real tech binary) holds against a hostile device.
//
// Usage:
//
//	hd := e.hostileDevice(t, "evil-pc", func(ctx context.Context, hs *hostileSession) {
//		o, err := hs.FileOpen(ctx) // what tech asked for
//		if err != nil {
//			return
//		}
//		// announce one entry of 3 bytes, then send it and succeed
//		hs.Announce(ctx, protocol.FileHeader{ID: o.ID, Path: "scan.png", Size: 3}, 1, 3)
//		hs.Data(ctx, o.ID, []byte("abc"))
//		hs.Done(ctx, o.ID, 3, sha256Hex([]byte("abc")))
//		hs.OK(ctx, o.ID) // or hs.SendOne(ctx, o.ID, "scan.png", data, 0o644)
//	})
//	r := e.techRun("", "cp", hd.name+":Desktop/scan.png", dst)
//
// The handler runs once per session (in its own goroutine); when it
// returns, the device ends the session. Handlers must not call t.Fatal
// (they do not run on the test goroutine); use hs.t.Errorf or return.
// Every helper returns the channel's error, so a handler can stop as soon
// as the technician has gone.

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/e2e"
	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/transport"
)

// hostileHandler scripts one session of a hostile device.
type hostileHandler func(ctx context.Context, hs *hostileSession)

// hostileOptions adjust a hostile device. The zero value grants every
// capability asked for.
type hostileOptions struct {
	// Reuse serves as this already enrolled device (its config dir: device
	// key and relay pin) instead of enrolling a new one. Do not also run
	// the real agent for it.
	Reuse *device
	// Consent, if set, decides the consent answer sent to the technician
	// (it may carry any Why text, or caps never asked for). The signed
	// receipt always matches it.
	Consent func(info protocol.SessionInfo) protocol.Consent
	// SessionTimeout bounds each session (default 60 s).
	SessionTimeout time.Duration
	// Raw, if set, takes over each session once it is paired, before the
	// handshake: it gets the session connection, the handshake parameters
	// and the device key, and the session ends when it returns. The
	// handler is not called.
	Raw func(ctx context.Context, c *transport.Conn, p e2e.Params, key ed25519.PrivateKey) error
}

// hostileDevice is a running hostile device.
type hostileDevice struct {
	name, home string
	// sessions counts sessions handed to the handler.
	sessions atomic.Int32

	t       *testing.T
	e       *env
	opts    hostileOptions
	handler hostileHandler
	st      struct {
		Relay    string `json:"relay"`
		Pin      string `json:"pin"`
		DeviceID string `json:"device_id"`
		Name     string `json:"name"`
	}
	key ed25519.PrivateKey
	wg  sync.WaitGroup
}

// hostileSession is one consented session handed to a handler.
type hostileSession struct {
	t *testing.T
	// Ch is the end-to-end channel to the technician (already past
	// consent). Recv must be called from the handler's goroutine only.
	Ch *transport.Channel
	// Conn is the device's session connection (control messages to the
	// relay, e.g. CtlFile reports, may be written on it).
	Conn *transport.Conn
	// Info is what the relay said about the session.
	Info protocol.SessionInfo
	// Granted is what the consent answer granted.
	Granted []string
}

// hostileDevice enrolls a new device called name (with the real agent
// binary's enroll, so it is a normal device on the relay) and serves it
// with handler until the test ends. It returns once the relay lists the
// device online.
func (e *env) hostileDevice(t *testing.T, name string, handler hostileHandler) *hostileDevice {
	t.Helper()
	return e.hostileDeviceWith(t, name, hostileOptions{}, handler)
}

// hostileDeviceWith is hostileDevice with options.
func (e *env) hostileDeviceWith(t *testing.T, name string, o hostileOptions, handler hostileHandler) *hostileDevice {
	t.Helper()
	d := o.Reuse
	if d == nil {
		d = e.enroll(name)
	}
	hd := &hostileDevice{name: d.name, home: d.home, t: t, e: e, opts: o, handler: handler}
	if hd.opts.SessionTimeout == 0 {
		hd.opts.SessionTimeout = 60 * time.Second
	}
	if err := hd.load(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); hd.wg.Wait() })
	hd.wg.Add(1)
	go hd.serve(ctx)
	e.waitOnline(hd.name)
	return hd
}

// load reads the device's enrollment state and key from its config dir.
func (hd *hostileDevice) load() error {
	b, err := os.ReadFile(filepath.Join(hd.home, "agent.json"))
	if err != nil {
		return fmt.Errorf("hostile device: %w", err)
	}
	if err := json.Unmarshal(b, &hd.st); err != nil {
		return fmt.Errorf("hostile device state: %w", err)
	}
	kb, err := os.ReadFile(filepath.Join(hd.home, "device.key"))
	if err != nil {
		return fmt.Errorf("hostile device: %w", err)
	}
	blk, _ := pem.Decode(kb)
	if blk == nil {
		return fmt.Errorf("hostile device: device.key is not PEM")
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return fmt.Errorf("hostile device key: %w", err)
	}
	key, ok := k.(ed25519.PrivateKey)
	if !ok {
		return fmt.Errorf("hostile device key is not Ed25519")
	}
	hd.key = key
	return nil
}

func (hd *hostileDevice) endpoint() transport.Endpoint {
	return transport.Endpoint{URL: hd.st.Relay, Pin: hd.st.Pin}
}

// serve keeps the control connection up (reconnecting briefly on loss)
// and accepts every offer, like the agent's Run.
func (hd *hostileDevice) serve(ctx context.Context) {
	defer hd.wg.Done()
	for ctx.Err() == nil {
		err := hd.connectOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		hd.t.Logf("hostile device %s: control connection: %v", hd.name, err)
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// connectOnce authenticates with the device key and serves offers.
func (hd *hostileDevice) connectOnce(ctx context.Context) error {
	c, err := transport.Dial(ctx, hd.endpoint(), protocol.PathAgentControl)
	if err != nil {
		return err
	}
	defer c.CloseNow()
	m, err := c.ReadControl(ctx)
	if err != nil {
		return err
	}
	if m.Type != protocol.CtlChallenge {
		return fmt.Errorf("expected a challenge, got %q", m.Type)
	}
	sig := ed25519.Sign(hd.key, protocol.AgentAuthMessage(m.Challenge, hd.st.Pin))
	if err := c.WriteControl(ctx, &protocol.Control{Type: protocol.CtlAuth, Version: protocol.Version, DeviceID: ids.DeviceID(hd.st.DeviceID), Signature: sig}); err != nil {
		return err
	}
	if m, err = c.ReadControl(ctx); err != nil {
		return err
	}
	if m.Type != protocol.CtlWelcome {
		return fmt.Errorf("expected welcome, got %q (%s)", m.Type, m.Error)
	}
	go c.KeepAlive(ctx)
	for {
		m, err := c.ReadControl(ctx)
		if err != nil {
			return err
		}
		if m.Type == protocol.CtlOffer && m.Session != nil {
			hd.wg.Add(1)
			go func() {
				defer hd.wg.Done()
				if err := hd.session(ctx, m.Session, m.AttachToken); err != nil && ctx.Err() == nil {
					hd.t.Logf("hostile device %s: session: %v", hd.name, err)
				}
			}()
		}
	}
}

// session attaches to an offer, runs the handshake as responder, grants
// consent with a signed receipt, and runs the handler.
func (hd *hostileDevice) session(ctx context.Context, offer *protocol.SessionInfo, attach string) error {
	ctx, cancel := context.WithTimeout(ctx, hd.opts.SessionTimeout)
	defer cancel()
	c, err := transport.Dial(ctx, hd.endpoint(), protocol.PathAgentSession)
	if err != nil {
		return err
	}
	defer c.CloseNow()
	go c.KeepAlive(ctx)
	if err := c.WriteControl(ctx, &protocol.Control{Type: protocol.CtlAttach, SessionID: offer.ID, AttachToken: attach}); err != nil {
		return err
	}
	m, err := c.ReadControl(ctx)
	if err != nil {
		return err
	}
	if m.Type != protocol.CtlPaired || m.Session == nil {
		return fmt.Errorf("expected paired, got %q", m.Type)
	}
	info := *m.Session
	var p e2e.Params
	id, err := hex.DecodeString(info.ID.String())
	if err != nil || len(id) != len(p.SessionID) {
		return fmt.Errorf("malformed session ID %q", info.ID)
	}
	copy(p.SessionID[:], id)
	p.TechID, p.TechUser, p.DeviceKey = info.TechID, info.TechUser, hd.key.Public().(ed25519.PublicKey)
	if hd.opts.Raw != nil {
		hd.sessions.Add(1)
		return hd.opts.Raw(ctx, c, p, hd.key)
	}
	ch, err := transport.Respond(ctx, c, p, hd.key)
	if err != nil {
		return err
	}
	cs := protocol.Consent{Granted: true, Caps: slices.Clone(info.Caps)}
	if hd.opts.Consent != nil {
		cs = hd.opts.Consent(info)
	}
	if err := hd.consent(ctx, c, ch, info, cs); err != nil {
		return err
	}
	hs := &hostileSession{t: hd.t, Ch: ch, Conn: c, Info: info, Granted: cs.Caps}
	hd.sessions.Add(1)
	if cs.Granted {
		hd.handler(ctx, hs)
	}
	hs.End(ctx, "hostile device done")
	return nil
}

// consent reports the answer to the relay with a receipt signed by the
// device key (as the agent does) and sends it to the technician.
func (hd *hostileDevice) consent(ctx context.Context, c *transport.Conn, ch *transport.Channel, info protocol.SessionInfo, cs protocol.Consent) error {
	now := time.Now().UTC()
	r := protocol.ConsentReceipt{Session: info.ID, Device: info.DeviceID, Tech: info.TechID, Caps: cs.Caps,
		Granted: cs.Granted, Time: now, Expires: now.Add(time.Hour)}
	b, _ := json.Marshal(r)
	sig := ed25519.Sign(hd.key, protocol.ReceiptMessage(b))
	if err := c.WriteControl(ctx, &protocol.Control{Type: protocol.CtlConsent, Granted: cs.Granted, Caps: cs.Caps,
		Reason: cs.Why, Receipt: b, ReceiptSig: sig}); err != nil {
		return err
	}
	return ch.SendJSON(ctx, protocol.InConsent, cs)
}

// Recv returns the technician's next message, skipping keepalives.
func (hs *hostileSession) Recv(ctx context.Context) (protocol.InnerType, []byte, error) {
	for {
		t, p, err := hs.Ch.Recv(ctx)
		if err != nil || t != protocol.InKeepalive {
			return t, p, err
		}
	}
}

// expect waits for a message of type want (skipping others) and decodes
// its JSON into v.
func (hs *hostileSession) expect(ctx context.Context, want protocol.InnerType, v any) error {
	for {
		t, p, err := hs.Recv(ctx)
		if err != nil {
			return err
		}
		if t == want {
			return protocol.DecodeJSON(p, v)
		}
	}
}

// FileOpen waits for the technician's next file operation.
func (hs *hostileSession) FileOpen(ctx context.Context) (protocol.FileOpen, error) {
	var o protocol.FileOpen
	return o, hs.expect(ctx, protocol.InFileOpen, &o)
}

// Start waits for the technician's start message (shell or command).
func (hs *hostileSession) Start(ctx context.Context) (protocol.Start, error) {
	var s protocol.Start
	return s, hs.expect(ctx, protocol.InStart, &s)
}

// Clipboard waits for the technician's clipboard message.
func (hs *hostileSession) Clipboard(ctx context.Context) (protocol.Clipboard, error) {
	var c protocol.Clipboard
	return c, hs.expect(ctx, protocol.InClipboard, &c)
}

// Header sends one download entry header as is.
func (hs *hostileSession) Header(ctx context.Context, h protocol.FileHeader) error {
	return hs.Ch.SendJSON(ctx, protocol.InFileHeader, h)
}

// Data sends b as file data of operation id, in chunks of the largest
// size the protocol allows.
func (hs *hostileSession) Data(ctx context.Context, id uint32, b []byte) error {
	max := protocol.MaxChunk - 4
	for {
		n := min(len(b), max)
		if err := hs.Ch.SendMsg(ctx, protocol.AppendFileData(nil, id, b[:n])); err != nil {
			return err
		}
		b = b[n:]
		if len(b) == 0 {
			return nil
		}
	}
}

// Done sends the end of one file with the given size and SHA-256 (hex).
func (hs *hostileSession) Done(ctx context.Context, id uint32, size int64, sum string) error {
	return hs.Ch.SendJSON(ctx, protocol.InFileDone, protocol.FileDone{ID: id, Size: size, SHA256: sum})
}

// Result sends a verdict on an operation.
func (hs *hostileSession) Result(ctx context.Context, r protocol.FileResult) error {
	return hs.Ch.SendJSON(ctx, protocol.InFileResult, r)
}

// OK ends operation id successfully.
func (hs *hostileSession) OK(ctx context.Context, id uint32) error {
	return hs.Result(ctx, protocol.FileResult{ID: id, OK: true})
}

// Fail ends operation id with an error text (sent as is).
func (hs *hostileSession) Fail(ctx context.Context, id uint32, text string) error {
	return hs.Result(ctx, protocol.FileResult{ID: id, Error: text})
}

// SendFile sends one complete, self-consistent file entry: header (size
// len(data), mode), data, and done with the true SHA-256. It announces
// nothing; use Announce (or set the header's announcement fields through
// Header) for the first entry of a download.
func (hs *hostileSession) SendFile(ctx context.Context, id uint32, path string, data []byte, mode uint32) error {
	return hs.sendFile(ctx, protocol.FileHeader{ID: id, Path: path, Size: int64(len(data)), Mode: mode}, data)
}

// sendFile sends header h, then data and a matching done.
func (hs *hostileSession) sendFile(ctx context.Context, h protocol.FileHeader, data []byte) error {
	if err := hs.Header(ctx, h); err != nil {
		return err
	}
	if err := hs.Data(ctx, h.ID, data); err != nil {
		return err
	}
	return hs.Done(ctx, h.ID, int64(len(data)), sha256Hex(data))
}

// SendDir sends a directory entry.
func (hs *hostileSession) SendDir(ctx context.Context, id uint32, path string, mode uint32) error {
	return hs.Header(ctx, protocol.FileHeader{ID: id, Path: path, Dir: true, Mode: mode})
}

// Stdout sends process output.
func (hs *hostileSession) Stdout(ctx context.Context, b []byte) error {
	return hs.Ch.Send(ctx, protocol.InStdout, b)
}

// Stderr sends process error output.
func (hs *hostileSession) Stderr(ctx context.Context, b []byte) error {
	return hs.Ch.Send(ctx, protocol.InStderr, b)
}

// Exit sends a process exit status.
func (hs *hostileSession) Exit(ctx context.Context, code int32) error {
	return hs.Ch.SendMsg(ctx, protocol.AppendExit(nil, code))
}

// ClipboardReply answers a clipboard read with text (or an error text).
func (hs *hostileSession) ClipboardReply(ctx context.Context, text []byte, errText string) error {
	return hs.Ch.SendJSON(ctx, protocol.InClipboard, protocol.Clipboard{Text: text, Error: errText})
}

// Revoke sends an InCapRevoked with the given Why text and remaining caps.
func (hs *hostileSession) Revoke(ctx context.Context, why string, kept []string) error {
	return hs.Ch.SendJSON(ctx, protocol.InCapRevoked, protocol.Consent{Granted: true, Caps: kept, Why: why})
}

// End ends the session with reason (inside the channel and to the relay)
// and closes the connection. Ending twice is harmless.
func (hs *hostileSession) End(ctx context.Context, reason string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	hs.Ch.Send(ctx, protocol.InEnd, []byte(reason))
	hs.Conn.WriteControl(ctx, &protocol.Control{Type: protocol.CtlEnd, Reason: reason})
	hs.Conn.Close(reason)
}

// sha256Hex is the hex SHA-256 of b.
func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// Announce sends h as the first header of a download, announcing entries
// headers and total file bytes.
func (hs *hostileSession) Announce(ctx context.Context, h protocol.FileHeader, entries, total int64) error {
	h.Entries, h.Total = entries, total
	return hs.Header(ctx, h)
}

// SendOne answers download id the way a correct device answers a
// single-file request: one announced entry called name, its data, the
// end of file and a successful result.
func (hs *hostileSession) SendOne(ctx context.Context, id uint32, name string, data []byte, mode uint32) error {
	h := protocol.FileHeader{ID: id, Path: name, Size: int64(len(data)), Mode: mode, Entries: 1, Total: int64(len(data))}
	if err := hs.sendFile(ctx, h, data); err != nil {
		return err
	}
	return hs.OK(ctx, id)
}

// TestHostileDeviceKit checks the kit itself: the real tech binary opens a
// session with a hostile device, sees its consent, and gets what the
// handler scripted (command output and exit status; a file).
func TestHostileDeviceKit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	hd := e.hostileDevice(t, "kit", func(ctx context.Context, hs *hostileSession) {
		if slices.Contains(hs.Info.Caps, protocol.CapShell) {
			st, err := hs.Start(ctx)
			if err != nil {
				return
			}
			hs.Stdout(ctx, []byte(fmt.Sprintf("scripted output for %q\n", st.Argv)))
			hs.Exit(ctx, 3)
			return
		}
		o, err := hs.FileOpen(ctx)
		if err != nil {
			return
		}
		hs.SendOne(ctx, o.ID, "note.txt", []byte("from the kit\n"), 0o644)
	})
	r := e.techRun("", "connect", hd.name, "--", "true")
	if r.code != 3 || !strings.Contains(r.stdout, `scripted output for ["true"]`) {
		t.Fatalf("connect to the hostile device: code %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	dst := filepath.Join(t.TempDir(), "note.txt")
	r = e.techRun("", "cp", hd.name+":note.txt", dst)
	if r.code != 0 || mustRead(t, dst) != "from the kit\n" {
		t.Fatalf("download from the hostile device: code %d stderr %q", r.code, r.stderr)
	}
	if n := hd.sessions.Load(); n != 2 {
		t.Fatalf("hostile device served %d sessions, want 2", n)
	}
}
