package identity

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/tether-support/tether/internal/apierr"
	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/store"
	"github.com/tether-support/tether/internal/username"
)

// Throttle holds the relay's limits on failed sign-ins and join attempts.
// The counters live in the store, so a restart does not reset them. Zero
// fields take the defaults below (the normative values of PROTOCOL.md);
// tests shorten them with hidden `relay serve` flags.
type Throttle struct {
	// SourceFailures failed sign-ins from one source (an IPv4 address or an
	// IPv6 /64) within SourceWindow refuse its further sign-ins until the
	// window ends. Default 30 per 15 min.
	SourceFailures int
	SourceWindow   time.Duration
	// AccountFree failed sign-ins to one account name are admitted back to
	// back; after that the name backs off: the next attempt from a source
	// that has not signed in to the account waits AccountDelay, doubling with
	// each further failure up to AccountMaxDelay. The series ends
	// AccountMemory after its last failure. Defaults 2, 1 min, 30 min, 24 h.
	AccountFree     int
	AccountDelay    time.Duration
	AccountMaxDelay time.Duration
	AccountMemory   time.Duration
	// GlobalFailures failed sign-ins across all sources within GlobalWindow
	// refuse sign-ins from sources not known for the account until the
	// window ends. Default 60 per minute.
	GlobalFailures int
	GlobalWindow   time.Duration
	// KnownSourceTTL is how long a source stays known for an account after
	// a successful sign-in from it; at most knownPerUser are kept. Default
	// 30 days.
	KnownSourceTTL time.Duration
	// JoinFailures failed join attempts from one source within JoinWindow
	// refuse its further join attempts until the window ends. Default 10
	// per 10 min.
	JoinFailures int
	JoinWindow   time.Duration
}

// knownPerUser bounds the sources remembered for one account.
const knownPerUser = 16

// DefaultThrottle returns the normative limits.
func DefaultThrottle() Throttle {
	return Throttle{
		SourceFailures: 30, SourceWindow: 15 * time.Minute,
		AccountFree: 2, AccountDelay: time.Minute, AccountMaxDelay: 30 * time.Minute, AccountMemory: 24 * time.Hour,
		GlobalFailures: 60, GlobalWindow: time.Minute,
		KnownSourceTTL: 30 * 24 * time.Hour,
		JoinFailures:   10, JoinWindow: 10 * time.Minute,
	}
}

// Fill replaces zero fields with the defaults and checks the rest.
func (t *Throttle) Fill() error {
	d := DefaultThrottle()
	ints := []struct {
		name string
		v    *int
		def  int
	}{
		{"source failures", &t.SourceFailures, d.SourceFailures}, {"account free failures", &t.AccountFree, d.AccountFree},
		{"global failures", &t.GlobalFailures, d.GlobalFailures}, {"join failures", &t.JoinFailures, d.JoinFailures},
	}
	for _, f := range ints {
		if *f.v == 0 {
			*f.v = f.def
		}
		if *f.v < 1 {
			return fmt.Errorf("relay: throttle %s %d must be at least 1", f.name, *f.v)
		}
	}
	durs := []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"source window", &t.SourceWindow, d.SourceWindow}, {"account delay", &t.AccountDelay, d.AccountDelay},
		{"account max delay", &t.AccountMaxDelay, d.AccountMaxDelay}, {"account memory", &t.AccountMemory, d.AccountMemory},
		{"global window", &t.GlobalWindow, d.GlobalWindow}, {"known source TTL", &t.KnownSourceTTL, d.KnownSourceTTL},
		{"join window", &t.JoinWindow, d.JoinWindow},
	}
	for _, f := range durs {
		if *f.v == 0 {
			*f.v = f.def
		}
		if *f.v < 10*time.Millisecond {
			return fmt.Errorf("relay: throttle %s %v is too short", f.name, *f.v)
		}
	}
	return nil
}

// Keys of the throttle records (see store.Counter).
func srcFailKey(src string) string { return "src:" + src }

// AcctFailKey keys an account name's back-off by the name's keyed digest,
// never the typed text, which may be a password typed into the wrong field.
func (s *Accounts) AcctFailKey(name string) string { return "acct:" + s.nameDigest(name) }

func joinFailKey(src string) string                 { return "join:" + src }
func knownPrefix(userID ids.UserID) string          { return "known:" + userID.String() + "|" }
func knownKey(userID ids.UserID, src string) string { return knownPrefix(userID) + src }

const globalFailKey = "global"

// SourceKey is the unit a source is throttled by: an IPv4 address, or the
// /64 an IPv6 address is in (one host commonly holds a whole /64).
func SourceKey(addr string) string {
	ip := net.ParseIP(addr)
	if ip == nil {
		return truncate(addr, 64)
	}
	if ip.To4() != nil {
		return ip.To4().String()
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// loginName returns the canonical form of a name typed at sign-in, or a
// marked, bounded stand-in for one that cannot be a username.
func loginName(name string) string {
	canon, err := username.Canonical(name)
	if err != nil {
		return "invalid:" + truncate(name, 64)
	}
	return canon
}

// admitSignIn decides, before any password is checked, whether an attempt
// to sign in as name (u, or nil for a name that is no user) from src may
// proceed. A refused attempt is not checked and counts toward nothing.
// The source's own failure budget applies to everyone; the global cap and
// the account's back-off spare sources that signed in to the account
// before, so that its owner is not locked out by strangers' failures. For
// other sources only one attempt per name is in flight at a time, so that
// a burst cannot pass the back-off before its failures are counted; the
// caller must call done once the attempt's failure, if any, is counted.
func (s *Accounts) admitSignIn(name string, u *store.User, src string) (done func(), err error) {
	t := now()
	c, err := s.db.Throttle(srcFailKey(src), t)
	if err != nil {
		return nil, err
	}
	if c.N >= s.cfg.Throttle.SourceFailures {
		return nil, apierr.TooMany(c.Expires.Sub(t), "too many failed sign-ins from this address")
	}
	if known, err := s.knownSource(u, src, t); err != nil || known {
		return func() {}, err
	}
	if c.N == 0 {
		if err := s.tableFull(t); err != nil {
			return nil, err
		}
	}
	leave, ok := s.limiter.Enter(s.AcctFailKey(name))
	if !ok {
		return nil, apierr.TooMany(time.Second, "too many attempts for this account")
	}
	if err := s.admitUnknownSource(name, t); err != nil {
		leave()
		return nil, err
	}
	return leave, nil
}

// knownSource reports whether u signed in from src recently.
func (s *Accounts) knownSource(u *store.User, src string, t time.Time) (bool, error) {
	if u == nil {
		return false, nil
	}
	c, err := s.db.Throttle(knownKey(u.ID, src), t)
	return c.N > 0, err
}

// admitUnknownSource applies the account's back-off and the relay-wide
// cap to an attempt from a source not known for the account.
func (s *Accounts) admitUnknownSource(name string, t time.Time) error {
	c, err := s.db.Throttle(s.AcctFailKey(name), t)
	if err != nil {
		return err
	}
	if wait := c.Last.Add(s.backoff(c.N)).Sub(t); wait > 0 {
		return apierr.TooMany(wait, "too many attempts for this account")
	}
	if c, err = s.db.Throttle(globalFailKey, t); err != nil {
		return err
	}
	if c.N >= s.cfg.Throttle.GlobalFailures {
		return apierr.TooMany(c.Expires.Sub(t), "too many failed sign-ins %s", s.scope("on this relay", "across the relays of this cluster"))
	}
	return nil
}

// scope returns alone for a relay alone on its store, else cluster: the
// words for where a relay-wide budget is counted.
func (s *Accounts) scope(alone, cluster string) string {
	if s.cfg.Shared {
		return cluster
	}
	return alone
}

// backoff is how long an account name waits after n counted failures.
func (s *Accounts) backoff(n int) time.Duration {
	th := s.cfg.Throttle
	if n < th.AccountFree {
		return 0
	}
	d := th.AccountDelay
	for i := th.AccountFree; i < n && d < th.AccountMaxDelay; i++ {
		d *= 2
	}
	return min(d, th.AccountMaxDelay)
}

// countFailure charges a failed sign-in to its source, the account name and
// the relay-wide budget. A full throttle table is logged, not fatal: the
// failure still counts toward the account's lockout.
func (s *Accounts) countFailure(name, src string) {
	th, t := s.cfg.Throttle, now()
	hits := []struct {
		key     string
		window  time.Duration
		sliding bool
	}{
		{srcFailKey(src), th.SourceWindow, false},
		{s.AcctFailKey(name), th.AccountMemory, true},
		{globalFailKey, th.GlobalWindow, false},
	}
	for _, h := range hits {
		if _, err := s.db.ThrottleHit(h.key, t, h.window, h.sliding); err != nil {
			s.log.Error("count failed sign-in", "key", h.key, "err", err)
		}
	}
	s.sweepThrottle(t)
}

// rememberSource records that u signed in from src.
func (s *Accounts) rememberSource(u *store.User, src string) {
	err := s.db.ThrottleRemember(knownPrefix(u.ID), knownKey(u.ID, src), now(), s.cfg.Throttle.KnownSourceTTL, knownPerUser)
	if err != nil && !errors.Is(err, store.ErrFull) {
		s.log.Error("remember sign-in source", "user", u.ID, "err", err)
	}
}

// AdmitJoin refuses a source with too many recent failed join attempts.
func (s *Accounts) AdmitJoin(src string) error {
	t := now()
	c, err := s.db.Throttle(joinFailKey(src), t)
	if err != nil {
		return err
	}
	if c.N >= s.cfg.Throttle.JoinFailures {
		return apierr.TooMany(c.Expires.Sub(t), "too many failed join attempts from this address")
	}
	if c.N == 0 {
		return s.tableFull(t)
	}
	return nil
}

// tableFull refuses a source the throttle table has no room to track: it
// fails closed rather than let an unbounded stream of new sources go
// uncounted.
func (s *Accounts) tableFull(t time.Time) error {
	n, err := s.db.ThrottleKeys()
	if err != nil || n < store.MaxThrottleKeys {
		return err
	}
	s.sweepThrottle(t)
	return apierr.TooMany(time.Minute, "%s tracking too many sources", s.scope("the relay is", "the relays of this cluster are"))
}

// JoinFailure charges a failed join attempt to its source only: a wrong
// code matches no code, so it costs no one else anything.
func (s *Accounts) JoinFailure(src string) {
	t := now()
	if _, err := s.db.ThrottleHit(joinFailKey(src), t, s.cfg.Throttle.JoinWindow, false); err != nil {
		s.log.Error("count failed join", "err", err)
	}
	s.sweepThrottle(t)
}

// sweepThrottle deletes expired throttle records, at most once a minute.
func (s *Accounts) sweepThrottle(t time.Time) {
	if !s.limiter.Due("sweep:throttle", time.Minute, t) {
		return
	}
	if n, err := s.db.SweepThrottle(t); err != nil {
		s.log.Error("sweep throttle records", "err", err)
	} else if n > 0 {
		s.log.Debug("expired throttle records removed", "count", n)
	}
}
