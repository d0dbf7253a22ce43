package cluster

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/tether-support/tether/internal/transport"
)

// Headers of a spliced agent connection (GET /v1/cluster/agent-session):
// which agent endpoint the agent called and its source address, as the
// relay it connected to saw them.
const (
	HeaderPeerKind   = "Tether-Peer-Kind"
	HeaderPeerSource = "Tether-Peer-Source"
)

// Kinds of spliced agent connection.
const (
	KindAttach = "attach"
	KindJoin   = "join"
)

// peerTimeout bounds one relay-to-relay request.
const peerTimeout = 10 * time.Second

// Identity is what a relay presents to, and expects from, another relay:
// the cluster certificate and the pins (current and, during a rotation,
// next) the other relay must show.
type Identity struct {
	Cert          *tls.Certificate
	Current, Next string
}

// Peer is a relay's client of the other relays of its cluster. It is safe
// for concurrent use.
type Peer struct {
	identity func() Identity
	mu       sync.Mutex
	clients  map[string]*http.Client // by base URL and pins
}

// NewPeer returns a client presenting the identity returned by id, which
// is asked again for every new connection (a rotation switches it).
func NewPeer(id func() Identity) *Peer {
	return &Peer{identity: id, clients: map[string]*http.Client{}}
}

// endpoint is the other relay at base as the transport package reaches it.
func (p *Peer) endpoint(base string) transport.Endpoint {
	id := p.identity()
	return transport.Endpoint{URL: base, Pin: id.Current, NextPin: id.Next, ClientCert: id.Cert}
}

// client returns a kept HTTP client for the relay at base.
func (p *Peer) client(base string) *http.Client {
	e := p.endpoint(base)
	key := base + " " + e.Pin + " " + e.NextPin
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.clients[key]
	if c == nil {
		c = e.HTTPClient()
		c.Timeout = peerTimeout
		p.clients[key] = c
	}
	return c
}

// Post sends body as JSON to path on the relay at base and decodes a 2xx
// answer into out (if not nil). A refusal is a *transport.HTTPError with
// the other relay's status and message.
func (p *Peer) Post(ctx context.Context, base, path string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, peerTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client(base).Do(req)
	if err != nil {
		return fmt.Errorf("relay %s: %w", base, transport.DialError(base, nil, err))
	}
	if resp.StatusCode/100 != 2 {
		return transport.ResponseError(resp)
	}
	defer resp.Body.Close()
	if out == nil {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(out); err != nil {
		return fmt.Errorf("relay %s: malformed answer: %w", base, err)
	}
	return nil
}

// Dial opens a WebSocket to path on the relay at base with the extra
// request headers h.
func (p *Peer) Dial(ctx context.Context, base, path string, h http.Header) (*transport.Conn, error) {
	e := p.endpoint(base)
	e.Header = h
	ctx, cancel := context.WithTimeout(ctx, peerTimeout)
	defer cancel()
	return transport.Dial(ctx, e, path)
}
