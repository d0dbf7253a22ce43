package store_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tether-support/tether/internal/store"
)

func TestOpenConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cases := []struct {
		name string
		cfg  store.Config
		want error // nil: opens; errAny: any error
	}{
		{"path", store.Config{Path: filepath.Join(dir, "a.db")}, nil},
		{"bbolt with path", store.Config{URL: "bbolt", Path: filepath.Join(dir, "b.db")}, nil},
		{"bbolt URL", store.Config{URL: "bbolt://" + filepath.Join(dir, "c.db")}, nil},
		{"nothing", store.Config{}, errAny},
		{"bbolt without path", store.Config{URL: "bbolt"}, errAny},
		{"relative bbolt URL", store.Config{URL: "bbolt://c.db"}, errAny},
		{"postgres", store.Config{URL: "postgres://tether:s3cret@db.example/tether"}, store.ErrUnsupported},
		{"other scheme", store.Config{URL: "mysql://x"}, store.ErrUnsupported},
		{"no scheme", store.Config{URL: "relay.db"}, store.ErrUnsupported},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db, err := store.OpenConfig(c.cfg)
			switch {
			case c.want == nil && err != nil:
				t.Fatalf("OpenConfig(%+v): %v", c.cfg, err)
			case c.want == nil:
				db.Close()
			case err == nil:
				db.Close()
				t.Fatalf("OpenConfig(%+v) opened a store; want an error", c.cfg)
			case c.want != errAny && !errors.Is(err, c.want):
				t.Fatalf("OpenConfig(%+v): %v; want one wrapping %v", c.cfg, err, c.want)
			case strings.Contains(err.Error(), "s3cret"):
				t.Fatalf("the error repeats the URL's password: %v", err)
			}
		})
	}
}

// errAny stands for any error in TestOpenConfig.
var errAny = errors.New("any error")
