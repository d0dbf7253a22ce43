package relay

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/audit"
	"github.com/tether-support/tether/internal/broker"
	"github.com/tether-support/tether/internal/cluster"
	"github.com/tether-support/tether/internal/identity"
	"github.com/tether-support/tether/internal/metrics"
	"github.com/tether-support/tether/internal/password"
	"github.com/tether-support/tether/internal/ratelimit"
	"github.com/tether-support/tether/internal/recstore"
	"github.com/tether-support/tether/internal/store"
	"github.com/tether-support/tether/internal/stunserver"
	"github.com/tether-support/tether/internal/tlsconf"
	"github.com/tether-support/tether/internal/transport"
	"github.com/tether-support/tether/internal/writeq"
)

// Server is a running relay. Create it with New; it is safe for concurrent
// use by the HTTP handlers it serves.
type Server struct {
	cfg      Config
	log      *slog.Logger
	db       store.Store
	hasher   *password.Hasher
	audit    *audit.Log
	org      string
	agents   *broker.Agents
	broker   *broker.Broker
	accounts *identity.Accounts
	limiter  *ratelimit.Limiter
	frameLog *broker.FrameLog
	// recs holds the recording files (the data directory or a bucket).
	recs    recstore.Store
	metrics *metrics.Relay
	// metricsAddr is the metrics listener's bound address (nil if none).
	metricsAddr net.Addr
	// conns caps connections before authentication (nil until Serve).
	conns *connLimiter
	// failures bounds the audit entries of unauthenticated failures.
	failures *failureLog
	// trust holds the trust documents; trustMu serialises changing them
	// on this relay (lockTrust adds the cluster's lock).
	trust   trustDocs
	trustMu sync.Mutex
	// certs is the TLS identity served and the rotation announced;
	// certMu serialises checkRotation, certErr is the last problem it
	// logged; served maps a connection in its handshake to its
	// *servedCert (certs.go).
	certs   atomic.Pointer[certState]
	certMu  sync.Mutex
	certErr string
	served  sync.Map
	// writes holds what live sessions record while the database is
	// unreachable (sessionwrites.go).
	writes *writeq.Queue
	// stun answers STUN Binding requests when configured (Serve runs
	// it); stunURLs go into every SessionInfo.
	stun     *stunserver.Server
	stunURLs []string
	// node, cstore and peer are the relay's cluster membership, the
	// shared store's cluster tables and the client of the other relays;
	// all nil for a relay alone (cluster.go).
	node   *cluster.Node
	cstore store.Cluster
	peer   *cluster.Peer
	// presence orders, per device, registering a control connection here
	// (and writing its presence row) against a peer's request to close
	// the older one (cluster_replace.go).
	presence deviceLocks

	shutdownOnce sync.Once
}

// New opens the data directory described by cfg.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger,
		hasher: password.NewHasher(password.DefaultParams, 0), agents: broker.NewAgents(), limiter: ratelimit.New(),
		metrics: metrics.New()}
	if err := s.loadCerts(); err != nil {
		return nil, err
	}
	db, err := openServeStore(&cfg)
	if err != nil {
		return nil, err
	}
	s.db = db
	s.trust = newTrustDocs(cfg.DataDir, db)
	s.failures = newFailureLog(cfg.Limits, s.appendAudit)
	if err := s.loadKeys(); err != nil {
		db.Close()
		return nil, err
	}
	s.accounts = identity.New(identity.Config{Throttle: cfg.Throttle, TokenIdle: cfg.TokenIdle, TokenLifetime: cfg.TokenLifetime,
		OnLockout: s.metrics.Lockout, Shared: usesDatabase(cfg.DataDir)},
		db, s.hasher, s.org, s.record, s.log)
	if err := s.migrateRecipientsPermission(); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate roles: %w", err)
	}
	if err := s.migrateTrustPermission(); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate roles: %w", err)
	}
	if err := s.migrateScreenPermissions(); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate roles: %w", err)
	}
	if err := s.migrateHoldPermission(); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate roles: %w", err)
	}
	if err := s.importTrustFiles(); err != nil {
		db.Close()
		return nil, err
	}
	if cfg.FrameLog != "" {
		if s.frameLog, err = broker.OpenFrameLog(cfg.FrameLog); err != nil {
			db.Close()
			return nil, err
		}
	}
	if s.recs, err = recstore.Open(context.Background(), cfg.RecordingsStore, recordingsDir(cfg.DataDir),
		recstore.S3Options{PartSize: cfg.RecordingsPartSize}); err != nil {
		db.Close()
		return nil, err
	}
	// Only a relay alone on its store can tell a crash's leftovers from
	// a live session's: on a shared database another relay may be
	// recording right now.
	if err := s.recoverRecordingsAlone(context.Background()); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.openCluster(); err != nil {
		db.Close()
		return nil, err
	}
	s.writes = s.newSessionWrites()
	s.broker = broker.New(cfg.brokerConfig(s.metrics, s.recs), queuedRecords{db: db, q: s.writes}, s.recordSession, s.log, s.frameLog)
	s.metrics.ObserveStoreWrites(func() metrics.StoreWrites {
		st := s.writes.Stats()
		return metrics.StoreWrites{Waiting: st.Queued, Dropped: st.Dropped}
	})
	s.metrics.Observe(func() metrics.Live { return metrics.Live{Agents: s.agents.Count(), Sessions: s.broker.Live()} })
	// A rotation made while the relay was stopped is announced, or
	// switched to if due, before the first connection.
	s.checkRotation()
	return s, nil
}

// loadKeys reads the audit keys (the head key from its file in the data
// directory) and the organisation name from the store.
func (s *Server) loadKeys() error {
	mac, signer, err := auditKeys(s.cfg.DataDir, s.db)
	if err != nil {
		return err
	}
	org, _ := s.db.GetMeta(metaOrg)
	s.org = string(org)
	s.audit = audit.New(s.db, mac, signer, time.Now)
	return nil
}

// Metrics returns the relay's collectors.
func (s *Server) Metrics() *metrics.Relay { return s.metrics }

// MetricsAddr returns the metrics listener's address once Serve has
// bound it, or nil when there is none.
func (s *Server) MetricsAddr() net.Addr { return s.metricsAddr }

// Handler returns the relay's HTTP handler.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, r := range s.routes() {
		if _, ok := api.Find(r.pattern); !ok {
			panic("relay: route " + r.pattern + " is not in api.Routes")
		}
		mux.Handle(r.pattern, s.limitBody(r))
	}
	return mux
}

// Serve listens on cfg.Listen and serves until ctx is cancelled, then ends
// every live session ("relay shutting down"), signs the audit chain head and
// closes the store. ready, if non-nil, is called with the bound address.
func (s *Server) Serve(ctx context.Context, ready func(addr net.Addr)) error {
	ml, err := s.listenMetrics()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		if ml != nil {
			ml.Close()
		}
		return fmt.Errorf("listen on %s: %w", s.cfg.Listen, err)
	}
	if err := s.startSTUN(); err != nil {
		ln.Close()
		if ml != nil {
			ml.Close()
		}
		return err
	}
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	if ml != nil {
		go func() {
			if err := ml.Serve(ctx); err != nil {
				s.log.Error("metrics listener", "err", err)
			}
		}()
	}
	if s.stun != nil {
		go s.stun.Serve()
		defer s.stun.Close()
	}
	lim := s.cfg.Limits
	s.conns = newConnLimiter(s.proxyListener(ln), lim, s.refusedConn)
	// The timeouts bound what a peer can hold with an HTTP request; a
	// WebSocket clears them when it takes over the connection
	// (transport.Accept) and follows its own keepalive from then on.
	srv := &http.Server{
		Handler:           s.Handler(),
		TLSConfig:         tlsconf.ServerConfigFunc(s.getCertificate),
		ReadHeaderTimeout: lim.ReadHeaderTimeout,
		ReadTimeout:       lim.ReadTimeout,
		WriteTimeout:      lim.WriteTimeout,
		IdleTimeout:       lim.IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ConnContext:       func(ctx context.Context, c net.Conn) context.Context { return s.trackServed(s.connContext(ctx, c), c) },
		ConnState:         s.connState,
	}
	s.requestClientCerts(srv.TLSConfig)
	leave, err := s.startCluster(ctx, ln.Addr())
	if err != nil {
		ln.Close()
		return err
	}
	hostDone := make(chan struct{})
	go s.serveHostSocket(ctx, s.openHostSocket(), hostDone)
	if ready != nil {
		ready(ln.Addr())
	}
	go s.signHeadPeriodically(ctx)
	go s.watchCerts(ctx)
	go s.pruneAuditDaily(ctx)
	go s.enforceRetentionDaily(ctx)
	go s.failures.run(ctx)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(tls.NewListener(transport.BatchListener(s.conns), srv.TLSConfig)) }()
	select {
	case err := <-errc:
		stop()
		<-hostDone
		s.Close()
		return err
	case <-ctx.Done():
	}
	s.broker.EndAll("relay shutting down")
	s.agents.CloseAll()
	sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	srv.Shutdown(sctx)
	<-hostDone
	leave()
	return s.Close()
}

// Close signs the audit head and closes the store; safe to call twice.
func (s *Server) Close() error {
	var err error
	s.shutdownOnce.Do(func() {
		s.writes.Close(storeFlushBound)
		s.failures.flush()
		if e := s.audit.SignHead(); e != nil {
			s.log.Error("sign audit head", "err", e)
		}
		if s.frameLog != nil {
			s.frameLog.Close()
		}
		err = s.db.Close()
	})
	return err
}

// signHeadPeriodically signs the audit chain head every minute.
func (s *Server) signHeadPeriodically(ctx context.Context) {
	every(ctx, time.Minute, func() {
		if err := s.audit.SignHead(); err != nil {
			s.log.Error("sign audit head", "err", err)
		}
	})
}

// every calls fn once per interval d until ctx ends.
func every(ctx context.Context, d time.Duration, fn func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn()
		}
	}
}

// pruneAuditDaily drops audit entries older than the retention, now and
// every day; the chain stays verifiable from a signed checkpoint.
func (s *Server) pruneAuditDaily(ctx context.Context) {
	for {
		n, err := s.audit.Prune(s.cfg.AuditRetention)
		if err != nil {
			s.log.Error("audit prune", "err", err)
		} else if n > 0 {
			s.log.Info("audit entries past retention pruned", "count", n)
			s.record(auditEvent("", "audit.prune", "", "success", "", "count", fmt.Sprint(n), "retention", s.cfg.AuditRetention.String()))
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(24 * time.Hour):
		}
	}
}

// record appends an audit event, logging (never failing the caller) on
// error. A failure of a peer that has not authenticated (no actor, a
// source) has its fields capped and goes through the failure log, which
// writes only the first few per source and window in full and summarises
// the rest (failureLog).
func (s *Server) record(e audit.Event) {
	if anonymousFailure(e) {
		if e = capEvent(e); !s.failures.note(e, true) {
			return
		}
	}
	s.appendAudit(e)
}

// appendAudit appends e, logging (never failing the caller) on error; the
// metrics time every append.
func (s *Server) appendAudit(e audit.Event) { s.tryAppendAudit(e) }

// tryAppendAudit is appendAudit returning the error it logged.
func (s *Server) tryAppendAudit(e audit.Event) error {
	t := time.Now()
	_, err := s.audit.Append(e)
	s.metrics.AuditAppended(time.Since(t), err != nil)
	if err != nil {
		s.log.Error("audit append failed", "action", e.Action, "err", err)
	}
	return err
}

// listenMetrics binds the metrics listener, if one is configured.
func (s *Server) listenMetrics() (*metrics.Listener, error) {
	if a := s.cfg.MetricsListen; a == "" || a == metrics.Off {
		return nil, nil
	}
	ml, err := metrics.Listen(s.cfg.MetricsListen, s.metrics, s.log)
	if err != nil {
		return nil, fmt.Errorf("%w (choose another --metrics-listen address, or --metrics-listen off)", err)
	}
	s.metricsAddr = ml.Addr()
	return ml, nil
}

// Initialized reports whether dir holds a relay database.
func Initialized(dir string) bool {
	if _, err := os.Stat(storeRecordPath(dir)); err == nil {
		return true
	}
	_, err := os.Stat(dbPath(dir))
	return err == nil
}

// MaxHeaderBytes bounds a request's header (request line included).
const MaxHeaderBytes = 16 << 10

// Now is the relay's clock (UTC).
func now() time.Time { return time.Now().UTC() }

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
