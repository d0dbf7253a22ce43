package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/e2e"
	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/transport"
)

// fleet is the load generator: many enrolled devices whose agents live in
// this process, each holding an authenticated control connection, spread
// over loopback source addresses.
type fleet struct {
	te     *tetherEnv
	token  string // admin login token
	userID ids.UserID
	user   string
	devs   []*fakeDevice
	ctx    context.Context
	cancel context.CancelFunc
}

// fakeDevice is one enrolled device played by the load generator.
type fakeDevice struct {
	id   ids.DeviceID
	name string
	key  ed25519.PrivateKey
	src  net.Addr
	// url is the relay the device's agent connects to (the fleet's relay
	// unless spread moved it).
	url  string
	conn *transport.Conn
}

// srcAddr spreads connections over 127.1.0.1 … : at most 25 per address,
// under the relay's 30 enrollments per minute per source address.
func srcAddr(i int) *net.TCPAddr {
	k := i / 25
	return &net.TCPAddr{IP: net.IPv4(127, 1, byte(k/250), byte(k%250+1))}
}

// endpoint is how a device (or the technician, src nil) reaches the relay.
func (f *fleet) endpoint(src net.Addr, token string) transport.Endpoint {
	return transport.Endpoint{URL: f.te.url, Pin: f.te.fp, Token: token, LocalAddr: src}
}

// devEndpoint is how device d's agent reaches its relay.
func (f *fleet) devEndpoint(d *fakeDevice) transport.Endpoint {
	e := f.endpoint(d.src, "")
	if d.url != "" {
		e.URL = d.url
	}
	return e
}

// spread assigns the devices round-robin to the relays at urls, before
// connectAll: the hook for a cluster whose relays share one database and
// one TLS key (so one pin), where a device enrolled at one relay may
// connect to any.
func (f *fleet) spread(urls []string) {
	for i, d := range f.devs {
		if d != nil && len(urls) > 0 {
			d.url = urls[i%len(urls)]
		}
	}
}

// postJSON posts v and decodes the answer into out.
func postJSON(ctx context.Context, c *http.Client, url, token string, v, out any) error {
	b, _ := json.Marshal(v)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return transport.ResponseError(resp)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// newFleet signs in as the admin and enrolls n devices.
func newFleet(ctx context.Context, te *tetherEnv, n int) (*fleet, error) {
	f := &fleet{te: te}
	f.ctx, f.cancel = context.WithCancel(ctx)
	var login api.LoginResponse
	hc := f.endpoint(nil, "").HTTPClient()
	if err := postJSON(ctx, hc, te.url+protocol.PathLogin, "", api.LoginRequest{Username: "admin", Password: te.password}, &login); err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	f.token, f.userID, f.user = login.Token, login.UserID, login.Username
	f.devs = make([]*fakeDevice, n)
	t0 := time.Now()
	err := parallel(8, n, func(i int) error {
		d := &fakeDevice{name: fmt.Sprintf("load-%05d", i), src: srcAddr(i)}
		pub, key, _ := ed25519.GenerateKey(nil)
		d.key = key
		var tok api.EnrollTokenResponse
		if err := postJSON(ctx, hc, te.url+protocol.PathEnrollToken, f.token, api.EnrollTokenRequest{}, &tok); err != nil {
			return fmt.Errorf("enroll token: %w", err)
		}
		var out api.EnrollResponse
		dc := f.endpoint(d.src, "").HTTPClient()
		defer dc.CloseIdleConnections()
		if err := postJSON(ctx, dc, te.url+protocol.PathAgentEnroll, "", api.EnrollRequest{Token: tok.Token, Name: d.name, PublicKey: pub}, &out); err != nil {
			return fmt.Errorf("enroll %s: %w", d.name, err)
		}
		d.id = out.DeviceID
		f.devs[i] = d
		return nil
	})
	hc.CloseIdleConnections()
	logf("enrolled %d devices in %v", n, time.Since(t0).Round(time.Millisecond))
	return f, err
}

// parallel runs fn(0…n-1) on w workers and returns the first error.
func parallel(w, n int, fn func(i int) error) error {
	var next atomic.Int64
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	for range w {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					once.Do(func() { first = err })
					next.Store(int64(n))
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// connectAll opens every device's control connection and authenticates it;
// each then waits for offers (answered by serveOffer) and pings like an
// agent.
func (f *fleet) connectAll() error {
	t0 := time.Now()
	err := parallel(16, len(f.devs), func(i int) error { return f.connect(f.devs[i]) })
	logf("connected %d agents in %v", len(f.devs), time.Since(t0).Round(time.Millisecond))
	return err
}

func (f *fleet) connect(d *fakeDevice) error {
	ctx := f.ctx
	c, err := transport.Dial(ctx, f.devEndpoint(d), protocol.PathAgentControl)
	if err != nil {
		return err
	}
	actx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	m, err := c.ReadControl(actx)
	if err != nil || m.Type != protocol.CtlChallenge {
		c.CloseNow()
		return fmt.Errorf("%s: no challenge: %v", d.name, err)
	}
	sig := ed25519.Sign(d.key, protocol.AgentAuthMessage(m.Challenge, f.te.fp))
	if err := c.WriteControl(actx, &protocol.Control{Type: protocol.CtlAuth, Version: protocol.Version, DeviceID: d.id, Signature: sig}); err != nil {
		c.CloseNow()
		return err
	}
	if m, err = c.ReadControl(actx); err != nil || m.Type != protocol.CtlWelcome {
		c.CloseNow()
		return fmt.Errorf("%s: not welcomed: %v", d.name, err)
	}
	d.conn = c
	c.KeepAlive(ctx)
	go func() {
		defer c.CloseNow()
		for {
			m, err := c.ReadControl(ctx)
			if err != nil {
				return
			}
			if m.Type == protocol.CtlOffer && m.Session != nil {
				go f.serveOffer(d, m.Session.ID, m.AttachToken)
			}
		}
	}()
	return nil
}

// close ends every connection of the fleet.
func (f *fleet) close() {
	f.cancel()
	for _, d := range f.devs {
		if d != nil && d.conn != nil {
			d.conn.CloseNow()
		}
	}
}

// serveOffer plays the agent side of a session: attach, handshake, grant,
// then echo every InStdin back as InStdout.
func (f *fleet) serveOffer(d *fakeDevice, session ids.SessionID, attach string) {
	ctx := f.ctx
	c, err := transport.Dial(ctx, f.devEndpoint(d), protocol.PathAgentSession)
	if err != nil {
		return
	}
	defer c.CloseNow()
	if c.WriteControl(ctx, &protocol.Control{Type: protocol.CtlAttach, SessionID: session, AttachToken: attach}) != nil {
		return
	}
	m, err := c.ReadControl(ctx)
	if err != nil || m.Type != protocol.CtlPaired || m.Session == nil {
		return
	}
	p, err := params(m.Session)
	if err != nil {
		return
	}
	p.DeviceKey = d.key.Public().(ed25519.PublicKey)
	ch, err := transport.Respond(ctx, c, p, d.key)
	if err != nil {
		return
	}
	caps := []string{protocol.CapShell}
	c.WriteControl(ctx, &protocol.Control{Type: protocol.CtlConsent, Granted: true, Caps: caps})
	if ch.SendJSON(ctx, protocol.InConsent, protocol.Consent{Granted: true, Caps: caps}) != nil {
		return
	}
	for {
		t, b, err := ch.Recv(ctx)
		if err != nil {
			return
		}
		if t == protocol.InStdin && ch.Send(ctx, protocol.InStdout, b) != nil {
			return
		}
	}
}

func params(info *protocol.SessionInfo) (e2e.Params, error) {
	var p e2e.Params
	id, err := info.ID.Bytes()
	if err != nil {
		return p, fmt.Errorf("malformed session ID")
	}
	p.SessionID = id
	p.TechID, p.TechUser, p.DeviceKey = info.TechID, info.TechUser, info.DeviceKey
	return p, nil
}

// techSession plays the technician: request a session with d, handshake,
// wait for consent, start, then until stop send 1 KiB every period and
// time its echo.
func (f *fleet) techSession(d *fakeDevice, period time.Duration, ready func(), stop <-chan struct{}, rtts chan<- time.Duration) error {
	ctx := f.ctx
	c, err := transport.Dial(ctx, f.endpoint(nil, f.token), protocol.PathTechSession)
	if err != nil {
		return err
	}
	defer c.CloseNow()
	if err := c.WriteControl(ctx, &protocol.Control{Type: protocol.CtlRequest, Version: protocol.Version, Device: d.name, Caps: []string{protocol.CapShell}}); err != nil {
		return err
	}
	var info *protocol.SessionInfo
	for info == nil {
		m, err := c.ReadControl(ctx)
		if err != nil {
			return fmt.Errorf("session request: %w", err)
		}
		if m.Type == protocol.CtlPaired {
			info = m.Session
		}
	}
	p, err := params(info)
	if err != nil {
		return err
	}
	ch, err := transport.Initiate(ctx, c, p)
	if err != nil {
		return err
	}
	if t, _, err := ch.Recv(ctx); err != nil || t != protocol.InConsent {
		return fmt.Errorf("no consent: %v", err)
	}
	if err := ch.SendJSON(ctx, protocol.InStart, protocol.Start{Argv: []string{"cat"}}); err != nil {
		return err
	}
	ready()
	msg := make([]byte, 1024)
	tick := time.NewTicker(period)
	defer tick.Stop()
	for seq := uint64(1); ; seq++ {
		select {
		case <-stop:
			return nil
		case <-tick.C:
		}
		binary.BigEndian.PutUint64(msg, seq)
		t0 := time.Now()
		if err := ch.Send(ctx, protocol.InStdin, msg); err != nil {
			return err
		}
		for {
			t, b, err := ch.Recv(ctx)
			if err != nil {
				return err
			}
			if t == protocol.InStdout && len(b) == len(msg) && binary.BigEndian.Uint64(b) == seq {
				break
			}
		}
		select {
		case rtts <- time.Since(t0):
		default:
		}
	}
}

// benchIdle: many agents connected and idle; relay memory and CPU.
func benchIdle(ctx context.Context, cfg *config, te *tetherEnv, t *table) error {
	n := cfg.idleAgents
	rssRow := t.add(newRow(fmt.Sprintf("relay RSS per idle agent, %d agents", n), "KiB", 1))
	rssRow.target, rssRow.check = "≤ 48 KiB", atMost(48)
	cpuRow := t.add(newRow(fmt.Sprintf("relay CPU, %d idle agents", n), "% of a core", 2))
	f, err := newFleet(ctx, te, n)
	if err != nil {
		return err
	}
	defer f.close()
	time.Sleep(3 * time.Second)
	rss0, err := rssKiB(te.relay.PID())
	if err != nil {
		return err
	}
	if err := f.connectAll(); err != nil {
		return err
	}
	time.Sleep(10 * time.Second) // let the connection burst's garbage be collected
	rss1, err := rssKiB(te.relay.PID())
	if err != nil {
		return err
	}
	rssRow.tether = float64(rss1-rss0) / float64(len(f.devs))
	logf("relay RSS %d → %d KiB: %.1f KiB per agent", rss0, rss1, rssRow.tether)
	if cpuRow.tether, err = cpuShare(te.relay.PID(), 2*15*time.Second); err != nil { // two ping periods
		return err
	}
	logf("relay CPU with %d idle agents: %.2f%%", len(f.devs), cpuRow.tether)
	return nil
}
