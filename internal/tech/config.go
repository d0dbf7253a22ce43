// Package tech is the technician's and administrator's client: signing in to
// the relay with a pinned certificate, connecting to devices through the
// end-to-end channel, and the administrative calls behind the tech CLI.
//
// The session side needs no terminal: Client.Open (or Dial, then
// LiveSession.AwaitConsent) returns a LiveSession whose Run moves a shell's
// or command's bytes through any io.Reader and io.Writer; Copy and the
// clipboard calls return errors and values. What happens on the way
// (join code, security code, consent, progress, files copied, exit) is
// reported as typed Events to the Client's Observer; showing them to a
// person, made inert, is the caller's job (the tech CLI's presenter).
//
// The administrative calls (users, roles, organisations, devices, policy,
// sessions, recordings, audit, sign-in) print nothing either: they return
// the relay's answers, mostly the internal/api types, with every string as
// the relay sent it. Whoever shows them makes them inert first (the tech
// CLI renders them through the sanitize package). Passwords and tokens are
// never read here: the caller passes them in, or a func that asks for them.
package tech

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/tether-support/tether/internal/tlsconf"
	"github.com/tether-support/tether/internal/transport"
)

// Client is a technician's client of one relay: where its config (relay,
// pin, login token) lives and who observes its sessions. Its calls print
// nothing: they return the relay's answers (the internal/api types) and
// errors. Create it with New (a config directory, as the tech CLI uses) or
// NewWithToken (a relay and a token alone); not safe for concurrent use.
type Client struct {
	// Home holds relay.json (relay URL and pin), token (0600), the pinned
	// device keys and the live sessions' secrets. Empty for a client from
	// NewWithToken: device keys are then pinned in memory only.
	Home string
	// Observer, if set, receives the events of sessions (see Event).
	Observer Observer

	st *state
	// fixedToken is NewWithToken's token, used instead of Home/token.
	fixedToken string
	// known pins device keys, and heads remembers audit heads, when there
	// is no Home.
	known map[string]string
	heads map[string]*rememberedHead
	// rootPin is the pinned trust root when there is no Home.
	rootPin string
	// pinMu guards st's pins, which a TLS handshake may change
	// (nextPinInUse).
	pinMu sync.Mutex
}

// state is Home/relay.json.
type state struct {
	Relay    string `json:"relay"`
	Pin      string `json:"pin"`
	Username string `json:"username,omitempty"`
	// NextPin is the relay's announced next certificate pin during a
	// rotation, accepted beside Pin.
	NextPin string `json:"next_pin,omitempty"`
}

// New returns a Client for the config directory home, loading relay.json
// if it exists.
func New(home string) (*Client, error) {
	if home == "" {
		return nil, errors.New("no config directory (--config DIR or TETHER_TECH_HOME)")
	}
	c := &Client{Home: home}
	b, err := os.ReadFile(filepath.Join(home, "relay.json"))
	if err == nil {
		var st state
		if err := json.Unmarshal(b, &st); err != nil {
			return nil, fmt.Errorf("config %s is corrupt: %w", filepath.Join(home, "relay.json"), err)
		}
		c.st = &st
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	return c, nil
}

// NewWithToken returns a Client of the relay at relayURL (https://HOST:PORT)
// whose certificate has the fingerprint pin (SHA256:<hex>), signed in with
// token: no config directory is read or written. Sign-in and sign-out,
// which store the token, and reusing another session's consent
// (SessionRequest.Parent) need New.
func NewWithToken(relayURL, pin, token string) (*Client, error) {
	relay, err := transport.ParseRelayURL(relayURL)
	if err != nil {
		return nil, err
	}
	fp, err := tlsconf.ParseFingerprint(pin)
	if err != nil {
		return nil, err
	}
	if token == "" {
		return nil, errors.New("no token given")
	}
	return &Client{st: &state{Relay: relay, Pin: fp}, fixedToken: token, known: map[string]string{}}, nil
}

// Relay returns the URL of the relay the client is signed in to, or "".
func (c *Client) Relay() string {
	if c.st == nil {
		return ""
	}
	return c.st.Relay
}

// errNoHome is the error of the calls that need Home on a client without
// one.
var errNoHome = errors.New("this client has no config directory (create it with tech.New)")

// saveState writes relay.json.
func (c *Client) saveState() error {
	if c.Home == "" {
		return errNoHome
	}
	if err := os.MkdirAll(c.Home, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", c.Home, err)
	}
	b, _ := json.MarshalIndent(c.st, "", "  ")
	return os.WriteFile(filepath.Join(c.Home, "relay.json"), append(b, '\n'), 0o600)
}

func (c *Client) tokenPath() string { return filepath.Join(c.Home, "token") }

// token returns the stored login token. A token file that is a symbolic
// link, not a regular file, or readable or writable by anyone but its owner
// is refused: the token is a credential.
func (c *Client) token() (string, error) {
	fi, err := os.Lstat(c.tokenPath())
	if errors.Is(err, os.ErrNotExist) || c.st == nil {
		return "", errors.New("not signed in: run `tech login --relay URL --user NAME` first")
	}
	if err != nil {
		return "", fmt.Errorf("token file: %w", err)
	}
	switch {
	case fi.Mode()&os.ModeSymlink != 0:
		return "", fmt.Errorf("token file %s is a symbolic link; refusing it: remove it and sign in again with `tech login`", c.tokenPath())
	case !fi.Mode().IsRegular():
		return "", fmt.Errorf("token file %s is not a regular file; refusing it: remove it and sign in again with `tech login`", c.tokenPath())
	case fi.Mode().Perm()&0o077 != 0:
		return "", fmt.Errorf("token file %s is accessible to others (mode %04o); refusing it: others may have read it, so run `chmod 600 %s`, then `tech logout` to revoke it, and sign in again",
			c.tokenPath(), fi.Mode().Perm(), c.tokenPath())
	}
	b, err := os.ReadFile(c.tokenPath())
	if err != nil {
		return "", fmt.Errorf("token file: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// saveToken stores tok in a new file of mode 0600 that replaces the token
// file: whatever was there (a file of looser mode, a symbolic link) is
// replaced, never written through.
func (c *Client) saveToken(tok string) error {
	if c.Home == "" {
		return errNoHome
	}
	f, err := os.CreateTemp(c.Home, ".token-*")
	if err != nil {
		return fmt.Errorf("store token: %w", err)
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("store token: %w", err)
	}
	_, werr := f.WriteString(tok + "\n")
	if err := errors.Join(werr, f.Close()); err != nil {
		return fmt.Errorf("store token: %w", err)
	}
	if err := os.Rename(f.Name(), c.tokenPath()); err != nil {
		return fmt.Errorf("store token: %w", err)
	}
	return nil
}

// endpoint returns how to reach the relay with the stored token.
func (c *Client) endpoint() (transport.Endpoint, error) {
	tok := c.fixedToken
	if tok == "" {
		var err error
		if tok, err = c.token(); err != nil {
			return transport.Endpoint{}, err
		}
	}
	pin, next := c.pins()
	return transport.Endpoint{URL: c.st.Relay, Pin: pin, NextPin: next, OnNextPin: c.nextPinInUse, Token: tok}, nil
}
