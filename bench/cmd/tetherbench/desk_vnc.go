package main

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"
)

// vncViewer is the established open-source path on the same Xvfb: x11vnc
// (Tight encoding, as noVNC asks for it) behind websockify (with TLS
// unless BENCH_DESK_VNC_TLS=0: remote support crosses networks, and
// Tether's bytes include TLS too), viewed by noVNC in headless chromium
// through a counting proxy.
type vncViewer struct {
	web                   *deskWeb
	run                   string
	x11vnc, wsock, chrome *bgProc
	proxy                 *countProxy
	updates               atomic.Int64
	status                atomic.Value // string
	// pending holds observations polled while counting, for takeSeen.
	pending []markSeen
}

var vncRuns atomic.Int64

// waitListening waits until something accepts on addr.
func waitListening(addr, what string, p *bgProc) error {
	return waitFor(20*time.Second, what+" to listen", func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return true
		}
		select {
		case <-p.done:
			return true // reported below
		default:
			return false
		}
	})
}

// startVNCViewer starts x11vnc, websockify, the proxy and the page.
func startVNCViewer(e *deskEnv) (v *vncViewer, err error) {
	v = &vncViewer{web: e.web, run: fmt.Sprintf("vnc-%d", vncRuns.Add(1))}
	v.status.Store("starting")
	defer func() {
		if err != nil {
			v.close()
		}
	}()
	vncPort, err := freePort()
	if err != nil {
		return nil, err
	}
	// -ncache 0: no client-side caching hacks (noVNC has none); the rest
	// are x11vnc's defaults (XDamage hints, MIT-SHM polling).
	if v.x11vnc, err = e.ps.start(nil, "x11vnc", "-display", e.display, "-rfbport", strconv.Itoa(vncPort),
		"-localhost", "-nopw", "-forever", "-shared", "-ncache", "0", "-quiet"); err != nil {
		return nil, err
	}
	vncAddr := fmt.Sprintf("127.0.0.1:%d", vncPort)
	if err := waitListening(vncAddr, "x11vnc", v.x11vnc); err != nil {
		return nil, err
	}
	if err := v.exited(); err != nil {
		return nil, err
	}
	wsPort, err := freePort()
	if err != nil {
		return nil, err
	}
	wsAddr := fmt.Sprintf("127.0.0.1:%d", wsPort)
	wsArgs, scheme := []string{wsAddr, vncAddr}, "ws"
	if e.vncTLS {
		cert, key, err := selfSignedCert(e.dir)
		if err != nil {
			return nil, err
		}
		wsArgs, scheme = []string{"--cert", cert, "--key", key, "--ssl-only", wsAddr, vncAddr}, "wss"
	}
	if v.wsock, err = e.ps.start(nil, "websockify", wsArgs...); err != nil {
		return nil, err
	}
	if err := waitListening(wsAddr, "websockify", v.wsock); err != nil {
		return nil, err
	}
	if err := v.exited(); err != nil {
		return nil, err
	}
	if v.proxy, err = startCountProxy(wsAddr); err != nil {
		return nil, err
	}
	_, pport, _ := net.SplitHostPort(v.proxy.addr())
	url := fmt.Sprintf("%s/viewer.html?run=%s&scheme=%s&ws=%s&mx=%d&my=%d", e.web.url, v.run, scheme, pport,
		markerX+markerSize/2, markerY+markerSize/2)
	// The certificate is the driver's own throwaway one: this chromium,
	// which visits only the driver's pages, is told to accept it.
	args := append(chromiumFlags(filepath.Join(e.dir, "viewer-"+v.run)), "--headless=new", "--ignore-certificate-errors",
		fmt.Sprintf("--window-size=%d,%d", deskW, deskH), url)
	if v.chrome, err = e.ps.start(nil, e.chromium, args...); err != nil {
		return nil, err
	}
	return v, nil
}

// exited reports a helper program that ended.
func (v *vncViewer) exited() error {
	for _, p := range []*bgProc{v.x11vnc, v.wsock, v.chrome} {
		if p == nil {
			continue
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited: %s", filepath.Base(p.name), tail(p.Output(), 400))
		default:
		}
	}
	return nil
}

// poll moves the page's reports into the counters.
func (v *vncViewer) poll() []markSeen {
	st, n, obs := v.web.take(v.run)
	if st != "" {
		v.status.Store(st)
		v.updates.Store(int64(n))
	}
	return obs
}

func (v *vncViewer) counts() (int, int64, int64) {
	v.pending = append(v.pending, v.poll()...)
	time.Sleep(250 * time.Millisecond) // the page reports every 200 ms
	v.pending = append(v.pending, v.poll()...)
	return int(v.updates.Load()), v.proxy.down.Load(), v.proxy.up.Load()
}

func (v *vncViewer) takeSeen() []markSeen {
	obs := append(v.pending, v.poll()...)
	v.pending = nil
	return obs
}

func (v *vncViewer) serverPID() int { return v.x11vnc.PID() }

func (v *vncViewer) check() error {
	if err := v.exited(); err != nil {
		return err
	}
	if st, _ := v.status.Load().(string); len(st) >= 12 && st[:12] == "disconnected" {
		return errors.New("noVNC: " + st)
	}
	return nil
}

func (v *vncViewer) close() {
	if v.chrome != nil {
		killGroup(v.chrome)
	}
	if v.proxy != nil {
		v.proxy.close()
	}
	for _, p := range []*bgProc{v.wsock, v.x11vnc} {
		if p != nil {
			p.stop()
		}
	}
}
