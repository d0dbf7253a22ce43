package main

import (
	"errors"
	"net"
	"sync"
	"time"
)

// Delay proxy bounds: the data held per direction of a connection (what
// is in flight on the simulated far link; 4 MiB is 200 MB/s at 20 ms),
// and how many connections it forwards at once.
const (
	proxyChunk    = 64 << 10
	proxyInFlight = 64 // chunks per direction
	proxyConns    = 256
)

// delayProxy forwards TCP connections from a loopback port to target and
// delivers every chunk it reads delay after reading it, in each direction:
// the one-way latency of a far link. It holds at most proxyInFlight chunks
// per direction (the reader stops, and TCP pushes back, beyond that) and
// proxyConns connections (more are closed at once).
type delayProxy struct {
	ln     net.Listener
	target string
	delay  time.Duration
	sem    chan struct{}
	mu     sync.Mutex
	conns  map[net.Conn]bool
	wg     sync.WaitGroup
}

// startDelayProxy listens on 127.0.0.1 (a free port) for target.
func startDelayProxy(target string, delay time.Duration) (*delayProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &delayProxy{ln: ln, target: target, delay: delay, sem: make(chan struct{}, proxyConns), conns: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

// Addr is the proxy's host:port.
func (p *delayProxy) Addr() string { return p.ln.Addr().String() }

// Port is the proxy's port.
func (p *delayProxy) Port() int { return p.ln.Addr().(*net.TCPAddr).Port }

// Close stops accepting, closes every forwarded connection and waits for
// their goroutines.
func (p *delayProxy) Close() {
	p.ln.Close()
	p.mu.Lock()
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *delayProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		select {
		case p.sem <- struct{}{}:
		default:
			c.Close() // over the connection cap
			continue
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			defer func() { <-p.sem }()
			p.forward(c)
		}()
	}
}

// track adds c to (or removes it from) the connections Close closes.
func (p *delayProxy) track(c net.Conn, on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if on {
		p.conns[c] = true
	} else {
		delete(p.conns, c)
	}
}

// forward connects c to the target and copies both ways, delayed.
func (p *delayProxy) forward(c net.Conn) {
	defer c.Close()
	u, err := net.DialTimeout("tcp", p.target, 10*time.Second)
	if err != nil {
		return
	}
	defer u.Close()
	p.track(c, true)
	p.track(u, true)
	defer p.track(c, false)
	defer p.track(u, false)
	done := make(chan struct{})
	go func() { delayCopy(u, c, p.delay); close(done) }()
	delayCopy(c, u, p.delay)
	<-done
}

// delayed is one chunk read and when it may be written.
type delayed struct {
	b  []byte
	at time.Time
}

// delayCopy copies src to dst, each chunk written delay after it was
// read, then half-closes dst. A write error closes src.
func delayCopy(dst, src net.Conn, delay time.Duration) {
	q := make(chan delayed, proxyInFlight)
	go func() {
		defer close(q)
		buf := make([]byte, proxyChunk)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				q <- delayed{append([]byte(nil), buf[:n]...), time.Now().Add(delay)}
			}
			if err != nil {
				return
			}
		}
	}()
	for d := range q {
		if w := time.Until(d.at); w > 0 {
			time.Sleep(w)
		}
		if _, err := dst.Write(d.b); err != nil {
			src.Close()
			for range q { // let the reader finish
			}
			return
		}
	}
	if tc, ok := dst.(*net.TCPConn); ok {
		tc.CloseWrite()
	}
}
