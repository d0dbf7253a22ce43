// Package agent is Tether's agent runtime: it runs on the machine being
// supported, enrolls it with the relay, stays connected, and serves sessions —
// asking the end user's consent, running the shell in a PTY, and locking the
// screen when a session ends, whatever ended it.
//
// The agent enforces exactly what the end user granted. files:to-device
// alone cannot write hidden files or folders, or folders whose contents a
// system starts on its own (see sensitivePath), as asked or through
// symbolic links; that needs the shell too. Every capability can be revoked
// by its own name, also from sessions reusing the consent. The end user's
// "end" and "revoke" come before any prompt, and the technician's
// capability requests are limited.
//
// A session's end kills every process it started. On Linux, where the
// agent's own cgroup v2 directory is writable by it, each session's process
// starts in a child cgroup made for it and the end writes cgroup.kill;
// elsewhere on Linux the agent is a child subreaper, marks session
// processes in their environment (TETHER_SESSION_PROC) and kills the
// shell's process group and session, the marked processes and all their
// descendants, found through /proc. Other Unix systems get the process
// group only.
//
// Inside, a session (deviceSession) has three seams. It talks with the
// person at the device through an EndUser: the terminal (console) is one,
// and the sessions live now are kept apart from it, in liveSessions. The
// technician's inner messages go to capability handlers (capHandler: shell,
// files, clipboard), each owning its message types, its consent name and
// its clean-up at the end; a new capability is a new handler. And every
// decision that depends on what the relay sent about the session (what
// may be asked for, unattended consent, recording, the time limits) is
// taken in one function, decidePolicy.
package agent

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/protocol"
)

// Config configures an agent. Home must be set; zero values elsewhere mean
// the documented defaults.
type Config struct {
	// Home holds the device key and the relay pin (--config or
	// TETHER_AGENT_HOME).
	Home string
	// ConsentCmd, when set, is run through `sh -c` to ask for consent
	// instead of prompting on the terminal.
	ConsentCmd string
	// LockCmd, when set, is run through `sh -c` at every session end instead
	// of the platform's screen lock.
	LockCmd string
	// AllowUnattended lets sessions start without a prompt when the
	// device's group policy on the relay is "unattended" too (servers and
	// kiosks with nobody at the keyboard). Off by default.
	AllowUnattended bool
	// ClipboardCmd, when set, reads or sets the clipboard through `sh -c`
	// with TETHER_CLIPBOARD_OP=get (print it) or set (new text on stdin).
	ClipboardCmd string
	// ConsentTimeout is how long the end user has to answer; default 60 s.
	// No answer is a refusal.
	ConsentTimeout time.Duration
	// CapRequestInterval is the least time between two capability
	// requests the technician makes in one session; default 5 s.
	// CapRequestBudget is how many one session may make; default 5.
	// Requests beyond either, or while one is pending, are refused
	// without asking the end user.
	CapRequestInterval time.Duration
	CapRequestBudget   int
	// In and Out are the end user's terminal; default os.Stdin, os.Stderr.
	// Consent is asked there only if In is a terminal.
	In  *os.File
	Out io.Writer
	// Logger receives structured logs; default slog.Default().
	Logger *slog.Logger
	// DirectPath is "deny" to refuse the direct peer-to-peer path on this
	// device whatever the relay's policy says (agent run --direct-path);
	// empty or "allow" follows the policy.
	DirectPath string
	// RePin, when set, replaces the stored relay pin before connecting
	// (agent run --ca-fingerprint): for a device that was not connected
	// while the relay rotated its certificate.
	RePin string
}

// Validate fills in defaults.
func (c *Config) Validate() error {
	if c.Home == "" {
		return errors.New("agent: no config directory (--config DIR or TETHER_AGENT_HOME)")
	}
	if c.DirectPath != "" && c.DirectPath != protocol.DirectPathAllow && c.DirectPath != protocol.DirectPathDeny {
		return fmt.Errorf("agent: --direct-path %q: want allow or deny", c.DirectPath)
	}
	if c.ConsentTimeout == 0 {
		c.ConsentTimeout = protocol.DefaultConsentTimeout
	}
	if c.CapRequestInterval == 0 {
		c.CapRequestInterval = defaultCapInterval()
	}
	if c.CapRequestBudget == 0 {
		c.CapRequestBudget = defaultCapBudget
	}
	if c.In == nil {
		c.In = os.Stdin
	}
	if c.Out == nil {
		c.Out = os.Stderr
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return nil
}

// State is what enrollment leaves in Home/agent.json.
type State struct {
	Relay string `json:"relay"`
	Pin   string `json:"pin"`
	// NextPin is the relay's announced next certificate pin during a
	// rotation, accepted beside Pin.
	NextPin  string       `json:"next_pin,omitempty"`
	DeviceID ids.DeviceID `json:"device_id"`
	Name     string       `json:"name"`
	Group    string       `json:"group"`
	// TrustRoot is the pinned organisation root's fingerprint
	// ("SHA256:<hex>"), empty while none is pinned.
	TrustRoot string `json:"trust_root,omitempty"`
}

func statePath(home string) string { return filepath.Join(home, "agent.json") }
func keyPath(home string) string   { return filepath.Join(home, "device.key") }

// loadState reads the enrollment state and device key.
func loadState(home string) (*State, ed25519.PrivateKey, error) {
	b, err := os.ReadFile(statePath(home))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, fmt.Errorf("this device is not enrolled (no %s): run `agent enroll` first", statePath(home))
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read agent state: %w", err)
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, nil, fmt.Errorf("agent state %s is corrupt: %w", statePath(home), err)
	}
	key, err := loadKey(keyPath(home))
	if err != nil {
		return nil, nil, err
	}
	return &st, key, nil
}

// saveState writes the enrollment state (0600).
func saveState(home string, st *State) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(statePath(home), append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("write agent state: %w", err)
	}
	return nil
}

// loadKey reads a PKCS#8 PEM Ed25519 key, refusing one others can read.
func loadKey(path string) (ed25519.PrivateKey, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read device key: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("device key %s is readable by others (mode %v); run chmod 600 on it", path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read device key: %w", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("device key %s: not a PEM file", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("device key %s: %w", path, err)
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("device key %s is not an Ed25519 key", path)
	}
	return ek, nil
}

// writeKey writes k as PKCS#8 PEM with mode 0600, never overwriting.
func writeKey(path string, k ed25519.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("write device key: %w", err)
	}
	defer f.Close()
	if err := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		return fmt.Errorf("write device key: %w", err)
	}
	return f.Sync()
}

// Capability request limits (see Config.CapRequestInterval).
const (
	defaultCapBudget      = 5
	defaultCapIntervalDur = 5 * time.Second
)

// capIntervalEnv lets tests shorten the interval between capability
// requests; it is not meant for production use.
const capIntervalEnv = "TETHER_AGENT_TEST_CAP_INTERVAL"

// defaultCapInterval is defaultCapInterval, or what capIntervalEnv says.
func defaultCapInterval() time.Duration {
	if d, err := time.ParseDuration(os.Getenv(capIntervalEnv)); err == nil && d > 0 {
		return d
	}
	return defaultCapIntervalDur
}
