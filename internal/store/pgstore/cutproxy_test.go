package pgstore_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// cutProxy sits between the store and PostgreSQL on a Unix socket and,
// when armed, loses the answer to the next COMMIT: it forwards the COMMIT,
// lets the server run it to the end (its ReadyForQuery), then closes the
// connection without passing the answer on. The commit happened; the
// client only sees its connection drop, as when a network path dies at
// the worst moment.
type cutProxy struct {
	ln     net.Listener
	target string
	dir    string
	armed  atomic.Bool
	mu     sync.Mutex
	tags   []string // the command tag of each lost commit answer
}

// startCutProxy proxies the Unix socket of the server whose socket
// directory is serverDir; URL rewrites a URL of that server onto the proxy.
func startCutProxy(t *testing.T, serverDir string) *cutProxy {
	t.Helper()
	// A short directory: a Unix socket path is bounded (~107 bytes).
	dir, err := os.MkdirTemp("", "tether-pgcut-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	ln, err := net.Listen("unix", filepath.Join(dir, ".s.PGSQL.5432"))
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: filepath.Join(serverDir, ".s.PGSQL.5432"), dir: dir}
	t.Cleanup(func() { ln.Close() })
	go p.serve()
	return p
}

// URL returns url (a pgtest URL) pointing at the proxy.
func (p *cutProxy) URL(url, serverDir string) string {
	return strings.Replace(url, "host="+serverDir, "host="+p.dir, 1)
}

// arm makes the proxy lose the answer to the next COMMIT.
func (p *cutProxy) arm() { p.armed.Store(true) }

// lost returns the command tags of the commit answers lost so far.
func (p *cutProxy) lost() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.tags...)
}

func (p *cutProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.relay(c)
	}
}

// relay runs one client connection.
func (p *cutProxy) relay(client net.Conn) {
	defer client.Close()
	server, err := net.Dial("unix", p.target)
	if err != nil {
		return
	}
	defer server.Close()
	var cutting atomic.Bool
	go func() {
		defer client.Close()
		defer server.Close()
		p.fromServer(server, client, &cutting)
	}()
	p.fromClient(client, server, &cutting)
}

// fromClient forwards the client's messages; an armed proxy marks the
// connection cutting before it forwards a COMMIT.
func (p *cutProxy) fromClient(client, server net.Conn, cutting *atomic.Bool) {
	// The startup message has no type byte.
	first := true
	for {
		typ, msg, err := readMessage(client, !first)
		if err != nil {
			return
		}
		first = false
		if typ == 'Q' && strings.EqualFold(strings.TrimRight(string(msg[5:]), "\x00 ;"), "commit") && p.armed.CompareAndSwap(true, false) {
			cutting.Store(true)
		}
		if _, err := server.Write(msg); err != nil {
			return
		}
	}
}

// fromServer forwards the server's messages, except on a cutting
// connection: there it swallows them up to ReadyForQuery (the commit is
// done), notes the command tag and returns, closing both sides.
func (p *cutProxy) fromServer(server, client net.Conn, cutting *atomic.Bool) {
	tag := ""
	for {
		typ, msg, err := readMessage(server, true)
		if err != nil {
			return
		}
		if !cutting.Load() {
			if _, err := client.Write(msg); err != nil {
				return
			}
			continue
		}
		switch typ {
		case 'C':
			tag = string(bytes.TrimRight(msg[5:], "\x00"))
		case 'Z':
			p.mu.Lock()
			p.tags = append(p.tags, tag)
			p.mu.Unlock()
			return
		}
	}
}

// readMessage reads one protocol message, whole (type byte, if typed, and
// length included).
func readMessage(r io.Reader, typed bool) (byte, []byte, error) {
	hl := 4
	if typed {
		hl = 5
	}
	head := make([]byte, hl)
	if _, err := io.ReadFull(r, head); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(head[hl-4:])
	if n < 4 || n > 1<<30 {
		return 0, nil, errors.New("bad message length")
	}
	msg := make([]byte, hl+int(n)-4)
	copy(msg, head)
	if _, err := io.ReadFull(r, msg[hl:]); err != nil {
		return 0, nil, err
	}
	var typ byte
	if typed {
		typ = head[0]
	}
	return typ, msg, nil
}
