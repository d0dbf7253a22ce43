package transport

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/tlsconf"
)

// Endpoint says how to reach and trust the relay.
type Endpoint struct {
	// URL is the relay's base URL, "https://host:port".
	URL string
	// Pin is the relay's "SHA256:<hex>" public-key fingerprint. Empty means
	// trust on first use: OnFirstUse is called with the fingerprint seen.
	Pin string
	// OnFirstUse is called when Pin is empty, with the fingerprint presented.
	OnFirstUse func(fingerprint string)
	// NextPin is the relay's announced next fingerprint during a
	// certificate rotation, or "": the relay is accepted with either pin.
	NextPin string
	// OnNextPin is called when the relay presented NextPin (the rotation
	// is done): the caller makes it the pin and drops the old one.
	OnNextPin func(fingerprint string)
	// Token is a login token sent as "Authorization: Bearer"; may be empty.
	Token string
	// LocalAddr, if set, is the local address connections are made from
	// (a load generator spreads them over 127.0.0.0/8); nil lets the system
	// choose.
	LocalAddr net.Addr
	// ClientCert, if set, is presented to the relay as a client
	// certificate (relay-to-relay requests present the cluster's).
	ClientCert *tls.Certificate
	// Header holds extra request headers for Dial.
	Header http.Header
}

// ParseRelayURL validates a relay URL and returns it normalised to
// "https://host:port" (no path). "wss://" is accepted as a synonym.
func ParseRelayURL(s string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("relay URL %q is not of the form https://HOST:PORT", s)
	}
	switch u.Scheme {
	case "https", "wss":
	default:
		return "", fmt.Errorf("relay URL %q must start with https:// (Tether never talks to a relay without TLS)", s)
	}
	return "https://" + u.Host, nil
}

// HTTPClient returns an HTTP client that trusts only the pinned relay.
func (e Endpoint) HTTPClient() *http.Client {
	return &http.Client{Transport: e.httpTransport(), Timeout: 0}
}

func (e Endpoint) httpTransport() *http.Transport {
	tr := &http.Transport{
		TLSClientConfig:     tlsconf.PinnedConfig(tlsconf.Pins{Current: e.Pin, Next: e.NextPin, OnFirstUse: e.OnFirstUse, OnNext: e.OnNextPin}),
		ForceAttemptHTTP2:   false,
		TLSHandshakeTimeout: 10 * time.Second,
		MaxIdleConns:        4,
		IdleConnTimeout:     30 * time.Second,
	}
	tr.TLSClientConfig.NextProtos = []string{"http/1.1"}
	if e.ClientCert != nil {
		cert := e.ClientCert
		tr.TLSClientConfig.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
	}
	if e.LocalAddr != nil {
		d := net.Dialer{LocalAddr: e.LocalAddr}
		tr.DialContext = d.DialContext
	}
	return tr
}

// Dial opens a WebSocket to path on the relay. Its connection is a
// batchConn over TLS over a batchConn, so that each frame is one TLS write,
// in records as large as TLS allows, and leaves in one system call
// (coder/websocket writes a client's message in masked 4 KiB pieces, each
// of which would otherwise be a record of its own, and a read of its own on
// the relay).
func Dial(ctx context.Context, e Endpoint, path string) (*Conn, error) {
	u := strings.Replace(e.URL, "https://", "wss://", 1) + path
	h := e.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	if e.Token != "" {
		h.Set("Authorization", "Bearer "+e.Token)
	}
	tr := e.httpTransport()
	tr.MaxIdleConns = 0
	var bc *batchConn
	d := net.Dialer{LocalAddr: e.LocalAddr}
	tr.DialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		cfg := tr.TLSClientConfig.Clone()
		if cfg.ServerName == "" {
			cfg.ServerName, _, _ = net.SplitHostPort(addr)
		}
		under := &batchConn{Conn: c}
		tc := tls.Client(under, cfg)
		hctx, cancel := context.WithTimeout(ctx, tr.TLSHandshakeTimeout)
		defer cancel()
		if err := tc.HandshakeContext(hctx); err != nil {
			c.Close()
			return nil, err
		}
		bc = &batchConn{Conn: tc, under: under}
		return bc, nil
	}
	ws, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{
		HTTPClient:      &http.Client{Transport: tr},
		HTTPHeader:      h,
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		return nil, DialError(e.URL, resp, err)
	}
	c := newConn(ws, bc)
	if resp != nil {
		c.header = resp.Header
	}
	return c, nil
}

// DialError turns a failed request into one clear error: a pin mismatch, a
// refusal with the relay's own message, a connection the relay closed
// without answering, or a connection failure.
func DialError(relay string, resp *http.Response, err error) error {
	var pe *tlsconf.PinError
	if errors.As(err, &pe) {
		return pe
	}
	if resp != nil && resp.StatusCode >= 400 {
		return ResponseError(resp)
	}
	var te *tls.CertificateVerificationError
	if errors.As(err, &te) {
		return fmt.Errorf("relay %s: TLS verification failed: %w", relay, err)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		// The relay gives up on a request it cannot answer within its
		// write timeout by closing the connection.
		return fmt.Errorf("relay %s closed the connection without answering (busy, restarting, or over its write timeout; try again): %w", relay, err)
	}
	return fmt.Errorf("cannot reach relay %s: %w", relay, err)
}

// ResponseError reads the relay's JSON error body {"error","hint"}.
func ResponseError(resp *http.Response) error {
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 8192))
	var body api.Error
	if json.Unmarshal(b, &body) == nil && body.Error != "" {
		return &HTTPError{Status: resp.StatusCode, Message: body.Error, Hint: body.Hint}
	}
	return &HTTPError{Status: resp.StatusCode, Message: strings.TrimSpace(http.StatusText(resp.StatusCode))}
}

// HTTPError is a refusal from the relay's HTTP API.
type HTTPError struct {
	Status  int
	Message string
	Hint    string
}

// Error returns the relay's message.
func (e *HTTPError) Error() string { return e.Message }
