package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Path is where the metrics listener serves the text exposition format.
const Path = "/metrics"

// DefaultListen is the metrics listener's default address: loopback only.
const DefaultListen = "127.0.0.1:9464"

// Off is the --metrics-listen value that disables the listener.
const Off = "off"

// CheckListen refuses an address that is not loopback unless allowRemote:
// the listener is plain HTTP without authentication, so exposing it is a
// decision the operator makes explicitly. A host name other than
// "localhost" is refused too (it could resolve to anything).
func CheckListen(addr string, allowRemote bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("metrics listen address %q: %w (use HOST:PORT, e.g. %s, or %q)", addr, err, DefaultListen, Off)
	}
	if allowRemote || host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("metrics listen address %q is not loopback: the metrics listener has no TLS or sign-in; "+
		"add --metrics-allow-remote to serve it there anyway (behind a firewall or a scraping proxy)", addr)
}

// Listener serves Path for one Relay on its own plain-HTTP listener.
type Listener struct {
	ln  net.Listener
	srv *http.Server
}

// Listen binds addr for m's metrics; Serve then serves them.
func Listen(addr string, m *Relay, log *slog.Logger) (*Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: listen on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+Path, promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:            slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		MaxRequestsInFlight: 4,
		Timeout:             10 * time.Second,
	}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 20 * time.Second, IdleTimeout: time.Minute, MaxHeaderBytes: 8 << 10,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
	return &Listener{ln: ln, srv: srv}, nil
}

// Close releases a listener that will not Serve.
func (l *Listener) Close() error { return l.ln.Close() }

// Addr is the bound address.
func (l *Listener) Addr() net.Addr { return l.ln.Addr() }

// Serve serves until ctx ends, then shuts the listener down.
func (l *Listener) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- l.srv.Serve(l.ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := l.srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}
