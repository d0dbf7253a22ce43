package x11

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
)

// Xauthority address families (Xauth.h).
const (
	familyLocal = 256
	familyWild  = 65535
)

// maxXauthority bounds the size of an Xauthority file we read.
const maxXauthority = 1 << 20

// cookieName is the only authorization protocol this package speaks.
const cookieName = "MIT-MAGIC-COOKIE-1"

// xauthEntry is one record of an Xauthority file.
type xauthEntry struct {
	Family  uint16
	Address string
	Number  string
	Name    string
	Data    []byte
}

// parseXauthority decodes an Xauthority file: records of a big-endian
// family followed by four length-prefixed fields (address, display number,
// protocol name, data).
func parseXauthority(b []byte) ([]xauthEntry, error) {
	var out []xauthEntry
	for len(b) > 0 {
		if len(b) < 2 {
			return nil, errors.New("xauthority: truncated record")
		}
		e := xauthEntry{Family: binary.BigEndian.Uint16(b)}
		b = b[2:]
		var fields [4][]byte
		for i := range fields {
			if len(b) < 2 {
				return nil, errors.New("xauthority: truncated field length")
			}
			n := int(binary.BigEndian.Uint16(b))
			if len(b) < 2+n {
				return nil, errors.New("xauthority: truncated field")
			}
			fields[i], b = b[2:2+n], b[2+n:]
		}
		e.Address, e.Number, e.Name = string(fields[0]), string(fields[1]), string(fields[2])
		e.Data = append([]byte(nil), fields[3]...)
		out = append(out, e)
	}
	return out, nil
}

// pickCookie returns the first MIT-MAGIC-COOKIE-1 entry for display number
// num on host (a local connection: the machine's hostname), as the X
// libraries do.
func pickCookie(entries []xauthEntry, host, num string) ([]byte, bool) {
	for _, e := range entries {
		addrOK := e.Family == familyWild || (e.Family == familyLocal && e.Address == host)
		if addrOK && (e.Number == "" || e.Number == num) && e.Name == cookieName && len(e.Data) == 16 {
			return e.Data, true
		}
	}
	return nil, false
}

// defaultXauthority is where X clients look when no file is named.
func defaultXauthority() string {
	if p := os.Getenv("XAUTHORITY"); p != "" {
		return p
	}
	if home := os.Getenv("HOME"); home != "" {
		return filepath.Join(home, ".Xauthority")
	}
	return ""
}

// loadCookie reads the cookie for display number num from path. A missing
// file is an error only when the caller named it (explicit).
func loadCookie(path, num string, explicit bool) ([]byte, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		if !explicit && errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("x11: xauthority: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxXauthority+1))
	if err != nil {
		return nil, fmt.Errorf("x11: xauthority %s: %w", path, err)
	}
	if len(b) > maxXauthority {
		return nil, fmt.Errorf("x11: xauthority %s: larger than %d bytes", path, maxXauthority)
	}
	entries, err := parseXauthority(b)
	if err != nil {
		return nil, fmt.Errorf("x11: %s: %w", path, err)
	}
	host, _ := os.Hostname()
	cookie, ok := pickCookie(entries, host, num)
	if !ok && explicit {
		return nil, fmt.Errorf("x11: xauthority %s has no %s for display :%s on %s", path, cookieName, num, host)
	}
	return cookie, nil
}

// authConn replaces the authorization in xgb's connection setup request,
// which xgb fills from the process environment, with the cookie read from
// the Xauthority file the caller named. Every later write passes through.
type authConn struct {
	net.Conn
	cookie []byte
	done   bool
}

// Write rewrites the first write (the setup request) and passes the rest.
func (c *authConn) Write(p []byte) (int, error) {
	if c.done {
		return c.Conn.Write(p)
	}
	c.done = true
	if len(p) < 12 || p[0] != 'l' {
		return 0, errors.New("x11: unexpected connection setup request")
	}
	req := setupRequest(c.cookie)
	copy(req[:6], p[:6]) // byte order and protocol version, as xgb chose them
	if _, err := c.Conn.Write(req); err != nil {
		return 0, err
	}
	return len(p), nil
}

// setupRequest builds an LSB-first X11 connection setup request carrying
// cookie (none when empty).
func setupRequest(cookie []byte) []byte {
	name := ""
	if len(cookie) > 0 {
		name = cookieName
	}
	pad := func(n int) int { return (n + 3) &^ 3 }
	buf := make([]byte, 12+pad(len(name))+pad(len(cookie)))
	buf[0] = 'l'
	binary.LittleEndian.PutUint16(buf[2:], 11)
	binary.LittleEndian.PutUint16(buf[6:], uint16(len(name)))
	binary.LittleEndian.PutUint16(buf[8:], uint16(len(cookie)))
	copy(buf[12:], name)
	copy(buf[12+pad(len(name)):], cookie)
	return buf
}

// WriteXauthority writes an Xauthority file at path (mode 0600) holding one
// wildcard MIT-MAGIC-COOKIE-1 entry for display number num. Tests and
// helpers use it to start an X server that requires authorization.
func WriteXauthority(path, num string, cookie []byte) error {
	var b []byte
	b = binary.BigEndian.AppendUint16(b, familyWild)
	for _, f := range [][]byte{nil, []byte(num), []byte(cookieName), cookie} {
		b = binary.BigEndian.AppendUint16(b, uint16(len(f)))
		b = append(b, f...)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return fmt.Errorf("x11: write xauthority: %w", err)
	}
	return nil
}
