package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tether-support/tether/internal/cli"
	"github.com/tether-support/tether/internal/cluster"
	"github.com/tether-support/tether/internal/logging"
	"github.com/tether-support/tether/internal/metrics"
	"github.com/tether-support/tether/internal/proxyproto"
	"github.com/tether-support/tether/internal/relay"
	"github.com/tether-support/tether/internal/sdnotify"
)

func newServeCmd() *cobra.Command {
	var cfg relay.Config
	var logLevel, logFormat, testLimits, proxyFrom string
	cmd := &cobra.Command{
		Use:   "serve --data DIR [--listen ADDR]",
		Short: "Serve HTTPS and WebSocket for technicians and agents",
		Long: `serve runs the relay. An empty or missing data directory is initialised
first (self-signed TLS, a superadmin "admin" whose one-time password is written
to DIR/initial-admin-password with mode 0600), and the next steps are printed.
/healthz answers 200 while the process is up, /readyz 200 while its store answers.
While it serves, 'relay backup' asks it for a consistent snapshot over the Unix
socket DIR/host.sock (0600), and a retention job deletes recordings and session
records past the policy's retention (--retention-interval) except those on legal
hold. Recordings are kept in DIR/recordings, or with --recordings-store in an
S3-compatible bucket that must exist (checked at start; keys from the
environment or a credentials file, never the command line). Prometheus metrics
are served over plain HTTP on a separate listener, --metrics-listen (loopback
by default; "off" disables it; a non-loopback address needs
--metrics-allow-remote).

With --stun-listen the relay also answers STUN Binding requests on that UDP
address (and nothing else: no TURN), rate-limited per source, so that a
technician and a device can learn their public addresses and try a direct
path; sessions then tell both sides the STUN URL (--stun-url, by default the
listen address, which must then be a specific one).

With the state in PostgreSQL, a database that is down or unreachable is
reported within --store-connect-timeout: new sign-ins, requests and sessions
are refused with "the database is unreachable" (503) and /readyz answers 503,
while running sessions go on; what they record (audit entries, session state,
files moved, recordings index) waits in memory in order and is written when
the database answers again (tried every --store-retry). The relay recovers by
itself; a relay stopped during the outage tries once more for 5 s, and one
killed outright loses what was still waiting.

With the state in PostgreSQL the relay is one of a cluster: every relay of the
database serves the same TLS key (relay cluster export/join), registers itself
with the URL the others reach it at (--advertise) and a heartbeat
(--cluster-heartbeat), and forwards session offers, agent connections and kills
to the relay that holds the device or the session, so a technician and a device
connected to different relays just work. See relay cluster status.

Behind a TCP load balancer that sends the PROXY protocol (HAProxy
send-proxy-v2), list its addresses with --proxy-protocol-from: connections from
them must start with the header (closed otherwise, within 5 s) and are served as
the client address it names, so per-address sign-in throttles, connection caps
and the audit log see each client, not the balancer. A header from any other
address is refused and logged.`,
		Example: `  relay serve --data ./tether-data
  relay serve --data /var/lib/tether --listen 0.0.0.0:8443 --idle-timeout 10m
  relay serve --data /var/lib/tether --recording-quota-session 104857600 --control-rate 5
  relay serve --data /var/lib/tether --log-format json --metrics-listen 127.0.0.1:9464
  relay serve --data /var/lib/tether --listen 0.0.0.0:8443 --stun-listen 0.0.0.0:3478 --stun-url stun:relay.example.org:3478
  relay serve --data /var/lib/tether --store-file /etc/tether/store-url   # state in PostgreSQL
  relay serve --data /var/lib/tether --store-file /etc/tether/store-url --store-connect-timeout 1s --store-timeout 3s
  relay serve --data /var/lib/tether --listen 0.0.0.0:8443 --advertise https://relay2.internal:8443   # one relay of a cluster
  relay serve --data /var/lib/tether --listen 0.0.0.0:8443 --proxy-protocol-from 10.0.1.5/32,10.0.1.6/32   # behind HAProxy send-proxy-v2
  relay serve --data /var/lib/tether --recordings-store \
      's3://tether-recordings/relay1?endpoint=s3.example.net:443&region=eu-west-1&credentials-file=/etc/tether/s3-credentials'`,
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if cfg.Logger, err = logging.New(cmd.ErrOrStderr(), logFormat, logLevel); err != nil {
				return err
			}
			if cfg.ProxyProtocolFrom, err = proxyproto.ParsePrefixes(proxyFrom); err != nil {
				return fmt.Errorf("--proxy-protocol-from: %w", err)
			}
			if testLimits != "" {
				if cfg.Limits, err = relay.ParseLimits(testLimits); err != nil {
					return err
				}
			}
			// Bad flags are refused before a data directory is made.
			if err := cfg.Validate(); err != nil {
				return err
			}
			fresh, err := relay.Bootstrap(cmd.Context(), cfg.DataDir)
			if err != nil {
				return err
			}
			s, err := relay.New(cfg)
			if err != nil {
				return err
			}
			go notifyStopping(cmd.Context(), cfg.Logger)
			return s.Serve(cmd.Context(), func(addr net.Addr) {
				printReady(cmd, cfg.DataDir, addr, s.Fingerprint(), fresh)
				if m := s.MetricsAddr(); m != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "Metrics on http://%s%s\n", m, metrics.Path)
				}
				if a, ok := s.STUNAddr(); ok {
					fmt.Fprintf(cmd.ErrOrStderr(), "STUN answering on udp %s; session peers are told %s\n", a, strings.Join(s.STUNURLs(), " "))
				}
				notify(cfg.Logger, sdnotify.Ready)
			})
		},
	}
	f := cmd.Flags()
	// Tests only: shorter HTTP timeouts, smaller connection caps and audit
	// windows ("read=2s,per-source=8,..."; see relay.ParseLimits).
	f.StringVar(&testLimits, "test-limits", "", "testing only: override the relay's limits")
	f.MarkHidden("test-limits")
	f.StringVar(&cfg.DataDir, "data", "", "data directory (created and initialised if empty or missing)")
	f.StringVar(&cfg.Listen, "listen", "127.0.0.1:8443", "address to listen on")
	f.DurationVar(&cfg.IdleTimeout, "idle-timeout", 15*time.Minute, "end a session after this long without input from the technician")
	f.DurationVar(&cfg.MaxSession, "max-session", 12*time.Hour, "absolute limit on a session's length")
	f.DurationVar(&cfg.TokenIdle, "token-idle", 15*time.Minute, "sign technicians out after this long without use")
	f.DurationVar(&cfg.TokenLifetime, "token-lifetime", 12*time.Hour, "absolute lifetime of a sign-in")
	f.DurationVar(&cfg.AuditRetention, "audit-retention", 365*24*time.Hour, "keep audit entries this long (HIPAA documentation rules may call for 6 years: 52560h)")
	f.DurationVar(&cfg.RetentionInterval, "retention-interval", relay.DefaultRetentionInterval, "how often recordings and session records older than the policy's retention are deleted (those on legal hold are kept)")
	// Tests only: age everything by this much for the retention job.
	f.DurationVar(&cfg.RetentionClockSkew, "test-retention-skew", 0, "testing only: move the retention job's clock ahead")
	f.MarkHidden("test-retention-skew")
	f.StringVar(&cfg.RecordingsStore, "recordings-store", "", "keep recordings in an S3-compatible bucket: s3://BUCKET/PREFIX?endpoint=HOST:PORT&region=R (credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or credentials-file=PATH; default: DIR/recordings)")
	// Tests only: a multipart part size smaller than the default (at least
	// S3's 5 MiB minimum), so that tests upload less.
	f.Int64Var(&cfg.RecordingsPartSize, "test-recordings-part-size", 0, "testing only: the recordings store's multipart part size")
	f.MarkHidden("test-recordings-part-size")
	f.DurationVar(&cfg.StoreTimeout, "store-timeout", relay.DefaultStoreTimeout, "PostgreSQL: bound on each database transaction")
	f.DurationVar(&cfg.StoreConnectTimeout, "store-connect-timeout", relay.DefaultStoreConnectTimeout, "PostgreSQL: bound on each connection attempt (a database that is down is reported after this long)")
	f.DurationVar(&cfg.StoreRetry, "store-retry", relay.DefaultStoreRetry, "how often records of running sessions, kept in memory while the database is unreachable, are written again")
	f.StringVar(&cfg.FrameLog, "frame-log", "", "diagnostic: append every forwarded frame (what the relay sees) to FILE")
	f.Int64Var(&cfg.SessionRecordingQuota, "recording-quota-session", 0, "most recording bytes one session may store; the session ends when it would exceed them (default 16 KiB/s × --max-session: 707788800 for 12h)")
	f.Int64Var(&cfg.DeviceRecordingQuota, "recording-quota-device", 0, "most recording bytes one device's sessions may store in any 24 hours (default 16 KiB/s × 24h: 1415577600)")
	f.IntVar(&cfg.ControlMaxSize, "control-max-size", 16<<10, "largest control message a session's peer may send, in bytes (4096..16384)")
	f.Float64Var(&cfg.ControlRate, "control-rate", relay.DefaultControlRate, "control messages per second each side of a session may send on average (at least 1); beyond it the agent's file reports are slowed, anything else ends the session")
	f.IntVar(&cfg.ControlBurst, "control-burst", relay.DefaultControlBurst, "control messages each side of a session may send at once")
	f.StringVar(&cfg.STUNListen, "stun-listen", "", "UDP address to answer STUN Binding requests on, for the direct path (e.g. 0.0.0.0:3478; default off)")
	f.StringVar(&cfg.STUNURL, "stun-url", "", "the STUN URL sessions tell peers, stun:HOST:PORT (default from --stun-listen, or --listen's host with its port)")
	f.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	f.StringVar(&logFormat, "log-format", logging.FormatText, "text or json (one JSON object a line, for log collectors)")
	f.StringVar(&cfg.MetricsListen, "metrics-listen", metrics.DefaultListen, `serve Prometheus metrics (plain HTTP, GET /metrics) on ADDR; "off" disables`)
	f.BoolVar(&cfg.MetricsAllowRemote, "metrics-allow-remote", false, "allow a non-loopback --metrics-listen address (it has no TLS or sign-in: firewall it)")
	f.StringVar(&cfg.Advertise, "advertise", "", "with a shared (PostgreSQL) store: the https://HOST:PORT the cluster's other relays reach this one at (default https://LISTEN-ADDR, or https://HOSTNAME:PORT when --listen's host is unspecified)")
	f.StringVar(&proxyFrom, "proxy-protocol-from", "", "CIDR[,CIDR...] of TCP load balancers that send a PROXY protocol header (v1 or v2, HAProxy send-proxy-v2); connections from them must start with one and are served as the client address in it (default: none)")
	f.DurationVar(&cfg.ClusterHeartbeat, "cluster-heartbeat", cluster.DefaultHeartbeat, "with a shared store: how often this relay writes its heartbeat and sweeps dead relays; a relay missing 5 heartbeats is dead (its sessions end, its agents reconnect elsewhere)")
	// Tests only: look for a certificate rotation more often.
	f.DurationVar(&cfg.CertCheck, "cert-check", relay.DefaultCertCheck, "testing only: how often to look for a certificate rotation")
	f.MarkHidden("cert-check")
	throttleFlags(cmd, &cfg.Throttle)
	cmd.MarkFlagRequired("data")
	return cmd
}

// throttleFlags adds hidden flags that override the sign-in and join
// throttles. They exist so that tests can use short windows; the defaults
// are the normative values of PROTOCOL.md.
func throttleFlags(cmd *cobra.Command, t *relay.Throttle) {
	f := cmd.Flags()
	ints := map[string]*int{"throttle-source-failures": &t.SourceFailures, "throttle-account-free": &t.AccountFree,
		"throttle-global-failures": &t.GlobalFailures, "throttle-join-failures": &t.JoinFailures}
	durs := map[string]*time.Duration{"throttle-source-window": &t.SourceWindow, "throttle-account-delay": &t.AccountDelay,
		"throttle-account-max-delay": &t.AccountMaxDelay, "throttle-account-memory": &t.AccountMemory,
		"throttle-global-window": &t.GlobalWindow, "throttle-known-ttl": &t.KnownSourceTTL, "throttle-join-window": &t.JoinWindow}
	for name, v := range ints {
		f.IntVar(v, name, 0, "test only: see PROTOCOL.md")
		f.MarkHidden(name)
	}
	for name, v := range durs {
		f.DurationVar(v, name, 0, "test only: see PROTOCOL.md")
		f.MarkHidden(name)
	}
}

// printReady tells the operator what to run next.
func printReady(cmd *cobra.Command, dir string, addr net.Addr, fp string, fresh bool) {
	w := cmd.ErrOrStderr()
	fmt.Fprintf(w, "Tether relay listening on https://%s\nCertificate fingerprint: %s\n", addr, fp)
	if fresh {
		fmt.Fprintf(w, `
New data directory %[1]s initialised with superadmin "admin".
Its one-time password is in %[1]s/initial-admin-password (mode 0600); it must be changed at the first sign-in.
Next, in another terminal:
  tech login --relay https://%[2]s --user admin --ca-fingerprint %[3]s --password-stdin < %[1]s/initial-admin-password
  tech passwd                                    # current (that file's), then your new password
  tech devices enroll-token                      # then on the device: agent enroll --relay https://%[2]s --token <token>
`, dir, addr, fp)
		fmt.Fprint(w, recipientHint)
	}
}

// notify tells systemd (Type=notify units) the relay's state; without
// $NOTIFY_SOCKET it does nothing.
func notify(log *slog.Logger, state string) {
	if err := sdnotify.Notify(state); err != nil {
		log.Warn("cannot notify the service manager", "err", err)
	}
}

// notifyStopping tells systemd that the relay is shutting down once ctx
// (SIGTERM, SIGINT) ends.
func notifyStopping(ctx context.Context, log *slog.Logger) {
	<-ctx.Done()
	notify(log, sdnotify.Stopping)
}
