package identity

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/tether-support/tether/internal/apierr"
	"github.com/tether-support/tether/internal/audit"
	"github.com/tether-support/tether/internal/password"
	"github.com/tether-support/tether/internal/ratelimit"
	"github.com/tether-support/tether/internal/store"
)

// MetaSecretKey is the store's meta key of the relay's secret key, which
// encrypts TOTP seeds at rest and keys the digest of unknown login names.
const MetaSecretKey = "secret_key"

// Config bounds sign-ins and the login tokens they issue.
type Config struct {
	// Throttle limits failed sign-ins and join attempts.
	Throttle Throttle
	// TokenIdle and TokenLifetime bound a login token's idle time and
	// whole life; an organisation's policy may shorten both.
	TokenIdle     time.Duration
	TokenLifetime time.Duration
	// OnLockout, if set, is called once for every account a run of failed
	// sign-ins locks (the relay counts them for its metrics).
	OnLockout func()
	// Shared is set when the relays of a cluster share the store: the
	// relay-wide budgets (GlobalFailures, the throttle table's size) are
	// then the cluster's, and refusals say so.
	Shared bool
}

// Store is the part of the relay's store that identity reads and writes:
// accounts, organisations, custom roles, the throttle counters and the
// secret key. Any store.Store is one.
type Store interface {
	store.Users
	store.Orgs
	store.Roles
	store.Throttle
	store.Meta
}

// Accounts answers who a person is and what they may do: it checks
// passwords and second factors, throttles and locks out failed sign-ins,
// and resolves organisations' policies and users' roles into permissions.
// Its state is in the store, except the in-flight sign-in marks of its
// limiter. Safe for concurrent use.
type Accounts struct {
	cfg     Config
	db      Store
	hasher  *password.Hasher
	limiter *ratelimit.Limiter
	log     *slog.Logger
	record  func(audit.Event)
	// org is the relay's own organisation (see DefaultOrg).
	org string
}

// New returns the accounts kept in db. org is the relay's own
// organisation; audit events go to record, which must not fail the caller.
func New(cfg Config, db Store, hasher *password.Hasher, org string, record func(audit.Event), log *slog.Logger) *Accounts {
	return &Accounts{cfg: cfg, db: db, hasher: hasher, limiter: ratelimit.New(), log: log, record: record, org: org}
}

// secretKey returns the relay's key for TOTP seeds at rest.
func (s *Accounts) secretKey() ([]byte, error) {
	k, err := s.db.GetMeta(MetaSecretKey)
	if err != nil {
		return nil, fmt.Errorf("load secret key: %w", err)
	}
	return k, nil
}

// apiError is the error the relay's routes answer with.
type apiError = apierr.Error

func errf(status int, hint, format string, args ...any) *apiError {
	return apierr.New(status, hint, format, args...)
}

// now is the relay's clock (UTC).
func now() time.Time { return time.Now().UTC() }

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
