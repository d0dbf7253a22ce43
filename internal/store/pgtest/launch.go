package pgtest

import (
	"fmt"
	"regexp"
	"strings"
)

// Launch starts a throwaway server outside a test (the benchmark driver);
// the caller stops and removes it with Close. settings ("name=value", e.g.
// "fsync=on") override the test defaults, which trade durability for
// speed (fsync=off, full_page_writes=off). It fails when the PostgreSQL
// binaries are missing.
func Launch(settings ...string) (*Server, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	for _, kv := range settings {
		if k, _, ok := strings.Cut(kv, "="); !ok || !dbName.MatchString(k) {
			return nil, fmt.Errorf("pgtest: setting %q: want name=value", kv)
		}
	}
	return start(bin, settings...)
}

// dbName is what CreateDB accepts: a plain lower-case identifier.
var dbName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

// CreateDB creates the empty database name and returns its URL; it lives
// until the server is closed.
func (s *Server) CreateDB(name string) (string, error) {
	if !dbName.MatchString(name) {
		return "", fmt.Errorf("pgtest: database name %q: want [a-z][a-z0-9_]*", name)
	}
	if err := s.exec("CREATE DATABASE " + name + " TEMPLATE template0"); err != nil {
		return "", fmt.Errorf("pgtest: create database %s: %w", name, err)
	}
	return s.URL(name), nil
}
