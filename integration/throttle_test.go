package integration

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/transport"
)

// answer is the relay's reply to one hostile request.
type answer struct {
	status     int
	msg        string
	retryAfter int
}

// loginFrom posts a sign-in from the loopback address ip, the way an
// attacker's script would (no tech, no pin: it only wants the answer).
func (e *env) loginFrom(t *testing.T, ip, user, pw string) answer {
	t.Helper()
	return loginAt(t, e.url, ip, user, pw)
}

// loginAt posts a sign-in to the relay (or balancer) at base from the
// loopback address ip.
func loginAt(t *testing.T, base, ip, user, pw string) answer {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DialContext:     d.DialContext,
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, // hostile test client only
	}}
	defer c.CloseIdleConnections()
	body, _ := json.Marshal(map[string]string{"username": user, "password": pw})
	resp, err := c.Post(base+protocol.PathLogin, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("login from %s: %v", ip, err)
	}
	defer resp.Body.Close()
	var m struct{ Error string }
	json.NewDecoder(resp.Body).Decode(&m)
	ra, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
	return answer{resp.StatusCode, m.Error, ra}
}

// restartRelay stops the relay and starts it again on the same address
// with flags, so that the tech configurations stay valid.
func (e *env) restartRelay(flags ...string) {
	e.t.Helper()
	u, err := url.Parse(e.url)
	if err != nil {
		e.t.Fatal(err)
	}
	e.stopRelay()
	e.url, e.fp = "", ""
	e.startRelay(append(flags, "--listen", u.Host)...)
}

// userState returns name's state and failed sign-ins from `tech users list`.
func userState(t *testing.T, a *acct, name string) (string, int) {
	t.Helper()
	var users []struct {
		Username     string `json:"username"`
		State        string `json:"state"`
		FailedLogins int    `json:"failed_logins"`
	}
	r := a.must("", "users", "list", "--json")
	if err := json.Unmarshal([]byte(r.stdout), &users); err != nil {
		t.Fatalf("users list --json: %v in %q", err, r.stdout)
	}
	for _, u := range users {
		if u.Username == name {
			return u.State, u.FailedLogins
		}
	}
	t.Fatalf("%s not in users list: %s", name, r.stdout)
	return "", 0
}

// wantThrottled fails unless a is a 429 saying want, with a retry time in
// the message and in Retry-After.
func wantThrottled(t *testing.T, what string, a answer, want string) {
	t.Helper()
	if a.status != http.StatusTooManyRequests || !strings.Contains(a.msg, want) || !strings.Contains(a.msg, "retry in ") || a.retryAfter < 1 {
		t.Fatalf("%s: got %d %q (Retry-After %d), want 429 %q with a retry time", what, a.status, a.msg, a.retryAfter, want)
	}
}

// throttleFlags shorten nothing that a test waits for: windows are long so
// that nothing expires mid-test; the budgets are small so few argon2id
// checks are needed to reach them.
var throttleFlags = []string{"--throttle-account-delay", "10m", "--throttle-source-failures", "5",
	"--throttle-source-window", "10m", "--throttle-global-failures", "12", "--throttle-global-window", "10m"}

// TestSignInThrottleProtectsTheSuperadmin attacks the superadmin's password
// from many loopback addresses, then sprays, then restarts the relay in the
// middle: the account never locks, the admin's token keeps working, the
// admin still signs in from their own address, and the counters persist.
func TestSignInThrottleProtectsTheSuperadmin(t *testing.T) {
	t.Parallel()
	e := newEnv(t, throttleFlags...)
	admin := e.admin()
	carol := admin.add("carol", "admin")
	carol.activate("Kestrel-Harbor-Quay-41!")
	dave := admin.add("dave", "technician") // never signed in

	counted := 0 // attempts the relay checked and refused as wrong
	attacks := []struct {
		name  string
		ips   []string
		users []string
		pw    string
	}{
		{"eight sources, the plain name", ips(2, 8), []string{"admin"}, "Winter2024!"},
		{"case and width variants of the name", ips(10, 2), []string{"ADMIN", "Admin", "ａｄｍｉｎ"}, "Summer2025!"},
		{"the right password from a new address", ips(12, 1), []string{"admin"}, e.adminPW},
	}
	for _, at := range attacks {
		t.Run(at.name, func(t *testing.T) {
			for _, ip := range at.ips {
				for _, u := range at.users {
					for range 3 {
						a := e.loginFrom(t, ip, u, at.pw)
						switch {
						case a.status == http.StatusUnauthorized && a.msg == "invalid username or password":
							counted++
						case a.status == http.StatusTooManyRequests:
							wantThrottled(t, ip+" as "+u, a, "too many attempts for this account")
						default:
							t.Fatalf("%s as %s: got %d %q", ip, u, a.status, a.msg)
						}
					}
				}
			}
		})
	}
	if counted != 2 {
		t.Fatalf("%d failures were checked and counted, want exactly the 2 the account admits before backing off", counted)
	}
	if st, n := userState(t, carol, "admin"); st != "active" || n != 2 {
		t.Fatalf("after the attack admin is %s with %d failures, want active with 2", st, n)
	}
	admin.must("", "users", "list") // the existing sign-in still works
	admin.must(e.adminPW+"\n", "login", "--relay", e.url, "--user", "admin", "--ca-fingerprint", e.fp, "--password-stdin")

	// Sixteen sources at once, released together: the checks happen before
	// any failure is counted, so without one attempt per account in flight
	// they would all pass and lock the account in one burst.
	burst := map[int]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for _, ip := range ips(70, 16) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			for range 2 {
				a := e.loginFrom(t, ip, "carol", "Burst-guess-2026")
				mu.Lock()
				burst[a.status]++
				mu.Unlock()
				if a.status == http.StatusTooManyRequests && !strings.Contains(a.msg, "too many attempts for this account") {
					t.Errorf("burst: got %q", a.msg)
				}
			}
		}()
	}
	close(gate)
	wg.Wait()
	if n := burst[http.StatusUnauthorized]; n < 1 || n > 2 || burst[http.StatusTooManyRequests] != 32-n {
		t.Fatalf("burst of 32 guesses at carol: answers %v, want 1 or 2 counted and the rest refused", burst)
	}
	counted += burst[http.StatusUnauthorized]
	if st, n := userState(t, admin, "carol"); st != "active" || n != burst[http.StatusUnauthorized] {
		t.Fatalf("after the burst carol is %s with %d failures, want active", st, n)
	}
	// carol is backing off for new addresses; an administrator's unlock
	// clears that too, so she signs in from one at once.
	if a := e.loginFrom(t, "127.0.0.90", "carol", carol.pw); a.status != http.StatusTooManyRequests {
		t.Fatalf("carol from a new address during her back-off: got %d %q, want 429", a.status, a.msg)
	}
	admin.must("", "users", "unlock", "carol")
	if a := e.loginFrom(t, "127.0.0.90", "carol", carol.pw); a.status != http.StatusOK {
		t.Fatalf("carol from a new address after the unlock: got %d %q, want 200", a.status, a.msg)
	}

	// One source spraying names runs out of its own budget (5 failures)...
	sprayer := "127.0.0.20"
	for i := range 8 {
		name := []string{"nobody", "bad name!", "x" + strings.Repeat("y", 200), "ghost"}[i%4] + fmt.Sprint(i)
		a := e.loginFrom(t, sprayer, name, "Spring2024!")
		if i < 5 && a.status != http.StatusUnauthorized {
			t.Fatalf("spray %d: got %d %q, want a counted failure", i, a.status, a.msg)
		}
		if i >= 5 {
			wantThrottled(t, "spray", a, "too many failed sign-ins from this address")
		}
	}
	counted += 5
	// ...and many sources together run out of the relay-wide one (12).
	got := map[int]int{}
	for _, ip := range ips(30, 8) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2 {
				a := e.loginFrom(t, ip, "ghost-"+ip+"-"+fmt.Sprint(i), "Autumn2023!")
				mu.Lock()
				got[a.status]++
				mu.Unlock()
				if a.status == http.StatusTooManyRequests {
					wantThrottled(t, "distributed spray", a, "too many failed sign-ins on this relay")
				}
			}
		}()
	}
	wg.Wait()
	// The cap is 12 failures; attempts at different names in flight together
	// may each pass the check before any is counted (8 sources here).
	if left := 12 - counted; got[http.StatusUnauthorized] < left || got[http.StatusUnauthorized] > left+8 || got[http.StatusTooManyRequests] == 0 {
		t.Fatalf("distributed spray after %d counted failures: answers %v, want %d..%d counted and the rest refused", counted, got, left, left+8)
	}
	wantThrottled(t, "a new source once the cap is reached", e.loginFrom(t, "127.0.0.50", "dave", dave.pw), "too many failed sign-ins on this relay")
	// Sources known for an account are not held up by the cap.
	admin.must(e.adminPW+"\n", "login", "--relay", e.url, "--user", "admin", "--ca-fingerprint", e.fp, "--password-stdin")
	carol.must(carol.pw+"\n", "login", "--relay", e.url, "--user", "carol", "--ca-fingerprint", e.fp, "--password-stdin")

	// A restart in the middle of the attack resets nothing.
	e.restartRelay(throttleFlags...)
	after := []struct {
		ip, user, want string
	}{
		{"127.0.0.2", "admin", "too many attempts for this account"},
		{sprayer, "nobody-else", "too many failed sign-ins from this address"},
		{"127.0.0.60", "ghost-new", "too many failed sign-ins on this relay"},
	}
	for _, a := range after {
		wantThrottled(t, "after restart "+a.ip, e.loginFrom(t, a.ip, a.user, "Winter2024!"), a.want)
	}
	admin.must("", "users", "list")
	if st, n := userState(t, admin, "admin"); st != "active" || n != 0 {
		t.Fatalf("after restart admin is %s with %d failures, want active with 0 (its own sign-in reset them)", st, n)
	}
}

// ips returns n loopback addresses from 127.0.0.first.
func ips(first, n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("127.0.0.%d", first+i))
	}
	return out
}

// TestLockoutKeepsSessionsAndHostUnlocks locks the superadmin (the account
// budget set above the threshold), checks that its existing sign-in goes
// on, then unlocks it on the host: refused with a clear message while the
// relay runs, done and audited once it is stopped.
func TestLockoutKeepsSessionsAndHostUnlocks(t *testing.T) {
	t.Parallel()
	flags := []string{"--throttle-account-free", "20"}
	e := newEnv(t, flags...)
	admin := e.admin()
	data := filepath.Join(e.dir, "data")
	for i, ip := range ips(2, 5) {
		a := e.loginFrom(t, ip, "admin", "Guess-number-"+fmt.Sprint(i))
		want := "invalid username or password"
		if i == 4 {
			want = "account locked after too many failed sign-ins"
		}
		if a.msg != want {
			t.Fatalf("guess %d from %s: got %d %q, want %q", i+1, ip, a.status, a.msg, want)
		}
	}
	admin.must("", "users", "list") // a lockout does not end a sign-in
	if st, _ := userState(t, admin, "admin"); st != "locked" {
		t.Fatalf("admin is %s, want locked", st)
	}
	admin.refused("account locked", e.adminPW+"\n", "login", "--relay", e.url, "--user", "admin", "--ca-fingerprint", e.fp, "--password-stdin")
	// The locked account's sign-in cannot be used to guess its password.
	admin.refused("account locked", "Guess-again-1\nNew-Password-2026!!\n", "passwd", "--password-stdin")

	r := run(t, e.dir, "", bin.relay, "users", "unlock", "admin", "--data", data)
	if r.code == 0 || !strings.Contains(r.stderr, "the relay is running") || !strings.Contains(r.stderr, "stop the relay") ||
		!strings.Contains(r.stderr, "tech users unlock admin") || strings.Count(strings.TrimSpace(r.stderr), "\n") > 1 {
		t.Fatalf("unlock while running: code %d stderr %q, want one clear line saying to stop the relay", r.code, r.stderr)
	}
	if st, _ := userState(t, admin, "admin"); st != "locked" {
		t.Fatalf("admin is %s after a refused unlock, want still locked", st)
	}

	e.stopRelay()
	cases := []struct {
		name    string
		args    []string
		code    int
		stderr  string
		unlocks bool
	}{
		{"no such user", []string{"nobody"}, 1, `there is no user "nobody"`, false},
		{"invalid name", []string{"bad name!"}, 1, "is not a valid username", false},
		{"no name", nil, 1, "give exactly one username", false},
		{"two names", []string{"admin", "other"}, 1, "give exactly one username", false},
		{"not a data directory", []string{"admin", "--data", e.dir}, 1, "is not a relay data directory", false},
		{"the locked superadmin", []string{"ADMIN"}, 0, "unlocked admin", true},
		{"again: not locked", []string{"admin"}, 0, "admin was not locked", true},
	}
	unlocks := 0
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"users", "unlock"}, tc.args...)
			if !strings.Contains(strings.Join(tc.args, " "), "--data") {
				args = append(args, "--data", data)
			}
			r := run(t, e.dir, "", bin.relay, args...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.stderr) {
				t.Fatalf("relay %s: code %d stderr %q, want %d and %q", strings.Join(args, " "), r.code, r.stderr, tc.code, tc.stderr)
			}
			if tc.unlocks {
				unlocks++
			}
		})
	}
	if r := run(t, e.dir, "", bin.relay, "audit", "verify", "--data", data); r.code != 0 {
		t.Fatalf("audit verify after unlock: %s", r.stderr)
	}
	e.restartRelay(flags...)
	if r := admin.login(e.adminPW); r.code != 0 {
		t.Fatalf("admin sign-in after the host unlock: %q", r.stderr)
	}
	r = admin.must("", "audit", "export")
	n := 0
	for _, l := range lines(r.stdout) {
		if strings.Contains(l, `"action":"user.unlock"`) && strings.Contains(l, `"actor_id":"relay host"`) {
			n++
		}
	}
	if n != unlocks {
		t.Fatalf("%d host unlocks audited, want %d; export:\n%s", n, unlocks, r.stdout)
	}
}

// joinFrom tries to join an attended session from ip with code and returns
// the relay's refusal (empty if it paired).
func (e *env) joinFrom(t *testing.T, ip string, msg *protocol.Control) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	c, err := transport.Dial(ctx, transport.Endpoint{URL: e.url, Pin: e.fp, LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}, protocol.PathAgentJoin)
	if err != nil {
		t.Fatalf("join from %s: %v", ip, err)
	}
	defer c.CloseNow()
	if msg != nil {
		if err := c.WriteControl(ctx, msg); err != nil {
			return "write: " + err.Error()
		}
	}
	m, err := c.ReadControl(ctx)
	if err != nil {
		return "read: " + err.Error()
	}
	if m.Type == protocol.CtlError {
		return m.Error
	}
	return ""
}

// joinMsg is a join message with a fresh key.
func joinMsg(code string) *protocol.Control {
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	return &protocol.Control{Type: protocol.CtlJoin, Code: code, PublicKey: pub, Name: "guesser"}
}

// TestJoinCodeGuessingDoesNotStarveRealUsers guesses join codes from many
// loopback addresses, well past the relay-wide budget the relay used to
// have: each guesser is throttled on its own, and a real `agent join` with
// the valid code from another address still joins. Then a restart keeps
// the guessers throttled.
func TestJoinCodeGuessingDoesNotStarveRealUsers(t *testing.T) {
	t.Parallel()
	flags := []string{"--throttle-join-failures", "5", "--throttle-join-window", "10m"}
	e := newEnv(t, flags...)
	tech := start(t, e.dir, nil, bin.tech, "--config", e.tech, "session", "new", "--", "echo", "attended-ok")
	code := joinCode(t, tech)
	wrong := []byte(code) // the real code with another first character
	wrong[0] = map[bool]byte{true: 'B', false: 'A'}[code[0] == 'A']
	guesses := []struct {
		name string
		ip   string
		msg  func(i int) *protocol.Control
		want string
	}{
		{"well-formed wrong codes", "127.0.0.2", func(i int) *protocol.Control {
			return joinMsg(fmt.Sprintf("%05d-%05d", i, i))
		}, "join code is invalid, expired or already used"},
		{"malformed codes", "127.0.0.3", func(i int) *protocol.Control {
			return joinMsg([]string{"", "!!!!!-!!!!!", strings.Repeat("A", 64), "ABCDE", "ÀBCDE-FGHJK"}[i%5])
		}, "malformed join code"},
		{"no session key", "127.0.0.4", func(i int) *protocol.Control {
			m := joinMsg(string(wrong))
			m.PublicKey = nil
			return m
		}, "missing session key"},
		{"not a join message", "127.0.0.5", func(i int) *protocol.Control {
			return &protocol.Control{Type: protocol.CtlAuth, Code: string(wrong)}
		}, "expected a join message"},
	}
	for _, g := range guesses {
		t.Run(g.name, func(t *testing.T) {
			for i := range 8 {
				got := e.joinFrom(t, g.ip, g.msg(i))
				if i < 5 && !strings.Contains(got, g.want) {
					t.Fatalf("guess %d: got %q, want %q", i, got, g.want)
				}
				if i >= 5 && !strings.Contains(got, "too many failed join attempts from this address, retry in") {
					t.Fatalf("guess %d past the budget: got %q, want a per-address refusal", i, got)
				}
			}
		})
	}
	// 32 more addresses with 10 guesses each: 320 attempts, more than the
	// 300 a minute the relay used to allow across all sources.
	var wg sync.WaitGroup
	var mu sync.Mutex
	refused := 0
	for _, ip := range ips(100, 32) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				got := e.joinFrom(t, ip, joinMsg(fmt.Sprintf("%05d-%05d", i, 7)))
				mu.Lock()
				if strings.Contains(got, "too many") {
					refused++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if refused < 32*5 {
		t.Fatalf("only %d of 320 guesses were refused by the per-address budget, want at least 160", refused)
	}
	lockLog := filepath.Join(e.dir, "lock.log")
	r := e.agentJoinLocking("attended", code, lockLog)
	if r.code != 0 || !strings.Contains(r.stderr, "Session ended") {
		t.Fatalf("the real end user's agent join: code %d stderr %q", r.code, r.stderr)
	}
	<-tech.done
	if !strings.Contains(tech.Output(), "attended-ok") {
		t.Fatalf("tech output %q, want attended-ok", tech.Output())
	}
	e.restartRelay(flags...)
	for _, ip := range []string{"127.0.0.2", "127.0.0.3", "127.0.0.100"} {
		if got := e.joinFrom(t, ip, joinMsg("00000-00000")); !strings.Contains(got, "too many failed join attempts from this address") {
			t.Fatalf("after restart %s: got %q, want still refused", ip, got)
		}
	}
	if got := e.joinFrom(t, "127.0.0.200", joinMsg("00000-00000")); !strings.Contains(got, "join code is invalid") {
		t.Fatalf("a fresh address after restart: got %q, want its guess checked", got)
	}
}
