package tech_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/agent"
	"github.com/tether-support/tether/internal/relay"
	"github.com/tether-support/tether/internal/tech"
)

// testbed is a relay and an enrolled agent, both running in this process,
// and a technician signed in to the relay: no terminal anywhere.
type testbed struct {
	t      *testing.T
	url    string
	home   string // the technician's config directory
	device string // the agent's device name
	// userHome is the agent's $HOME, the only folder file transfers reach.
	userHome string
	// agentCfg configures the running agent.
	agentCfg agent.Config
}

// quiet is a logger that discards everything.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// newTestbed starts a relay on a loopback port with a temporary data
// directory, signs in as its admin, configures a recording recipient,
// enrolls a device and runs its agent (consent always granted, screen
// lock a no-op, the clipboard a file). Everything stops when the test ends.
func newTestbed(t *testing.T) *testbed {
	t.Helper()
	dir := t.TempDir()
	b := &testbed{t: t, home: filepath.Join(dir, "tech"), device: "pc-1", userHome: filepath.Join(dir, "user")}
	if err := os.Mkdir(b.userHome, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", b.userHome) // the in-process agent's end user
	ctx, cancel := context.WithCancel(context.Background())
	fp := b.startRelay(ctx, filepath.Join(dir, "data"))
	b.login(fp)
	b.addRecipient(filepath.Join(dir, "reviewer.key"))
	agentDone := b.runAgent(ctx, filepath.Join(dir, "agent"), b.enrollToken())
	t.Cleanup(func() {
		cancel()
		<-agentDone
	})
	b.waitOnline()
	return b
}

// startRelay initialises dataDir, serves it on a loopback port until ctx
// ends and returns the relay's fingerprint.
func (b *testbed) startRelay(ctx context.Context, dataDir string) string {
	b.t.Helper()
	fp, err := relay.Init(ctx, relay.InitOptions{Dir: dataDir, Admin: "admin", Password: []byte("a long test passphrase")})
	if err != nil {
		b.t.Fatal(err)
	}
	s, err := relay.New(relay.Config{DataDir: dataDir, Listen: "127.0.0.1:0", Logger: quiet})
	if err != nil {
		b.t.Fatal(err)
	}
	addr := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, func(a net.Addr) { addr <- a }) }()
	b.t.Cleanup(func() { <-done })
	select {
	case a := <-addr:
		b.url = "https://" + a.String()
	case err := <-done:
		b.t.Fatalf("relay: %v", err)
	}
	return fp
}

// client returns a technician client for the testbed's config directory
// whose session events go to obs.
func (b *testbed) client(obs tech.Observer) *tech.Client {
	b.t.Helper()
	c, err := tech.New(b.home)
	if err != nil {
		b.t.Fatal(err)
	}
	c.Observer = obs
	return c
}

// login signs in as the admin (the password read from a file, as with
// --password-stdin).
func (b *testbed) login(fp string) {
	b.t.Helper()
	pw := func() (string, error) { return "a long test passphrase", nil }
	res, err := b.client(nil).Login(context.Background(), tech.LoginOptions{Relay: b.url, User: "admin", Password: pw, Pin: fp})
	if err != nil {
		b.t.Fatalf("login: %v", err)
	}
	if res.Username != "admin" || res.FirstUsePin != "" || res.MustChangePassword {
		b.t.Fatalf("login: %+v", res)
	}
}

// addRecipient makes a recording identity and configures its public key:
// sessions are refused without one.
func (b *testbed) addRecipient(path string) {
	b.t.Helper()
	c := b.client(nil)
	key, err := c.GenerateKey(path)
	if err != nil {
		b.t.Fatal(err)
	}
	if _, err := c.AddRecipient(context.Background(), key); err != nil {
		b.t.Fatal(err)
	}
}

// enrollToken returns a one-time device enrollment token.
func (b *testbed) enrollToken() string {
	b.t.Helper()
	tok, err := b.client(nil).EnrollToken(context.Background(), "")
	if err != nil {
		b.t.Fatal(err)
	}
	return tok.Token
}

// runAgent enrolls the device in home with token and runs its agent until
// ctx ends; the returned channel closes when it has stopped.
func (b *testbed) runAgent(ctx context.Context, home, token string) <-chan struct{} {
	b.t.Helper()
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		b.t.Fatal(err)
	}
	b.t.Cleanup(func() { devNull.Close() })
	clip := filepath.Join(home + "-clipboard")
	cfg := agent.Config{Home: home, ConsentCmd: "exit 0", LockCmd: "true", In: devNull, Out: io.Discard, Logger: quiet,
		ClipboardCmd: `if [ "$TETHER_CLIPBOARD_OP" = set ]; then cat > '` + clip + `'; else cat '` + clip + `'; fi`}
	b.agentCfg = cfg
	if _, err := agent.Enroll(ctx, cfg, agent.EnrollOptions{Relay: b.url, Token: token, Name: b.device}); err != nil {
		b.t.Fatalf("enroll: %v", err)
	}
	a, err := agent.New(cfg)
	if err != nil {
		b.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := a.Run(ctx); err != nil {
			b.t.Errorf("agent: %v", err)
		}
	}()
	return done
}

// waitOnline waits until the relay lists the device online.
func (b *testbed) waitOnline() {
	b.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		devs, err := b.client(nil).Devices(context.Background())
		if err != nil {
			b.t.Fatal(err)
		}
		for _, d := range devs {
			if d.Name == b.device && d.Online {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.t.Fatalf("%s did not come online", b.device)
}

// recorder is an Observer that keeps every event.
type recorder struct {
	mu     sync.Mutex
	events []tech.Event
}

// Observe keeps e.
func (r *recorder) Observe(e tech.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

// all returns the events so far.
func (r *recorder) all() []tech.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]tech.Event(nil), r.events...)
}
