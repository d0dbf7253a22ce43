package cluster

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
)

// IDFile is the file in the data directory holding the relay's own ID. It
// is never shared: a data directory copied from another relay has none,
// and gets a new one at its first start.
const IDFile = "relay-id"

// maxIDLen bounds an ID read from the file.
const maxIDLen = 64

// LoadOrCreateID returns the relay ID kept in dir/relay-id, creating a
// random one (16 bytes, hex) if the file does not exist.
func LoadOrCreateID(dir string) (string, error) {
	path := filepath.Join(dir, IDFile)
	b, err := os.ReadFile(path)
	if err == nil {
		id := strings.TrimSpace(string(b))
		if !validID(id) {
			return "", fmt.Errorf("%s does not hold a relay ID (1 to %d letters, digits or '-'): remove it to get a new one", path, maxIDLen)
		}
		return id, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read relay ID: %w", err)
	}
	var raw [16]byte
	rand.Read(raw[:])
	id := hex.EncodeToString(raw[:])
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return LoadOrCreateID(dir)
	}
	if err != nil {
		return "", fmt.Errorf("create relay ID: %w", err)
	}
	if _, err := f.WriteString(id + "\n"); err != nil {
		f.Close()
		return "", fmt.Errorf("write relay ID: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("write relay ID: %w", err)
	}
	return id, nil
}

// validID reports an ID of letters, digits and '-', 1 to maxIDLen long.
func validID(id string) bool {
	if id == "" || len(id) > maxIDLen {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// DefaultAdvertise is the URL other relays reach a relay listening on
// listen at when --advertise is not given: https://LISTEN when its host is
// a specific address, else https://HOSTNAME:PORT.
func DefaultAdvertise(listen string) (string, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("listen address %q: %w", listen, err)
	}
	if ip := net.ParseIP(host); host != "" && (ip == nil || !ip.IsUnspecified()) {
		return "https://" + net.JoinHostPort(host, port), nil
	}
	name, err := os.Hostname()
	if err != nil || name == "" {
		return "", errors.New("cannot tell other relays where this one is: pass --advertise https://HOST:PORT")
	}
	return "https://" + net.JoinHostPort(name, port), nil
}
