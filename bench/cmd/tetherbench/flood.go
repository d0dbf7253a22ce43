package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/transport"
)

// The flood part: legitimate sign-ins and sessions measured alone and then
// under a flood of unauthenticated garbage (slow bodies, large bodies, idle
// and silent connections, bad JSON, bad tokens, wrong passwords) from
// several loopback addresses, in the same run against the same relay.

// floodSources are the attackers' addresses; legitimate sign-ins come from
// legitSrc, away from them.
func floodSource(i int) *net.TCPAddr { return &net.TCPAddr{IP: net.IPv4(127, 3, 0, byte(1+i%8))} }

// legitSrc spreads legitimate sign-ins over 127.2.0.x, five per address
// in each phase, under the relay's 20 sign-ins per minute per address; both
// phases use the same addresses, so they are known to the account.
func legitSrc(i int) *net.TCPAddr { return &net.TCPAddr{IP: net.IPv4(127, 2, 0, byte(1+i/5%250))} }

// flooder sends unauthenticated garbage at a fixed rate until stopped.
type flooder struct {
	te     *tetherEnv
	host   string
	stop   chan struct{}
	wg     sync.WaitGroup
	sem    chan struct{} // bounds the attacker's own goroutines and sockets
	sent   atomic.Int64
	reset  atomic.Int64 // connections the relay refused or cut
	status sync.Map     // "kind status" → *atomic.Int64
	// noPasswords sends garbage JSON instead of wrong passwords, to tell
	// the cost of password checks (argon2id) from the rest.
	noPasswords bool
}

// floodKinds name the garbage, one per slot of ten.
var floodKinds = []string{"slow body", "slow body", "idle keep-alive", "4 MiB body", "1 MiB chunked body",
	"garbage JSON", "garbage JSON", "bad token", "wrong password", "silent TCP"}

// floodMix describes floodKinds.
const floodMix = "20% slow bodies, 10% idle keep-alives, 10% 4 MiB bodies, 10% 1 MiB chunked bodies, 20% garbage JSON, 10% bad tokens, 10% wrong passwords, 10% silent TCP"

func newFlooder(te *tetherEnv) *flooder {
	return &flooder{te: te, host: strings.TrimPrefix(te.url, "https://"), stop: make(chan struct{}), sem: make(chan struct{}, 6000)}
}

// run sends rate requests per second until stop, catching up on ticks a
// busy machine delays.
func (f *flooder) run(rate int) {
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		t0, i := time.Now(), 0
		for {
			select {
			case <-f.stop:
				return
			case <-tick.C:
			}
			for due := int(time.Since(t0).Seconds() * float64(rate)); i < due; i++ {
				select {
				case f.sem <- struct{}{}:
				default:
					continue // the attacker is out of sockets: skip
				}
				f.sent.Add(1)
				f.wg.Add(1)
				go func() {
					defer func() { <-f.sem; f.wg.Done() }()
					f.one(i)
				}()
			}
		}
	}()
}

// halt stops the flood and waits for every attacker goroutine.
func (f *flooder) halt() {
	close(f.stop)
	f.wg.Wait()
}

func (f *flooder) count(kind string, status any) {
	v, _ := f.status.LoadOrStore(fmt.Sprintf("%s → %v", kind, status), new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
}

// one sends the i-th piece of garbage.
func (f *flooder) one(i int) {
	kind := floodKinds[i%len(floodKinds)]
	if kind == "wrong password" && f.noPasswords {
		kind = "garbage JSON"
	}
	d := net.Dialer{LocalAddr: floodSource(i / len(floodKinds)), Timeout: 5 * time.Second}
	raw, err := d.Dial("tcp", f.host)
	if err != nil {
		f.reset.Add(1)
		f.count(kind, "refused")
		return
	}
	defer raw.Close()
	go func() { <-f.stop; raw.Close() }() // holders end with the flood
	if kind == "silent TCP" {
		f.hold(raw, kind)
		return
	}
	c := tls.Client(raw, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}}) // attacker: no pin
	if err := c.Handshake(); err != nil {
		f.reset.Add(1)
		f.count(kind, "refused")
		return
	}
	login := "POST " + protocol.PathLogin + " HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\n"
	switch kind {
	case "slow body":
		io.WriteString(c, login+"Content-Length: 1024\r\n\r\n{")
		go func() {
			for range 1024 {
				select {
				case <-f.stop:
					return
				case <-time.After(2 * time.Second):
				}
				if _, err := c.Write([]byte("a")); err != nil {
					return
				}
			}
		}()
		f.answer(c, kind)
	case "idle keep-alive":
		io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: relay\r\n\r\n")
		f.answer(c, kind)
		f.hold(c, kind)
	case "4 MiB body":
		io.WriteString(c, login+"Content-Length: 4194304\r\n\r\n")
		go io.Copy(c, io.LimitReader(zeroReader{}, 4<<20))
		f.answer(c, kind)
	case "1 MiB chunked body":
		io.WriteString(c, login+"Transfer-Encoding: chunked\r\n\r\n")
		go func() {
			chunk := fmt.Sprintf("%x\r\n%s\r\n", 16<<10, strings.Repeat("a", 16<<10))
			for range 64 {
				if _, err := io.WriteString(c, chunk); err != nil {
					return
				}
			}
			io.WriteString(c, "0\r\n\r\n")
		}()
		f.answer(c, kind)
	case "garbage JSON":
		body := "{\x00\"username\":[[[["
		fmt.Fprintf(c, "%sContent-Length: %d\r\n\r\n%s", login, len(body), body)
		f.answer(c, kind)
	case "bad token":
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: relay\r\nAuthorization: Bearer tt_%d\r\n\r\n", protocol.PathWhoami, i)
		f.answer(c, kind)
	case "wrong password":
		body := fmt.Sprintf(`{"username":"nobody-%d","password":"wrong-password"}`, i)
		fmt.Fprintf(c, "%sContent-Length: %d\r\n\r\n%s", login, len(body), body)
		f.answer(c, kind)
	}
}

// answer reads one response and counts its status.
func (f *flooder) answer(c net.Conn, kind string) {
	c.SetReadDeadline(time.Now().Add(60 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		f.reset.Add(1)
		f.count(kind, "closed")
		return
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	f.count(kind, resp.StatusCode)
}

// hold keeps c open until the relay closes it or the flood ends.
func (f *flooder) hold(c net.Conn, kind string) {
	c.SetReadDeadline(time.Time{})
	if _, err := c.Read(make([]byte, 1)); err != nil {
		select {
		case <-f.stop:
		default:
			f.count(kind, "closed by relay")
		}
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// loginTimes signs in n times as the admin, each on a fresh connection
// (TLS handshake included, as `tech login` does).
func loginTimes(ctx context.Context, te *tetherEnv, n, first int) ([]time.Duration, error) {
	out := make([]time.Duration, 0, n)
	for i := range n {
		ep := transport.Endpoint{URL: te.url, Pin: te.fp, LocalAddr: legitSrc(first + i)}
		hc := ep.HTTPClient()
		hc.Timeout = 30 * time.Second
		var resp api.LoginResponse
		t0 := time.Now()
		err := postJSON(ctx, hc, te.url+protocol.PathLogin, "", api.LoginRequest{Username: "admin", Password: te.password}, &resp)
		d := time.Since(t0)
		hc.CloseIdleConnections()
		if err != nil {
			return out, fmt.Errorf("login %d: %w", i, err)
		}
		out = append(out, d)
	}
	return out, nil
}

// selfCPU is this process's user+system CPU time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// msList renders durations in whole milliseconds.
func msList(ds []time.Duration) []int64 {
	out := make([]int64, len(ds))
	for i, d := range ds {
		out[i] = d.Milliseconds()
	}
	return out
}

// fdCount is how many files a process holds open.
func fdCount(pid int) int {
	ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	return len(ents)
}

// peaks samples a process's RSS and open files until stopped.
type peaks struct {
	rss  atomic.Int64
	fds  atomic.Int64
	stop chan struct{}
	done chan struct{}
}

func samplePeaks(pid int) *peaks {
	p := &peaks{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		for {
			if kb, err := rssKiB(pid); err == nil && kb > p.rss.Load() {
				p.rss.Store(kb)
			}
			if n := int64(fdCount(pid)); n > p.fds.Load() {
				p.fds.Store(n)
			}
			select {
			case <-p.stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	return p
}

func (p *peaks) end() { close(p.stop); <-p.done }

// benchFlood: sign-in and session setup p99 alone and under the flood,
// with the relay's memory and open files.
func benchFlood(ctx context.Context, cfg *config, te *tetherEnv, t *table) error {
	n := cfg.floodN
	pid := te.relay.PID()
	loginAlone := t.add(newRow(fmt.Sprintf("sign-in p99, %d logins, unloaded", n), "ms", 1))
	loginFlood := t.add(newRow(fmt.Sprintf("sign-in p99, %d logins, under a %d req/s garbage flood", n, cfg.floodRate), "ms", 1))
	setupAlone := t.add(newRow(fmt.Sprintf("session setup p99, %d runs, unloaded", n), "ms", 1))
	setupFlood := t.add(newRow(fmt.Sprintf("session setup p99, %d runs, under the flood", n), "ms", 1))
	rssRow := t.add(newRow("relay RSS growth under the flood, peak", "MiB", 1))
	fdRow := t.add(newRow("relay open files under the flood, peak", "files", 0))
	cpuRow := t.add(newRow("relay CPU under the flood", "% of a core", 0))
	atkRow := t.add(newRow("the flood's own CPU (attacker, same machine)", "% of a core", 0))
	loginFlood.target = "≤ 2× unloaded"
	loginFlood.check = func(r *row) (bool, bool) { return r.tether <= 2*loginAlone.tether, !math.IsNaN(r.tether) }
	setupFlood.target = "≤ 2× unloaded"
	setupFlood.check = func(r *row) (bool, bool) { return r.tether <= 2*setupAlone.tether, !math.IsNaN(r.tether) }
	// 1024 pre-authentication connections at ≤ 48 KiB, plus the wrong
	// passwords' argon2id (19 MiB, 2 per CPU at once, twice for garbage).
	bound := 48.0 + float64(2*2*runtime.NumCPU()*19)
	rssRow.target, rssRow.check = fmt.Sprintf("≤ %.0f MiB (stated bound)", bound), atMost(bound)
	fdRow.target, fdRow.check = "≤ 1024 + 100 (caps)", atMost(1124)

	ds, err := loginTimes(ctx, te, n, 0)
	if err != nil {
		return err
	}
	logf("logins unloaded (ms): %v", msList(ds))
	loginAlone.tether = float64(pct(ds, 99)) / 1e6
	setup := te.techArgv("--", "true")
	if ds, err = setupTimes(ctx, setup, n); err != nil {
		return err
	}
	setupAlone.tether = float64(pct(ds, 99)) / 1e6
	logf("unloaded: login p99 %.1f ms, session setup p99 %.1f ms", loginAlone.tether, setupAlone.tether)

	time.Sleep(2 * time.Second)
	rss0, _ := rssKiB(pid)
	fd0 := fdCount(pid)
	pk := samplePeaks(pid)
	rc0, _ := cpuTime(pid)
	ac0 := selfCPU()
	fl := newFlooder(te)
	fl.noPasswords = os.Getenv("BENCH_FLOOD_PASSWORDS") == "0"
	if fl.noPasswords {
		t.note("flood: BENCH_FLOOD_PASSWORDS=0, garbage JSON instead of wrong passwords")
	}
	fl.run(cfg.floodRate)
	time.Sleep(3 * time.Second) // let the flood fill the caps
	floodStart := time.Now()
	ds, lerr := loginTimes(ctx, te, n, 0)
	logf("logins under the flood (ms): %v", msList(ds))
	var sds []time.Duration
	if lerr == nil {
		sds, lerr = setupTimes(ctx, setup, n)
	}
	sent, floodFor := fl.sent.Load(), time.Since(floodStart)+3*time.Second
	rc1, _ := cpuTime(pid)
	ac1 := selfCPU()
	fl.halt()
	cpuRow.tether = 100 * (rc1 - rc0).Seconds() / floodFor.Seconds()
	atkRow.tether = 100 * (ac1 - ac0).Seconds() / floodFor.Seconds()
	pk.end()
	if lerr != nil {
		return fmt.Errorf("under the flood: %w", lerr)
	}
	loginFlood.tether = float64(pct(ds, 99)) / 1e6
	setupFlood.tether = float64(pct(sds, 99)) / 1e6
	rssRow.tether = float64(pk.rss.Load()-rss0) / 1024
	fdRow.tether = float64(pk.fds.Load())
	time.Sleep(3 * time.Second)
	rss1, _ := rssKiB(pid)
	var kinds []string
	fl.status.Range(func(k, v any) bool {
		kinds = append(kinds, fmt.Sprintf("%s ×%d", k, v.(*atomic.Int64).Load()))
		return true
	})
	logf("flood: %d requests sent in %v (%.0f/s), %d refused or cut; %s", sent, floodFor.Round(time.Millisecond),
		float64(sent)/floodFor.Seconds(), fl.reset.Load(), strings.Join(kinds, ", "))
	logf("under the flood: login p99 %.1f ms, setup p99 %.1f ms; relay RSS %d → peak %d KiB (%d KiB 3 s after), open files %d → peak %d (%d after)",
		loginFlood.tether, setupFlood.tether, rss0, pk.rss.Load(), rss1, fd0, pk.fds.Load(), fdCount(pid))
	t.note("flood: %d unauthenticated requests at %d/s from 8 addresses (%s); relay RSS %d MiB before, %d MiB peak, %d MiB 3 s after; open files %d before, peak %d",
		sent, cfg.floodRate, floodMix, rss0>>10, pk.rss.Load()>>10, rss1>>10, fd0, pk.fds.Load())
	return nil
}
