package integration

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/protocol"
)

// errorTally counts errors by kind (their text with addresses and ports
// blanked out).
type errorTally struct {
	mu sync.Mutex
	n  map[string]int
}

var addrRE = regexp.MustCompile(`127\.0\.0\.\d+:\d+|:\d{2,5}\b`)

func (t *errorTally) add(err error) {
	k := addrRE.ReplaceAllString(err.Error(), "ADDR")
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.n == nil {
		t.n = make(map[string]int)
	}
	t.n[k]++
}

// lines returns "count × kind" lines, most frequent first.
func (t *errorTally) lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for k, n := range t.n {
		out = append(out, fmt.Sprintf("%6d × %s", n, k))
	}
	sort.Sort(sort.Reverse(sort.StringSlice(out)))
	return out
}

// corrupted reports how many errors say a TLS record failed to
// authenticate or was malformed: what must never happen on loopback.
func (t *errorTally) corrupted() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for k, c := range t.n {
		if strings.Contains(k, "bad record MAC") || strings.Contains(k, "record overflow") || strings.Contains(k, "unexpected message") {
			n += c
		}
	}
	return n
}

// TestStressTLSUnderFlood looks for corrupted TLS streams ("tls: bad
// record MAC") under the flood test's mix, for as many seconds as
// TETHER_STRESS_SECONDS says (at most 600; skipped when unset), with the
// relay's --test-limits from TETHER_STRESS_LIMITS if set: failing
// requests from four sources, connections over the per-source cap (reset
// at once), and meanwhile a technician signing in again and again on
// fresh connections and sessions moving large outputs. Every error is
// counted by kind; a TLS record that fails to authenticate fails the
// test. With "write=1s" many requests outlive the write timeout: each
// must end as a closed connection, never as a corrupted record (which
// crypto/tls sent there until the connections under TLS refused writes
// after a failed one).
func TestStressTLSUnderFlood(t *testing.T) {
	secs, _ := strconv.Atoi(os.Getenv("TETHER_STRESS_SECONDS"))
	if secs <= 0 {
		t.Skip("set TETHER_STRESS_SECONDS to run")
	}
	secs = min(secs, 600)
	limits := floodLimits
	if l := os.Getenv("TETHER_STRESS_LIMITS"); l != "" {
		limits = l
	}
	e := newEnv(t, "--test-limits", limits)
	d := e.enroll("dev")
	e.runAgent(d, "exit 0")
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(secs)*time.Second)
	defer cancel()
	var flood, legit, sessions, resets errorTally
	var nFlood, nLogin, nSession, nReset, slowest atomic.Int64
	var wg sync.WaitGroup
	kinds := e.floodKinds()
	sources := []byte{110, 111, 112, 113}
	for w := range 24 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := e.client(sources[w%len(sources)])
			c.Timeout = 5 * time.Second
			defer c.CloseIdleConnections()
			for i := w; ctx.Err() == nil; i += 24 {
				if _, err := kinds[i%len(kinds)].send(c, i); err != nil {
					flood.add(err)
				}
				nFlood.Add(1)
			}
		}()
	}
	wg.Add(1)
	go func() { // over the per-source cap: the excess is reset at once
		defer wg.Done()
		for ctx.Err() == nil {
			var cs []net.Conn
			for range 12 {
				dl := net.Dialer{LocalAddr: src(120), Timeout: 5 * time.Second}
				c, err := dl.Dial("tcp", e.hostPort())
				if err != nil {
					resets.add(err)
					continue
				}
				c.Write([]byte{0x16, 0x03, 0x01})
				cs = append(cs, c)
			}
			time.Sleep(50 * time.Millisecond)
			for _, c := range cs {
				c.Close()
			}
			nReset.Add(1)
		}
	}()
	for range 4 {
		wg.Add(1)
		go func() { // the technician, on a new connection each time as the CLI
			defer wg.Done()
			for ctx.Err() == nil {
				c := e.client(0)
				var out struct {
					Token string `json:"token"`
				}
				t0 := time.Now()
				code, err := apiPost(c, e.url+protocol.PathLogin, "", map[string]string{"username": "admin", "password": e.adminPW}, &out)
				c.CloseIdleConnections()
				if d := int64(time.Since(t0)); code == http.StatusOK && d > slowest.Load() {
					slowest.Store(d)
				}
				switch {
				case err != nil:
					legit.add(err)
				case code != http.StatusOK:
					legit.add(fmt.Errorf("status %d", code))
				}
				nLogin.Add(1)
			}
		}()
	}
	wg.Add(1)
	go func() { // sessions with large outputs: big WebSocket frames both ways through the relay
		defer wg.Done()
		for ctx.Err() == nil {
			r := e.techRun("", "connect", d.name, "--", "sh", "-c", "head -c 1500000 /dev/urandom | base64")
			if r.code != 0 {
				sessions.add(fmt.Errorf("code %d: %s", r.code, strings.TrimSpace(r.stderr)))
			}
			nSession.Add(1)
		}
	}()
	wg.Wait()
	t.Logf("%d flood requests, %d cap rounds, %d logins (slowest signed in after %v), %d sessions in %ds",
		nFlood.Load(), nReset.Load(), nLogin.Load(), time.Duration(slowest.Load()).Round(time.Millisecond), nSession.Load(), secs)
	for _, x := range []struct {
		name string
		t    *errorTally
	}{{"flood", &flood}, {"cap", &resets}, {"technician logins", &legit}, {"sessions", &sessions}} {
		t.Logf("%s errors:\n%s", x.name, strings.Join(x.t.lines(), "\n"))
		if n := x.t.corrupted(); n > 0 {
			t.Errorf("%s: %d corrupted TLS streams", x.name, n)
		}
	}
	if strings.Contains(e.relay.Output(), "bad record MAC") {
		t.Errorf("the relay saw corrupted TLS records:\n%s", e.relay.Output())
	}
}
