package direct

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/datachannel"
	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/transport"
)

// Errors of the direct path. Each leaves the session on the relay path.
var (
	// ErrFlood means the peer sent more candidates than MaxDirectCandidates.
	ErrFlood = errors.New("direct: too many ICE candidates from the peer")
	// ErrFingerprint means the data channel's DTLS peer is not the one the
	// sealed channel named.
	ErrFingerprint = errors.New("direct: the peer's DTLS certificate is not the one it sent in the sealed channel")
	// ErrBinding means the data channel's first message did not prove the
	// peer holds the session's exporter.
	ErrBinding = errors.New("direct: the data channel is not bound to this session")
	// ErrLost means the direct path's connectivity failed.
	ErrLost = errors.New("direct: the direct path was lost")
	// ErrSignal means an offer or answer could not be used.
	ErrSignal = errors.New("direct: unusable offer or answer")
)

// Config configures one side's Peer.
type Config struct {
	// Role is Offerer (the technician) or Answerer (the agent).
	Role Role
	// Exporter is the sealed session's exporter (e2e.Session.Exporter),
	// which keys the binding MAC.
	Exporter []byte
	// STUN lists STUN server URLs ("stun:host:port") for server-reflexive
	// candidates; none is fine on a LAN or loopback.
	STUN []string
	// OnCandidate is called with each local candidate line
	// ("candidate:…"), then once with "" when gathering is complete.
	OnCandidate func(candidate string)
	// LoopbackOnly gathers only 127.0.0.0/8 host candidates (tests).
	LoopbackOnly bool
	// Disconnected and Failed are the ICE timeouts (0: pion's defaults).
	Disconnected, Failed time.Duration
	// Cut, if set, is a switch that closes every UDP socket the Peer
	// opened when flipped (tests cut the direct path with it).
	Cut *Cut
}

// Peer is one side of a direct path: a WebRTC peer connection with one
// negotiated, reliable and ordered data channel.
type Peer struct {
	cfg     Config
	pc      *webrtc.PeerConnection
	dc      *webrtc.DataChannel
	localFP string

	mu       sync.Mutex
	peerFP   string
	nCands   int
	remote   bool     // the peer's description is set
	pending  []string // candidates that came before it
	lostOnce sync.Once
	lost     chan struct{}
	opened   chan datachannel.ReadWriteCloserDeadliner
	closed   atomic.Bool
}

// dataChannelID is the negotiated data channel's stream ID.
const dataChannelID = 0

// sctpMaxMessage bounds a data channel message; a frame is at most
// protocol.MaxFrame.
const sctpMaxMessage = 256 << 10

// sctpReceiveBuffer is the SCTP receive window: pion's default (1 MiB)
// halves bulk throughput on a LAN.
const sctpReceiveBuffer = 8 << 20

// NewPeer makes a peer connection for cfg. It opens no socket until
// gathering starts (Offer or Accept).
func NewPeer(cfg Config) (*Peer, error) {
	if cfg.Role != Offerer && cfg.Role != Answerer {
		return nil, fmt.Errorf("direct: unknown role %q", cfg.Role)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("direct: DTLS key: %w", err)
	}
	cert, err := webrtc.GenerateCertificate(key)
	if err != nil {
		return nil, fmt.Errorf("direct: DTLS certificate: %w", err)
	}
	fps, err := cert.GetFingerprints()
	if err != nil || len(fps) == 0 || fps[0].Algorithm != "sha-256" {
		return nil, fmt.Errorf("direct: DTLS fingerprint: %v", err)
	}
	api, err := newAPI(cfg)
	if err != nil {
		return nil, err
	}
	var servers []webrtc.ICEServer
	if len(cfg.STUN) > 0 {
		servers = []webrtc.ICEServer{{URLs: cfg.STUN}}
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{ICEServers: servers, Certificates: []webrtc.Certificate{*cert}})
	if err != nil {
		return nil, fmt.Errorf("direct: peer connection: %w", err)
	}
	p := &Peer{cfg: cfg, pc: pc, localFP: "sha-256 " + strings.ToUpper(fps[0].Value),
		lost: make(chan struct{}), opened: make(chan datachannel.ReadWriteCloserDeadliner, 1)}
	if err := p.wire(); err != nil {
		pc.Close()
		return nil, err
	}
	return p, nil
}

// newAPI builds the pion API: detached, blocking data channels, host and
// server-reflexive UDP candidates, no mDNS.
func newAPI(cfg Config) (*webrtc.API, error) {
	var se webrtc.SettingEngine
	se.DetachDataChannels()
	se.EnableDataChannelBlockWrite(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6})
	se.SetSCTPMaxMessageSize(sctpMaxMessage)
	se.SetSCTPMaxReceiveBufferSize(sctpReceiveBuffer)
	if cfg.LoopbackOnly {
		se.SetIncludeLoopbackCandidate(true)
		se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
		se.SetRemoteIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	}
	if cfg.Disconnected > 0 || cfg.Failed > 0 {
		se.SetICETimeouts(cfg.Disconnected, cfg.Failed, min(cfg.Disconnected, cfg.Failed)/4)
	}
	if cfg.Cut != nil {
		n, err := cfg.Cut.net()
		if err != nil {
			return nil, err
		}
		se.SetNet(n)
	}
	return webrtc.NewAPI(webrtc.WithSettingEngine(se)), nil
}

// wire creates the negotiated data channel and the callbacks.
func (p *Peer) wire() error {
	ordered, negotiated, id := true, true, uint16(dataChannelID)
	dc, err := p.pc.CreateDataChannel("tether", &webrtc.DataChannelInit{Ordered: &ordered, Negotiated: &negotiated, ID: &id})
	if err != nil {
		return fmt.Errorf("direct: data channel: %w", err)
	}
	p.dc = dc
	dc.OnOpen(func() {
		rw, err := dc.DetachWithDeadline()
		if err != nil {
			p.markLost()
			return
		}
		p.opened <- rw
	})
	p.pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if p.cfg.OnCandidate == nil || p.closed.Load() {
			return
		}
		if c == nil {
			p.cfg.OnCandidate("")
			return
		}
		p.cfg.OnCandidate(c.ToJSON().Candidate)
	})
	p.pc.OnICEConnectionStateChange(func(s webrtc.ICEConnectionState) {
		switch s {
		case webrtc.ICEConnectionStateDisconnected, webrtc.ICEConnectionStateFailed, webrtc.ICEConnectionStateClosed:
			p.markLost()
		}
	})
	return nil
}

func (p *Peer) markLost() { p.lostOnce.Do(func() { close(p.lost) }) }

// Lost is closed when the direct path's connectivity is lost (ICE
// disconnected, failed or closed).
func (p *Peer) Lost() <-chan struct{} { return p.lost }

// Fingerprint is this side's DTLS certificate fingerprint, which it sends
// in the sealed channel with its offer or answer.
func (p *Peer) Fingerprint() string { return p.localFP }

// Offer starts gathering and returns the offer to seal (Offerer only).
func (p *Peer) Offer() (protocol.DirectSignal, error) {
	if p.cfg.Role != Offerer {
		return protocol.DirectSignal{}, errors.New("direct: only the offerer makes an offer")
	}
	o, err := p.pc.CreateOffer(nil)
	if err != nil {
		return protocol.DirectSignal{}, fmt.Errorf("direct: create offer: %w", err)
	}
	if err := p.pc.SetLocalDescription(o); err != nil {
		return protocol.DirectSignal{}, fmt.Errorf("direct: set offer: %w", err)
	}
	return protocol.DirectSignal{SDP: o.SDP, Fingerprint: p.localFP}, nil
}

// Accept takes the peer's offer and returns the answer to seal (Answerer
// only); it starts gathering.
func (p *Peer) Accept(offer protocol.DirectSignal) (protocol.DirectSignal, error) {
	if p.cfg.Role != Answerer {
		return protocol.DirectSignal{}, errors.New("direct: only the answerer accepts an offer")
	}
	if err := p.setRemote(webrtc.SDPTypeOffer, offer); err != nil {
		return protocol.DirectSignal{}, err
	}
	a, err := p.pc.CreateAnswer(nil)
	if err != nil {
		return protocol.DirectSignal{}, fmt.Errorf("%w: create answer: %v", ErrSignal, err)
	}
	if err := p.pc.SetLocalDescription(a); err != nil {
		return protocol.DirectSignal{}, fmt.Errorf("%w: set answer: %v", ErrSignal, err)
	}
	return protocol.DirectSignal{SDP: a.SDP, Fingerprint: p.localFP}, nil
}

// SetAnswer takes the peer's answer (Offerer only).
func (p *Peer) SetAnswer(answer protocol.DirectSignal) error {
	if p.cfg.Role != Offerer {
		return errors.New("direct: only the offerer takes an answer")
	}
	return p.setRemote(webrtc.SDPTypeAnswer, answer)
}

// setRemote records the peer's fingerprint and applies its SDP.
func (p *Peer) setRemote(t webrtc.SDPType, s protocol.DirectSignal) error {
	if !protocol.ValidFingerprint(s.Fingerprint) {
		return fmt.Errorf("%w: malformed DTLS fingerprint", ErrSignal)
	}
	p.mu.Lock()
	p.peerFP = s.Fingerprint
	p.mu.Unlock()
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: t, SDP: s.SDP}); err != nil {
		return fmt.Errorf("%w: %v", ErrSignal, err)
	}
	p.mu.Lock()
	p.remote = true
	pending := p.pending
	p.pending = nil
	p.mu.Unlock()
	for _, c := range pending {
		if err := p.addCandidate(c); err != nil {
			return err
		}
	}
	return nil
}

// AddCandidate adds one trickled candidate of the peer ("" marks the end
// of them). More than protocol.MaxDirectCandidates is ErrFlood.
func (p *Peer) AddCandidate(c string) error {
	if c == "" {
		return nil
	}
	p.mu.Lock()
	p.nCands++
	n, remote := p.nCands, p.remote
	if !remote && n <= protocol.MaxDirectCandidates {
		p.pending = append(p.pending, c) // trickled ahead of the answer
	}
	p.mu.Unlock()
	if n > protocol.MaxDirectCandidates {
		return ErrFlood
	}
	if !remote {
		return nil
	}
	return p.addCandidate(c)
}

// addCandidate hands one candidate to ICE.
func (p *Peer) addCandidate(c string) error {
	zero := uint16(0)
	if err := p.pc.AddICECandidate(webrtc.ICECandidateInit{Candidate: c, SDPMLineIndex: &zero}); err != nil {
		return fmt.Errorf("%w: candidate: %v", ErrSignal, err)
	}
	return nil
}

// Open waits for the data channel, checks the peer's DTLS certificate
// against the fingerprint the sealed channel carried, exchanges the
// binding MACs, and returns the path as a FrameConn. On any failure the
// caller should Close the Peer; the session stays on the relay path.
func (p *Peer) Open(ctx context.Context) (transport.FrameConn, error) {
	var rw datachannel.ReadWriteCloserDeadliner
	select {
	case rw = <-p.opened:
	case <-p.lost:
		return nil, ErrLost
	case <-ctx.Done():
		return nil, fmt.Errorf("direct: the data channel did not open: %w", ctx.Err())
	}
	p.mu.Lock()
	peerFP := p.peerFP
	p.mu.Unlock()
	remote := p.pc.SCTP().Transport().GetRemoteCertificate()
	if len(remote) == 0 || !equalFP(Fingerprint(remote), peerFP) {
		rw.Close()
		return nil, ErrFingerprint
	}
	c := newFrameConn(rw, p)
	if err := c.bind(ctx, p.cfg.Exporter, p.cfg.Role, p.localFP, peerFP); err != nil {
		rw.Close()
		return nil, err
	}
	return c, nil
}

// Route describes the selected candidate pair, e.g. "host 127.0.0.1:5000 ↔
// host 127.0.0.1:6000"; empty before connectivity.
func (p *Peer) Route() string {
	pair, err := p.pc.SCTP().Transport().ICETransport().GetSelectedCandidatePair()
	if err != nil || pair == nil || pair.Local == nil || pair.Remote == nil {
		return ""
	}
	return fmt.Sprintf("%s %s:%d <-> %s %s:%d", pair.Local.Typ, pair.Local.Address, pair.Local.Port,
		pair.Remote.Typ, pair.Remote.Address, pair.Remote.Port)
}

// Close tears the peer connection down. It does not block for long.
func (p *Peer) Close() {
	if p.closed.Swap(true) {
		return
	}
	p.markLost()
	go p.pc.Close()
}
