package transport

import (
	"context"
	"sync"
	"time"

	"github.com/tether-support/tether/internal/protocol"
)

// pinger pings every registered connection once per protocol.PingInterval
// from one goroutine, which runs only while connections are registered.
// Each ping runs in a goroutine of its own that lives until the pong (or
// protocol.PingTimeout), so an idle connection holds no goroutine between
// pings.
type pinger struct {
	mu      sync.Mutex
	conns   map[*Conn]*pingEntry
	running bool
}

type pingEntry struct {
	ctx     context.Context
	next    time.Time
	pinging bool
}

// pingTick is how often the scheduler looks for pings that are due.
const pingTick = time.Second

var pings = &pinger{conns: make(map[*Conn]*pingEntry)}

// add registers c until ctx ends.
func (p *pinger) add(c *Conn, ctx context.Context) {
	if ctx.Err() != nil {
		return
	}
	e := &pingEntry{ctx: ctx, next: time.Now().Add(protocol.PingInterval)}
	p.mu.Lock()
	p.conns[c] = e
	if !p.running {
		p.running = true
		go p.loop()
	}
	p.mu.Unlock()
	context.AfterFunc(ctx, func() { p.remove(c, e) })
}

// remove unregisters c if e is still its entry.
func (p *pinger) remove(c *Conn, e *pingEntry) {
	p.mu.Lock()
	if p.conns[c] == e {
		delete(p.conns, c)
	}
	p.mu.Unlock()
}

// loop starts the pings that are due, once per pingTick, until no
// connection is left.
func (p *pinger) loop() {
	t := time.NewTicker(pingTick)
	defer t.Stop()
	for now := range t.C {
		p.mu.Lock()
		if len(p.conns) == 0 {
			p.running = false
			p.mu.Unlock()
			return
		}
		for c, e := range p.conns {
			if !e.pinging && !now.Before(e.next) {
				e.pinging, e.next = true, now.Add(protocol.PingInterval)
				go p.ping(c, e)
			}
		}
		p.mu.Unlock()
	}
}

// ping sends one ping and waits for its pong; no pong closes the connection.
func (p *pinger) ping(c *Conn, e *pingEntry) {
	pctx, cancel := context.WithTimeout(e.ctx, protocol.PingTimeout)
	err := c.ws.Ping(pctx)
	cancel()
	if err != nil && e.ctx.Err() == nil {
		c.ws.CloseNow()
		p.remove(c, e)
		return
	}
	p.mu.Lock()
	e.pinging = false
	p.mu.Unlock()
}
