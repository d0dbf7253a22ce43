package relay

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tether-support/tether/internal/store"
)

// The host socket is how a program on the relay host that can reach into
// the data directory asks the running relay for what only it can do,
// since it holds the database: today, `relay backup`'s consistent
// snapshot. It is a Unix socket in the data directory (itself 0700),
// made 0600, and on Linux the relay also checks that the peer runs as the
// relay's own user (or root): reaching the data directory is the
// credential, as for `relay users unlock` and `relay emergency-access`.
// No network listener and no administrator password are involved.
//
// The protocol is one request line and one answer:
//
//	→ backup\n
//	← ok <bytes>\n  and exactly <bytes> bytes of the database snapshot
//	← error <one line>\n
const (
	hostSocketName = "host.sock"
	// maxSocketPath is the longest Unix socket path every platform takes
	// (sun_path is 104 bytes on the BSDs, 108 on Linux, with its NUL).
	maxSocketPath = 103
	// hostRequestTimeout bounds reading the request line; hostWriteStall
	// bounds each write of the answer, so a client that stops reading
	// cannot hold the snapshot's read transaction for long.
	hostRequestTimeout = 5 * time.Second
	hostWriteStall     = 30 * time.Second
	hostBackupRequest  = "backup"
)

func hostSocketPath(dir string) string { return filepath.Join(dir, hostSocketName) }

// listenHostSocket opens the host socket of the data directory. It
// replaces a stale socket file: the caller holds the database, so no
// other relay serves this directory.
func (s *Server) listenHostSocket() (net.Listener, error) {
	path := hostSocketPath(s.cfg.DataDir)
	if len(path) > maxSocketPath {
		return nil, fmt.Errorf("host socket path %s is longer than %d bytes", path, maxSocketPath)
	}
	if st, err := os.Lstat(path); err == nil {
		if st.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("%s exists and is not a socket", path)
		}
		os.Remove(path)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(true)
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

// openHostSocket opens the host socket, or logs why not and returns nil:
// the relay then serves on and `relay backup` says to stop it first.
func (s *Server) openHostSocket() net.Listener {
	ln, err := s.listenHostSocket()
	if err != nil {
		s.log.Warn("no host socket: `relay backup` needs the relay stopped", "err", err)
		return nil
	}
	return ln
}

// serveHostSocket answers requests on ln until ctx ends, then waits for
// the requests in progress; done is closed when it returns.
func (s *Server) serveHostSocket(ctx context.Context, ln net.Listener, done chan<- struct{}) {
	defer close(done)
	if ln == nil {
		return
	}
	go func() { <-ctx.Done(); ln.Close() }()
	var wg sync.WaitGroup
	defer wg.Wait()
	busy := make(chan struct{}, 1)
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Warn("host socket: accept", "err", err) // out of descriptors, say: try again shortly
			time.Sleep(100 * time.Millisecond)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			s.hostRequest(c.(*net.UnixConn), busy)
		}()
	}
}

// hostRequest serves one connection; busy allows one backup at a time.
func (s *Server) hostRequest(c *net.UnixConn, busy chan struct{}) {
	if err := peerIsRelayUser(c); err != nil {
		s.log.Warn("host socket: refused a peer", "err", err)
		fmt.Fprintf(c, "error %s\n", err)
		return
	}
	c.SetReadDeadline(time.Now().Add(hostRequestTimeout))
	line, err := bufio.NewReader(io.LimitReader(c, 64)).ReadString('\n')
	if err != nil {
		return
	}
	if strings.TrimSpace(line) != hostBackupRequest {
		fmt.Fprintf(c, "error unknown request\n")
		return
	}
	select {
	case busy <- struct{}{}:
		defer func() { <-busy }()
	default:
		fmt.Fprintf(c, "error another backup is running; try again when it has finished\n")
		return
	}
	if err := s.snapshotTo(&stallWriter{c: c}, "host socket"); err != nil {
		s.log.Error("backup over the host socket failed", "err", err)
	}
}

// snapshotTo audits a backup (relay.backup, actor "relay host"), signs
// the audit head so the copy carries a fresh one, and writes the
// answer: "ok <bytes>\n" and the snapshot, or "error …\n".
func (s *Server) snapshotTo(w io.Writer, via string) error {
	snap, ok := s.db.(store.Snapshotter)
	if !ok {
		fmt.Fprintf(w, "error this relay's store cannot be snapshotted\n")
		return errors.New("store has no snapshot")
	}
	s.record(auditEvent(hostActor, "relay.backup", "", "success", hostActor, "via", via))
	if err := s.audit.SignHead(); err != nil {
		fmt.Fprintf(w, "error sign the audit head: %s\n", oneLine(err))
		return err
	}
	_, err := snap.WriteSnapshot(w, func(size int64) error {
		_, err := fmt.Fprintf(w, "ok %d\n", size)
		return err
	})
	return err
}

// stallWriter writes to a connection with a fresh deadline each time.
type stallWriter struct{ c net.Conn }

func (w *stallWriter) Write(p []byte) (int, error) {
	w.c.SetWriteDeadline(time.Now().Add(hostWriteStall))
	return w.c.Write(p)
}

// oneLine is err's text without line breaks.
func oneLine(err error) string {
	return strings.NewReplacer("\n", " ", "\r", " ").Replace(err.Error())
}

// askHostSnapshot asks the relay serving dir for a snapshot over its host
// socket. It returns the snapshot's length and a reader of exactly that
// many bytes, or errNoHostSocket when no relay answers there.
func askHostSnapshot(dir string) (int64, io.ReadCloser, error) {
	c, err := net.DialTimeout("unix", hostSocketPath(dir), 5*time.Second)
	if err != nil {
		return 0, nil, fmt.Errorf("%w: %v", errNoHostSocket, err)
	}
	// A relay that refuses the peer answers and closes before reading,
	// so a failed write still leaves its answer to read.
	_, werr := io.WriteString(c, hostBackupRequest+"\n")
	br := bufio.NewReader(c)
	c.SetReadDeadline(time.Now().Add(time.Minute))
	line, err := br.ReadString('\n')
	c.SetReadDeadline(time.Time{})
	if err != nil {
		c.Close()
		return 0, nil, fmt.Errorf("the relay did not answer on %s: %w", hostSocketPath(dir), errors.Join(werr, err))
	}
	n, err := parseHostAnswer(line)
	if err != nil {
		c.Close()
		return 0, nil, fmt.Errorf("%w (on %s)", err, hostSocketPath(dir))
	}
	return n, readCloser{io.LimitReader(br, n), c}, nil
}

// maxSnapshot bounds the size a snapshot answer may announce (1 TiB).
const maxSnapshot = 1 << 40

// parseHostAnswer reads the relay's answer line to a backup request:
// "ok <bytes>" gives the snapshot's length, "error <text>" the relay's
// refusal (sanitized by the caller's printing), anything else is an error.
func parseHostAnswer(line string) (int64, error) {
	line = strings.TrimRight(line, "\r\n")
	if msg, ok := strings.CutPrefix(line, "error "); ok {
		return 0, fmt.Errorf("the relay refused the backup: %s", capText(msg, 200))
	}
	num, ok := strings.CutPrefix(line, "ok ")
	n, err := strconv.ParseInt(num, 10, 64)
	if !ok || err != nil || n <= 0 || n > maxSnapshot || strconv.FormatInt(n, 10) != num {
		return 0, fmt.Errorf("the relay answered %q, not a snapshot", capText(line, 80))
	}
	return n, nil
}

// errNoHostSocket means no relay answers on the data directory's socket.
var errNoHostSocket = errors.New("no relay answers on the host socket")

type readCloser struct {
	io.Reader
	io.Closer
}
