package passpolicy

import (
	_ "embed"
	"strings"
	"sync"
)

// blocklistText is the list of common and breached passwords, lowercased,
// one per line. gen_blocklist.go writes it.
//
//go:embed blocklist.txt
var blocklistText string

// blocklist is built from blocklistText on first use.
var blocklist = sync.OnceValue(func() map[string]struct{} {
	m := make(map[string]struct{}, strings.Count(blocklistText, "\n"))
	for line := range strings.Lines(blocklistText) {
		if w := strings.TrimSpace(line); w != "" {
			m[w] = struct{}{}
		}
	}
	return m
})

// Blocklisted reports whether pw, ignoring case, is on the embedded list of
// common and breached passwords. It is safe for concurrent use.
func Blocklisted(pw string) bool {
	_, ok := blocklist()[strings.ToLower(pw)]
	return ok
}
