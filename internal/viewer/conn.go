package viewer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/tether-support/tether/internal/localpage"

	"github.com/tether-support/tether/internal/screen"
)

// Timers of an attached page; variables so tests can shorten them.
var (
	writeTimeout    = 10 * time.Second
	refreshInterval = time.Second     // at most one refresh request per interval
	controlInterval = 5 * time.Second // at most one control request per interval
)

// pageConn is the attached page's WebSocket.
type pageConn struct {
	s      *Server
	ctx    context.Context
	cancel context.CancelFunc
	wakeCh chan struct{}

	mu sync.Mutex
	ws *websocket.Conn

	stSent atomic.Int64 // the status version the page has

	// writer goroutine only
	curSent, shapeSent int
	haveW, haveH       int // the framebuffer size the page has; 0: no picture

	// reader goroutine only
	in inputState
}

// kick wakes the writer.
func (p *pageConn) kick() {
	select {
	case p.wakeCh <- struct{}{}:
	default:
	}
}

// statusSent is the status version the page has received.
func (p *pageConn) statusSent() int { return int(p.stSent.Load()) }

// close closes the WebSocket with reason.
func (p *pageConn) close(reason string) {
	p.mu.Lock()
	ws := p.ws
	p.mu.Unlock()
	if ws != nil {
		_ = ws.Close(websocket.StatusGoingAway, reason)
	}
	p.cancel()
}

// Close reasons the page shows.
const (
	reasonBusy   = "another viewer is already attached to this session"
	reasonClosed = "the viewer is closed"
)

// serveWS attaches a page, or refuses it (with a close reason the page
// shows) while another is attached.
func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	if !localpage.RequireOrigin(w, r) {
		return
	}
	p := &pageConn{s: s, wakeCh: make(chan struct{}, 1)}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	defer p.cancel()
	p.in.init(s.opts)
	s.mu.Lock()
	busy, closed := s.page != nil, s.closed
	if !busy && !closed {
		s.page = p
	}
	s.mu.Unlock()
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		if !busy && !closed {
			s.detach(p)
		}
		return
	}
	switch {
	case busy:
		s.opts.Notef("refused a second viewer page: one is attached already")
		_ = ws.Close(websocket.StatusPolicyViolation, reasonBusy)
		return
	case closed:
		_ = ws.Close(websocket.StatusGoingAway, reasonClosed)
		return
	}
	ws.SetReadLimit(maxPageMsg * 4)
	p.mu.Lock()
	p.ws = ws
	p.mu.Unlock()
	s.opts.Notef("viewer page attached")
	s.attachOnce.Do(func() { close(s.attached) })
	p.run(ws)
	s.detach(p)
	s.opts.Notef("viewer page left")
}

// detach frees the page slot and releases what the page held.
func (s *Server) detach(p *pageConn) {
	s.mu.Lock()
	if s.page == p {
		s.page = nil
	}
	s.mu.Unlock()
	p.in.releaseAll(s)
}

// run serves an attached page until it leaves: the writer on its own
// goroutine, the reader on this one.
func (p *pageConn) run(ws *websocket.Conn) {
	s := p.s
	s.mu.Lock()
	refresh := s.pending == nil && s.everDrawn
	s.mu.Unlock()
	if refresh && s.opts.Stream != nil {
		// The page has no picture and nothing is pending: ask for one.
		go func() { _ = s.opts.Stream.Refresh() }()
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := p.writer(ws); err != nil && p.ctx.Err() == nil {
			_ = ws.Close(websocket.StatusInternalError, "write failed")
		}
		p.cancel()
	}()
	p.kick()
	err := p.reader(ws)
	var ce websocket.CloseError
	if err != nil && !errors.As(err, &ce) && p.ctx.Err() == nil {
		_ = ws.Close(websocket.StatusPolicyViolation, trunc(err.Error(), 120))
	}
	p.cancel()
	<-done
}

// reader handles the page's messages until it leaves or breaks the rules.
func (p *pageConn) reader(ws *websocket.Conn) error {
	for {
		typ, b, err := ws.Read(p.ctx)
		if err != nil {
			return err
		}
		if typ != websocket.MessageText {
			return errors.New("binary message from the page")
		}
		m, err := parsePageMsg(b)
		if err != nil {
			return err
		}
		p.handle(m)
	}
}

// handle acts on one message from the page.
func (p *pageConn) handle(m pageMsg) {
	s := p.s
	switch m.T {
	case pageAck:
		s.ack(p, m.ID)
	case pageRefresh:
		if s.opts.Stream != nil && p.in.due(&p.in.lastRefresh, refreshInterval) {
			go func() { _ = s.opts.Stream.Refresh() }()
		}
	case pageControl:
		p.requestControl()
	case pageRelease:
		p.in.releaseAll(s)
	default:
		p.in.handle(s, m)
	}
}

// requestControl asks the end user for screen-control, at most once per
// controlInterval.
func (p *pageConn) requestControl() {
	s := p.s
	if s.opts.Stream == nil || !p.in.due(&p.in.lastControl, controlInterval) {
		return
	}
	st := s.status()
	if st.Ended || st.Control {
		return
	}
	s.Notice("screen control requested: waiting for the end user")
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
		defer cancel()
		if err := s.opts.Stream.RequestControl(ctx); err != nil {
			s.Notice("could not request control: " + err.Error())
		}
	}()
}

// ack marks the pending update drawn when the page drew the one it was
// sent.
func (s *Server) ack(p *pageConn, id uint32) {
	s.mu.Lock()
	var drawn func()
	if u := s.pending; u != nil && s.sentTo == p && u.ID == id {
		drawn = u.Drawn
		s.pending, s.sentTo, s.everDrawn = nil, nil, true
	}
	s.mu.Unlock()
	call(drawn)
}

// writer sends what changed each time it is woken.
func (p *pageConn) writer(ws *websocket.Conn) error {
	for {
		select {
		case <-p.wakeCh:
		case <-p.ctx.Done():
			return nil
		}
		if err := p.send(ws); err != nil {
			return err
		}
	}
}

// send writes the status, the cursor and the pending update, each only if
// the page does not have it yet.
func (p *pageConn) send(ws *websocket.Conn) error {
	s := p.s
	s.mu.Lock()
	var status []byte
	stVer := s.stVer
	if stVer > p.statusSent() {
		status, _ = json.Marshal(s.st)
	}
	var cursor []byte
	if s.curVer > p.curSent || s.shapeVer > p.shapeSent {
		shape := s.shapeVer > p.shapeSent
		c := s.cur
		c.HotX, c.HotY, c.Width, c.Height, c.Pix = s.shape.HotX, s.shape.HotY, s.shape.Width, s.shape.Height, s.shape.Pix
		cursor = appendCursor(nil, c, shape)
		p.curSent, p.shapeSent = s.curVer, s.shapeVer
	}
	var u *Update
	if s.pending != nil && s.sentTo != p {
		u, s.sentTo = s.pending, p
	}
	s.mu.Unlock()
	if status != nil {
		if err := p.write(ws, websocket.MessageText, status); err != nil {
			return err
		}
		p.stSent.Store(int64(stVer))
	}
	if cursor != nil {
		if err := p.write(ws, websocket.MessageBinary, cursor); err != nil {
			return err
		}
	}
	if u != nil {
		return p.write(ws, websocket.MessageBinary, p.encode(u))
	}
	return nil
}

// maxRects bounds the rectangles of one update message; an update with
// more is sent whole.
const maxRects = 4096

// encode turns an update into a message: its rectangles, or the whole
// framebuffer when the page has no picture of this size.
func (p *pageConn) encode(u *Update) []byte {
	f := u.Frame
	rects := u.Rects
	if p.haveW != f.Width || p.haveH != f.Height || len(rects) > maxRects {
		rects = []screen.Rect{f.Bounds()}
		p.haveW, p.haveH = f.Width, f.Height
	}
	n := 11
	for _, r := range rects {
		n += 8 + r.W*r.H*4
	}
	return appendUpdate(make([]byte, 0, n), u.ID, f, rects)
}

// write sends one message within writeTimeout.
func (p *pageConn) write(ws *websocket.Conn, typ websocket.MessageType, b []byte) error {
	ctx, cancel := context.WithTimeout(p.ctx, writeTimeout)
	defer cancel()
	if err := ws.Write(ctx, typ, b); err != nil {
		return fmt.Errorf("write to the page: %w", err)
	}
	return nil
}

// trunc shortens s to at most n bytes (a close reason is bounded).
func trunc(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
