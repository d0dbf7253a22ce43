package protocol

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// MaxSTUNServers is the most STUN URLs SessionInfo.STUN may list (6.1): a
// peer refuses a longer list rather than send requests to a relay's
// choice of many addresses.
const MaxSTUNServers = 2

// maxSTUNURL bounds a STUN URL: "stun:", a 253-byte DNS name, ":65535".
const maxSTUNURL = 5 + 253 + 6

// ErrBadSTUNURL is wrapped by ParseSTUNURL's errors.
var ErrBadSTUNURL = errors.New("protocol: bad STUN URL")

// ParseSTUNURL checks one entry of SessionInfo.STUN, `stun:HOST:PORT`
// (RFC 7064 without the optional port: the relay always names it; HOST a
// DNS name or an IP address, IPv6 in brackets), and returns HOST (without
// brackets) and PORT.
func ParseSTUNURL(s string) (host string, port uint16, err error) {
	rest, ok := strings.CutPrefix(s, "stun:")
	if !ok || len(s) > maxSTUNURL {
		return "", 0, fmt.Errorf("%w: want stun:HOST:PORT", ErrBadSTUNURL)
	}
	h, p, err := net.SplitHostPort(rest)
	if err != nil {
		return "", 0, fmt.Errorf("%w: %v", ErrBadSTUNURL, err)
	}
	n, err := strconv.ParseUint(p, 10, 16)
	if err != nil || n == 0 || p != strconv.FormatUint(n, 10) {
		return "", 0, fmt.Errorf("%w: port %q", ErrBadSTUNURL, truncateForError(p))
	}
	bracketed := strings.HasPrefix(rest, "[")
	if a, err := netip.ParseAddr(h); err == nil {
		if a.Is6() != bracketed || a.Zone() != "" {
			return "", 0, fmt.Errorf("%w: address %q", ErrBadSTUNURL, truncateForError(h))
		}
		return h, uint16(n), nil
	}
	if bracketed || !dnsName(h) {
		return "", 0, fmt.Errorf("%w: host %q", ErrBadSTUNURL, truncateForError(h))
	}
	return h, uint16(n), nil
}

// CheckSTUNURLs checks SessionInfo.STUN: at most MaxSTUNServers entries,
// each one ParseSTUNURL accepts.
func CheckSTUNURLs(urls []string) error {
	if len(urls) > MaxSTUNServers {
		return fmt.Errorf("%w: %d STUN URLs (at most %d)", ErrBadSTUNURL, len(urls), MaxSTUNServers)
	}
	for _, u := range urls {
		if _, _, err := ParseSTUNURL(u); err != nil {
			return err
		}
	}
	return nil
}

// dnsName reports whether h is a DNS name of letters, digits, hyphens and
// dots: labels of 1..63 characters, not starting or ending in a hyphen.
func dnsName(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	labels := strings.Split(strings.TrimSuffix(h, "."), ".")
	if strings.Trim(labels[len(labels)-1], "0123456789") == "" {
		return false // 192.0.2.999 is no name, and no address either
	}
	for _, label := range labels {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range []byte(label) {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// truncateForError keeps a peer's string short in an error message (the
// caller sanitizes before a terminal).
func truncateForError(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
