package x11

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
)

func init() {
	// xgb logs connection details and stray events to stderr; a library
	// must not write there.
	xgb.Logger = log.New(io.Discard, "", 0)
}

// dialTimeout bounds connecting to the X server's socket.
const dialTimeout = 5 * time.Second

// Display is one connection to an X server, on the screen its name selects.
// It hands out one Source and any number of Injectors; Close ends all of
// them.
type Display struct {
	conn   *xgb.Conn
	name   string
	setup  *xproto.SetupInfo
	screen *xproto.ScreenInfo
	exts   map[string]extension // extensions the server has

	mu       sync.Mutex
	source   *source  // the active Source, receives events
	keymapCB []func() // called on MappingNotify
	closed   bool
	done     chan struct{} // closed when the event loop ends
}

// Open connects to the X display named like $DISPLAY (":0", ":1.0",
// "unix:2", "host:0") with the MIT-MAGIC-COOKIE-1 found in the Xauthority
// file at xauthority; when xauthority is empty it uses $XAUTHORITY or
// ~/.Xauthority if present, else no authorization.
func Open(display, xauthority string) (*Display, error) {
	conn, screenNum, exts, err := dial(display, xauthority)
	if err != nil {
		return nil, err
	}
	d := &Display{conn: conn, name: display, setup: xproto.Setup(conn), exts: exts, done: make(chan struct{})}
	if screenNum >= len(d.setup.Roots) {
		conn.Close()
		return nil, fmt.Errorf("x11: display %s has no screen %d", display, screenNum)
	}
	d.screen = &d.setup.Roots[screenNum]
	go d.eventLoop()
	return d, nil
}

// Dial opens a raw xgb connection to display, authorized as Open does, for
// code that draws its own windows and reads its own events (the desktop
// indicator, test windows). The caller closes it.
func Dial(display, xauthority string) (*xgb.Conn, error) {
	conn, _, _, err := dial(display, xauthority)
	return conn, err
}

// dial connects, completes the X handshake and sets up the extensions; it
// returns the screen number the display name selects and the extensions
// the server has.
func dial(display, xauthority string) (conn *xgb.Conn, screenNum int, exts map[string]extension, err error) {
	if display == "" {
		return nil, 0, nil, errors.New("x11: no display given (is DISPLAY set?)")
	}
	network, addr, num, screenNum, err := parseDisplay(display)
	if err != nil {
		return nil, 0, nil, err
	}
	explicit := xauthority != ""
	if !explicit {
		xauthority = defaultXauthority()
	}
	cookie, err := loadCookie(xauthority, num, explicit)
	if err != nil {
		return nil, 0, nil, err
	}
	nc, err := dialSocket(network, addr)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("x11: no X server at %s: %w", display, err)
	}
	// The handshake has no deadline of its own in xgb; bound it here.
	_ = nc.SetDeadline(time.Now().Add(dialTimeout))
	conn, err = xgb.NewConnNet(&authConn{Conn: nc, cookie: cookie})
	if err != nil {
		nc.Close()
		return nil, 0, nil, fmt.Errorf("x11: connect to %s: %w", display, err)
	}
	exts, err = initExtensions(conn)
	if err != nil {
		conn.Close()
		return nil, 0, nil, err
	}
	_ = nc.SetDeadline(time.Time{})
	return conn, screenNum, exts, nil
}

// dialSocket connects to the server's socket. For a local display it tries
// the Linux abstract socket first, as libxcb does: unlike the file in
// /tmp/.X11-unix, it cannot be unlinked or replaced by another process
// (an X server probing for a free display number does that).
func dialSocket(network, addr string) (net.Conn, error) {
	if network == "unix" {
		if c, err := net.DialTimeout("unix", "@"+addr, dialTimeout); err == nil {
			return c, nil
		}
	}
	return net.DialTimeout(network, addr, dialTimeout)
}

// parseDisplay splits a display name into the socket to dial, the display
// number (for the Xauthority lookup) and the screen number.
func parseDisplay(name string) (network, addr, num string, screen int, err error) {
	colon := strings.LastIndex(name, ":")
	if colon < 0 || colon == len(name)-1 {
		return "", "", "", 0, fmt.Errorf("x11: bad display name %q", name)
	}
	host, rest := name[:colon], name[colon+1:]
	num = rest
	if dot := strings.IndexByte(rest, '.'); dot >= 0 {
		num = rest[:dot]
		if screen, err = strconv.Atoi(rest[dot+1:]); err != nil || screen < 0 {
			return "", "", "", 0, fmt.Errorf("x11: bad screen in display name %q", name)
		}
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 || n > 65535-6000 {
		return "", "", "", 0, fmt.Errorf("x11: bad display number in %q", name)
	}
	switch host {
	case "", "unix":
		return "unix", "/tmp/.X11-unix/X" + num, num, screen, nil
	default:
		host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
		return "tcp", net.JoinHostPort(host, strconv.Itoa(6000+n)), num, screen, nil
	}
}

// Name returns the display name Open was given.
func (d *Display) Name() string { return d.name }

// Close closes the connection; every Source's Changes channel closes.
func (d *Display) Close() error {
	d.mu.Lock()
	already := d.closed
	d.closed = true
	d.mu.Unlock()
	if !already {
		d.conn.Close()
	}
	<-d.done
	return nil
}

// eventLoop reads every event and hands it on; it never blocks on a
// consumer, so replies keep flowing.
func (d *Display) eventLoop() {
	defer close(d.done)
	defer d.detachSource()
	for {
		ev, xerr := d.conn.WaitForEvent()
		if ev == nil && xerr == nil {
			return // connection closed
		}
		if ev == nil {
			continue // asynchronous errors of unchecked requests
		}
		if _, ok := ev.(xproto.MappingNotifyEvent); ok {
			d.mu.Lock()
			cbs := append([]func(){}, d.keymapCB...)
			d.mu.Unlock()
			for _, f := range cbs {
				f()
			}
			continue
		}
		d.mu.Lock()
		s := d.source
		d.mu.Unlock()
		if s != nil {
			s.handle(ev)
		}
	}
}

// detachSource tells the active source the connection is gone.
func (d *Display) detachSource() {
	d.mu.Lock()
	s := d.source
	d.source = nil
	d.closed = true
	d.mu.Unlock()
	if s != nil {
		s.connLost()
	}
}

// checkVisual refuses root visuals whose pixels are not BGRX in 32 bits.
func (d *Display) checkVisual() error {
	sc := d.screen
	if d.setup.ImageByteOrder != xproto.ImageOrderLSBFirst {
		return errors.New("x11: unsupported display: image byte order is MSB first")
	}
	if sc.RootDepth != 24 && sc.RootDepth != 32 {
		return fmt.Errorf("x11: unsupported display: root depth %d (need 24 or 32)", sc.RootDepth)
	}
	bpp := 0
	for _, f := range d.setup.PixmapFormats {
		if f.Depth == sc.RootDepth {
			bpp = int(f.BitsPerPixel)
		}
	}
	if bpp != 32 {
		return fmt.Errorf("x11: unsupported display: depth %d stored in %d bits per pixel (need 32)", sc.RootDepth, bpp)
	}
	for _, dep := range sc.AllowedDepths {
		for _, v := range dep.Visuals {
			if v.VisualId != sc.RootVisual {
				continue
			}
			if v.Class != xproto.VisualClassTrueColor || v.RedMask != 0xff0000 || v.GreenMask != 0xff00 || v.BlueMask != 0xff {
				return fmt.Errorf("x11: unsupported display: root visual class %d masks %06x/%06x/%06x (need TrueColor ff0000/00ff00/0000ff)",
					v.Class, v.RedMask, v.GreenMask, v.BlueMask)
			}
			return nil
		}
	}
	return errors.New("x11: root visual not found in the server's setup")
}
