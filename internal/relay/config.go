// Package relay is Tether's server: it authenticates technicians and
// devices, brokers sessions between them, forwards end-to-end ciphertext it
// cannot read, and keeps the hash-chained audit log. The relay binary only
// parses flags into a Config and calls New and Serve.
//
// This package is the HTTP side and the wiring: the TLS listener and its
// connection caps, the route table with the permission each route needs,
// request bodies and their limits, the handlers, the audit log's writer,
// and the data directory's set-up and host-side commands (Init, Bootstrap,
// UnlockUser, EmergencyAccess, VerifyAudit). What a handler decides is in
// two packages it calls, which do not import each other:
//
//   - identity: who a person is and what they may do (sign-in, throttles,
//     lockout, second factors, policies, roles and permissions);
//   - broker: the live sessions between a technician and a device, the
//     devices online, the recording intake and its quotas.
//
// What lives only in this process besides the broker's state: the
// request pacing (ratelimit), the connection caps, the bounded log of
// unauthenticated failures, the audit head's signing schedule and the TLS
// identity on local disk.
//
// The principal a request is served as stays here: it is the HTTP
// request's authenticated caller (the user, the sign-in token that
// carried it, its permissions, its source address and any limit to a
// password change), built by authenticate and handed to every handler.
// identity decides what goes into it (the user, its permissions, whether
// an emergency grant holds); relay assembles it per request, and keeping
// it here keeps identity free of the handlers' shape.
package relay

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"path/filepath"
	"time"

	"github.com/tether-support/tether/internal/broker"
	"github.com/tether-support/tether/internal/identity"
	"github.com/tether-support/tether/internal/metrics"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/recstore"
	"github.com/tether-support/tether/internal/stunserver"
)

// Quota defaults. The recording quotas derive from a generous rate of
// terminal output: DefaultRecordingRate for a whole session limit
// (Config.MaxSession) per session, and for 24 hours per device.
const (
	// DefaultRecordingRate is the output rate the default recording quotas
	// are derived from: 16 KiB/s, sustained, is far more than a person
	// reads; recordings are compressed as well.
	DefaultRecordingRate = 16 << 10
	// DeviceQuotaWindow is the rolling window of the per-device quota.
	DeviceQuotaWindow = broker.DeviceQuotaWindow
	// DefaultControlRate is how many control messages per second one side
	// of a session may send on average, and DefaultControlBurst how many at
	// once.
	DefaultControlRate  = 20
	DefaultControlBurst = 200
	// minControlSize is the smallest control-message limit that still
	// fits every message the agent and tech send.
	minControlSize = 4 << 10
)

// Throttle holds the relay's limits on failed sign-ins and join attempts
// (see identity.Throttle).
type Throttle = identity.Throttle

// Config configures a relay. The zero value is not valid; call Validate (New
// does) after setting DataDir.
type Config struct {
	// DataDir holds the bbolt database, the TLS key and certificate.
	DataDir string
	// Listen is the TCP address to serve on; default "127.0.0.1:8443".
	Listen string
	// Limits bounds unauthenticated peers; zero fields take DefaultLimits.
	Limits Limits
	// IdleTimeout ends a session with no human input for this long;
	// default protocol.DefaultIdleTimeout. Enforced by the agent, which alone
	// sees the plaintext input.
	IdleTimeout time.Duration
	// MaxSession is the absolute limit on a session; default 12 h.
	MaxSession time.Duration
	// TokenIdle is how long a login token lives without use; default 15 min.
	TokenIdle time.Duration
	// TokenLifetime is a login token's absolute lifetime; default 12 h.
	TokenLifetime time.Duration
	// AuditRetention is how long audit entries are kept; older ones are
	// pruned daily behind a signed checkpoint. Default 365 days.
	AuditRetention time.Duration
	// RetentionInterval is how often the retention job deletes the
	// recordings and session records older than the organisations'
	// RetentionDays; default DefaultRetentionInterval (daily).
	RetentionInterval time.Duration
	// RetentionClockSkew moves the retention job's clock ahead; zero but
	// in tests, which thereby age what they made without waiting.
	RetentionClockSkew time.Duration
	// RecordingsStore is where recordings are kept: "" for the data
	// directory's recordings/, or s3://BUCKET/PREFIX?endpoint=HOST:PORT
	// (see recstore.ParseS3URL; credentials from the environment).
	RecordingsStore string
	// RecordingsPartSize is the object store's multipart part size; zero
	// takes recstore.DefaultPartSize. Tests set recstore.MinPartSize.
	RecordingsPartSize int64
	// FrameLog, when set, appends every frame the relay forwards to this
	// file (4-byte big-endian length, then the frame). It is a diagnostic
	// that shows exactly what the relay sees: only ciphertext.
	FrameLog string
	// Throttle limits failed sign-ins and join attempts; zero fields take
	// DefaultThrottle's values.
	Throttle Throttle
	// Logger receives structured logs; default slog.Default().
	Logger *slog.Logger
	// StoreTimeout bounds each database transaction and StoreConnectTimeout
	// each connection attempt (PostgreSQL only); defaults
	// DefaultStoreTimeout and DefaultStoreConnectTimeout. StoreRetry is
	// how often a session's records, kept in memory while the database is
	// unreachable, are tried again; default DefaultStoreRetry.
	StoreTimeout        time.Duration
	StoreConnectTimeout time.Duration
	StoreRetry          time.Duration
	// SessionRecordingQuota is the most recording bytes one session may
	// store; default DefaultRecordingRate × MaxSession (675 MiB for 12 h).
	SessionRecordingQuota int64
	// DeviceRecordingQuota is the most recording bytes one device's
	// sessions may store in any DeviceQuotaWindow (24 h); default
	// DefaultRecordingRate × 24 h (1.32 GiB).
	DeviceRecordingQuota int64
	// ControlMaxSize is the largest control message a session's peer may
	// send; default (and at most) protocol.MaxControlSize.
	ControlMaxSize int
	// ControlRate and ControlBurst bound how fast each side of a session
	// may send control messages (per second, and at once); defaults
	// DefaultControlRate and DefaultControlBurst.
	ControlRate  float64
	ControlBurst int
	// CertCheck is how often the relay looks for a certificate rotation
	// (`relay cert rotate`) in its data directory; default
	// DefaultCertCheck.
	CertCheck time.Duration
	// MetricsListen is where Prometheus metrics are served over plain
	// HTTP (metrics.Path); "" or metrics.Off serves none. A non-loopback
	// address needs MetricsAllowRemote.
	MetricsListen      string
	MetricsAllowRemote bool
	// STUNListen, when set, is the UDP address the relay answers STUN
	// Binding requests on (stunserver), so that session peers learn their
	// reflexive addresses for the direct path; default off.
	STUNListen string
	// STUNURL is the `stun:HOST:PORT` peers are told (SessionInfo.STUN);
	// default derived from STUNListen, or from Listen's host when
	// STUNListen's is unspecified (see stunURL).
	STUNURL string
	// STUNLimits bound the STUN answers; zero fields take
	// stunserver.DefaultLimits.
	STUNLimits stunserver.Limits
	// Advertise is the https://HOST:PORT other relays of a cluster reach
	// this one at (only with a shared store); default from Listen (see
	// cluster.DefaultAdvertise).
	Advertise string
	// ClusterHeartbeat is how often the relay writes its heartbeat in a
	// shared store and sweeps dead relays; default
	// cluster.DefaultHeartbeat. A relay missing 5 heartbeats is dead.
	ClusterHeartbeat time.Duration
	// ProxyProtocolFrom lists the TCP load balancers whose connections
	// start with a PROXY protocol header (proxyproto): the client address
	// in it is the connection's source for every per-address limit, the
	// audit log and the logs. Empty: no header is read from anyone.
	ProxyProtocolFrom []netip.Prefix
}

// DefaultCertCheck is Config.CertCheck's default.
const DefaultCertCheck = 10 * time.Second

// Validate fills defaults and checks the configuration.
func (c *Config) Validate() error {
	if c.DataDir == "" {
		return errors.New("relay: no data directory given (--data DIR)")
	}
	if c.Listen == "" {
		c.Listen = "127.0.0.1:8443"
	}
	if err := c.validateSTUN(); err != nil {
		return err
	}
	if c.CertCheck <= 0 {
		c.CertCheck = DefaultCertCheck
	}
	if err := c.validateCluster(); err != nil {
		return err
	}
	if err := c.Limits.fill(); err != nil {
		return err
	}
	if c.RecordingsStore != "" {
		if _, err := recstore.ParseS3URL(c.RecordingsStore); err != nil {
			return err
		}
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = protocol.DefaultIdleTimeout
	}
	if err := c.fillStoreTimeouts(); err != nil {
		return err
	}
	if c.MaxSession == 0 {
		c.MaxSession = protocol.DefaultMaxSession
	}
	if c.TokenIdle == 0 {
		c.TokenIdle = 15 * time.Minute
	}
	if c.TokenLifetime == 0 {
		c.TokenLifetime = 12 * time.Hour
	}
	for name, d := range map[string]time.Duration{"idle timeout": c.IdleTimeout, "session limit": c.MaxSession, "token idle time": c.TokenIdle, "token lifetime": c.TokenLifetime} {
		if d < time.Second {
			return fmt.Errorf("relay: %s %v is too short (at least 1s)", name, d)
		}
	}
	if c.AuditRetention == 0 {
		c.AuditRetention = 365 * 24 * time.Hour
	}
	if c.AuditRetention < 24*time.Hour {
		return fmt.Errorf("relay: audit retention %v is too short (at least 24h)", c.AuditRetention)
	}
	if c.RetentionInterval == 0 {
		c.RetentionInterval = DefaultRetentionInterval
	}
	if c.RetentionInterval < 10*time.Millisecond || c.RetentionClockSkew < 0 {
		return fmt.Errorf("relay: retention interval %v is too short", c.RetentionInterval)
	}
	if err := c.Throttle.Fill(); err != nil {
		return err
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.MetricsListen != "" && c.MetricsListen != metrics.Off {
		if err := metrics.CheckListen(c.MetricsListen, c.MetricsAllowRemote); err != nil {
			return err
		}
	}
	return c.validateQuotas()
}

// validateQuotas fills the quota defaults and checks them.
func (c *Config) validateQuotas() error {
	if c.SessionRecordingQuota == 0 {
		c.SessionRecordingQuota = DefaultRecordingRate * int64(c.MaxSession/time.Second)
	}
	if c.DeviceRecordingQuota == 0 {
		c.DeviceRecordingQuota = DefaultRecordingRate * int64(DeviceQuotaWindow/time.Second)
	}
	if c.ControlMaxSize == 0 {
		c.ControlMaxSize = protocol.MaxControlSize
	}
	if c.ControlRate == 0 {
		c.ControlRate = DefaultControlRate
	}
	if c.ControlBurst == 0 {
		c.ControlBurst = DefaultControlBurst
	}
	switch {
	case c.SessionRecordingQuota < 0 || c.DeviceRecordingQuota < 0:
		return errors.New("relay: recording quotas must be positive")
	case c.ControlMaxSize < minControlSize || c.ControlMaxSize > protocol.MaxControlSize:
		return fmt.Errorf("relay: control message limit %d is outside %d..%d bytes", c.ControlMaxSize, minControlSize, protocol.MaxControlSize)
	case c.ControlRate < 1 || c.ControlBurst < 1:
		return errors.New("relay: the control rate must be at least 1 per second and the burst at least 1")
	}
	return nil
}

// Paths inside the data directory.
func dbPath(dir string) string        { return filepath.Join(dir, "relay.db") }
func tlsDir(dir string) string        { return filepath.Join(dir, "tls") }
func bootstrapPath(dir string) string { return filepath.Join(dir, "initial-admin-password") }

// recordingsDir is where the relay keeps recording files.
func recordingsDir(dir string) string { return filepath.Join(dir, "recordings") }

// brokerConfig is the part of c that bounds a brokered session.
func (c *Config) brokerConfig(m *metrics.Relay, recs recstore.Store) broker.Config {
	return broker.Config{Recordings: recs, SessionRecordingQuota: c.SessionRecordingQuota,
		DeviceRecordingQuota: c.DeviceRecordingQuota, ControlMaxSize: c.ControlMaxSize, ControlRate: c.ControlRate,
		ControlBurst: c.ControlBurst, Metrics: m}
}
