package broker

import (
	"log/slog"
	"sync"
	"time"

	"github.com/tether-support/tether/internal/audit"
	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/metrics"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/token"
	"github.com/tether-support/tether/internal/transport"
)

// Broker holds the live sessions. Safe for concurrent use.
type Broker struct {
	cfg      Config
	db       Records
	record   func(audit.Event)
	log      *slog.Logger
	frameLog *FrameLog
	usage    *usage // recording bytes per device, for the quota
	mu       sync.Mutex
	m        map[ids.SessionID]*Session
}

// New returns a broker with no sessions. Audit events go to record (which
// must not fail the caller), session and recording records to db.
func New(cfg Config, db Records, record func(audit.Event), log *slog.Logger, fl *FrameLog) *Broker {
	if cfg.Metrics == nil {
		cfg.Metrics = metrics.New()
	}
	return &Broker{cfg: cfg, db: db, record: record, log: log, frameLog: fl, usage: newUsage(), m: make(map[ids.SessionID]*Session)}
}

func (b *Broker) add(l *Session) {
	b.mu.Lock()
	b.m[l.Info.ID] = l
	b.mu.Unlock()
}

// Get returns the live session with that ID, or nil.
func (b *Broker) Get(id ids.SessionID) *Session {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.m[id]
}

func (b *Broker) remove(id ids.SessionID) {
	b.mu.Lock()
	delete(b.m, id)
	b.mu.Unlock()
}

// List returns the live sessions.
func (b *Broker) List() []*Session {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]*Session, 0, len(b.m))
	for _, l := range b.m {
		out = append(out, l)
	}
	return out
}

// EndAll ends every live session with reason (relay shutdown).
func (b *Broker) EndAll(reason string) {
	var wg sync.WaitGroup
	for _, l := range b.List() {
		wg.Add(1)
		go func() { defer wg.Done(); l.End(reason) }()
	}
	wg.Wait()
}

// Open registers a session whose technician side is c.
func (b *Broker) Open(info protocol.SessionInfo, c *transport.Conn, source string) (*Session, string) {
	attach, _ := token.New("ta_")
	l := &Session{b: b, Info: info, Source: source, tech: c, techOut: newOutbox(c), attachH: token.Hash(attach),
		attached: make(chan struct{}), done: make(chan struct{}), agentDone: make(chan struct{})}
	l.limit = time.AfterFunc(info.MaxDuration, func() { l.End("absolute session limit reached") })
	l.rec = b.newRecFile(l)
	b.add(l)
	b.cfg.Metrics.SessionOpened(metrics.PathRelay)
	return l, attach
}

// Live describes the live sessions for the metrics: each one's path and
// the capabilities granted in it so far.
func (b *Broker) Live() []metrics.LiveSession {
	sessions := b.List()
	out := make([]metrics.LiveSession, len(sessions))
	for i, l := range sessions {
		l.mu.Lock()
		out[i] = metrics.LiveSession{Path: metrics.PathRelay, Granted: l.granted}
		l.mu.Unlock()
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// now is the relay's clock (UTC).
func now() time.Time { return time.Now().UTC() }
