package relay

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base32"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/tether-support/tether/internal/audit"
	"github.com/tether-support/tether/internal/identity"
	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/password"
	"github.com/tether-support/tether/internal/store"
	"github.com/tether-support/tether/internal/tlsconf"
	"github.com/tether-support/tether/internal/username"
)

// Meta keys for the relay's own secrets and settings in the store.
const (
	metaAuditMAC  = "audit_mac_key"
	metaAuditSign = "audit_sign_key"
	metaSecretKey = identity.MetaSecretKey // encrypts TOTP seeds at rest
	metaOrg       = "org_name"
)

// InitOptions describes a new data directory.
type InitOptions struct {
	// Dir is the data directory; it must not exist or be empty.
	Dir string
	// Admin is the first superadmin's username.
	Admin string
	// Password is the superadmin's password.
	Password []byte
	// Org is the organisation's display name; default "default".
	Org string
	// Hosts are extra DNS names or IPs for the TLS certificate.
	Hosts []string
	// Temporary makes the password one-time: it must be changed at the
	// first sign-in (the generated bootstrap password).
	Temporary bool
}

// Init creates a new data directory: the bbolt database, a TLS key and
// self-signed certificate, the relay's audit keys and the first superadmin.
// It returns the certificate's "SHA256:<hex>" fingerprint.
func Init(ctx context.Context, o InitOptions) (string, error) {
	if err := checkEmptyDir(o.Dir); err != nil {
		return "", err
	}
	name, err := username.Canonical(o.Admin)
	if err != nil {
		return "", fmt.Errorf("admin username %q: %w", o.Admin, err)
	}
	if err := password.Check(o.Password); err != nil {
		return "", fmt.Errorf("admin password: %w", err)
	}
	if len([]rune(string(o.Password))) < 12 {
		return "", errors.New("admin password: at least 12 characters are required")
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return "", fmt.Errorf("create data dir %q: %w", o.Dir, err)
	}
	db, err := openNewStore(o.Dir)
	if err != nil {
		return "", err
	}
	defer db.Close()
	if err := tlsconf.Generate(tlsDir(o.Dir), o.Hosts); err != nil {
		return "", fmt.Errorf("generate TLS certificate: %w", err)
	}
	if err := initKeys(o.Dir, db, o.Org); err != nil {
		return "", err
	}
	if err := identity.InitOrg(db, o.Org); err != nil {
		return "", err
	}
	if err := createAdmin(ctx, db, name, o.Password, o.Temporary); err != nil {
		return "", err
	}
	if err := auditInit(o.Dir, db, name); err != nil {
		return "", err
	}
	return fingerprint(o.Dir)
}

// openNewStore opens the store of the new data directory dir: the
// database $TETHER_STORE_URL names (recorded in dir/store-url) or
// dir/relay.db. A database that already holds a relay's state is refused,
// and the record removed again.
func openNewStore(dir string) (store.Store, error) {
	u := os.Getenv(StoreURLEnv)
	if u != "" {
		if err := writeStoreRecord(dir, u); err != nil {
			return nil, err
		}
	}
	db, err := openStore(dir)
	if err == nil {
		if err = checkEmptyStore(db); err != nil {
			db.Close()
		}
	}
	if err != nil && u != "" {
		os.Remove(storeRecordPath(dir))
	}
	if err != nil {
		return nil, err
	}
	return db, nil
}

// checkEmptyStore refuses a store that already holds a relay's state (a
// shared database): init would make a second audit chain and keys.
func checkEmptyStore(db store.Store) error {
	n, err := db.CountUsers()
	if err != nil {
		return err
	}
	last, err := db.LastAudit()
	if err != nil {
		return err
	}
	if n > 0 || last != nil {
		return errors.New("the database already holds a relay's state: init needs a new, empty database (another relay of the same database joins with `relay cluster export` on the first and `relay cluster join`)")
	}
	return nil
}

// checkEmptyDir refuses a directory that already has files in it.
func checkEmptyDir(dir string) error {
	if dir == "" {
		return errors.New("no data directory given (--data DIR)")
	}
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read data dir %q: %w", dir, err)
	}
	if len(ents) > 0 {
		return fmt.Errorf("data dir %q is not empty; refusing to overwrite an existing relay (choose a new directory)", dir)
	}
	return nil
}

// initKeys stores fresh random keys for the audit chain and secrets at
// rest; the audit head key goes to its own file in dir, not the store.
func initKeys(dir string, db store.Store, org string) error {
	if org == "" {
		org = "default"
	}
	_, signKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("generate audit signing key: %w", err)
	}
	vals := map[string][]byte{
		metaAuditMAC:  randBytes(32),
		metaSecretKey: randBytes(32),
		metaOrg:       []byte(org),
	}
	if err := writeHeadKey(dir, signKey.Seed()); err != nil {
		return err
	}
	for k, v := range vals {
		if err := db.PutMeta(k, v); err != nil {
			return fmt.Errorf("store %s: %w", k, err)
		}
	}
	return nil
}

// createAdmin creates the first superadmin.
func createAdmin(ctx context.Context, db store.Store, name string, pw []byte, temporary bool) error {
	h := password.NewHasher(password.DefaultParams, 1)
	hash, err := h.Hash(ctx, pw)
	if err != nil {
		return fmt.Errorf("hash admin password: %w", err)
	}
	now := time.Now().UTC()
	u := &store.User{
		ID: ids.NewUserID(), Username: name, DisplayName: name, Roles: []string{"superadmin"},
		PasswordHash: hash, State: store.UserActive, PasswordChangedAt: now, CreatedAt: now,
	}
	if temporary {
		u.State = store.UserMustChangePassword
	}
	if err := db.CreateUser(u); err != nil {
		return fmt.Errorf("create admin %q: %w", name, err)
	}
	return nil
}

// auditInit starts the audit chain with the initialisation and signs it.
func auditInit(dir string, db store.Store, admin string) error {
	l, err := openAuditLog(dir, db)
	if err != nil {
		return err
	}
	if _, err := l.Append(audit.Event{Action: "relay.init", Target: admin, Outcome: "success"}); err != nil {
		return fmt.Errorf("start audit log: %w", err)
	}
	return l.SignHead()
}

// fingerprint returns the pin of the certificate in dir.
func fingerprint(dir string) (string, error) {
	cert, err := tlsconf.Load(tlsDir(dir))
	if err != nil {
		return "", err
	}
	x, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return "", fmt.Errorf("parse certificate: %w", err)
	}
	return tlsconf.Fingerprint(x), nil
}

// randBytes returns n random bytes; crypto/rand never fails.
func randBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// Bootstrap initialises an empty or missing data directory for `relay
// serve` with an "admin" superadmin whose random password is written to
// DATA/initial-admin-password (mode 0600), never printed. It reports whether
// it initialised anything.
func Bootstrap(ctx context.Context, dir string) (bool, error) {
	if err := checkEmptyDir(dir); err != nil {
		return false, nil
	}
	pw := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(randBytes(15)))
	if _, err := Init(ctx, InitOptions{Dir: dir, Admin: "admin", Password: []byte(pw), Temporary: true}); err != nil {
		return false, err
	}
	if err := os.WriteFile(bootstrapPath(dir), []byte(pw+"\n"), 0o600); err != nil {
		return false, fmt.Errorf("write initial admin password: %w", err)
	}
	return true, nil
}
