package relay

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRedactStoreURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"postgres://tether@db/tether", "postgres://tether@db/tether"},
		{"postgres://tether:s3cret@db:5432/tether?sslmode=verify-full", "postgres://tether@db:5432/tether?sslmode=verify-full"},
		{"postgresql://db/tether?password=s3cret&sslmode=require", "postgresql://db/tether?sslmode=require"},
		{"not a url", "(unparseable URL)"},
	} {
		if got := RedactStoreURL(tc.in); got != tc.want || strings.Contains(got, "s3cret") {
			t.Errorf("RedactStoreURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCheckStoreFlagURL(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"", true},
		{"postgres://tether@127.0.0.1/tether", true},
		{"postgresql:///tether?host=/run/postgresql", true},
		{"postgres://tether:s3cret@127.0.0.1/tether", false},
		{"postgres://127.0.0.1/tether?password=s3cret", false},
		{"mysql://127.0.0.1/tether", false},
	} {
		err := CheckStoreFlagURL(tc.in)
		if (err == nil) != tc.ok || (err != nil && strings.Contains(err.Error(), "s3cret")) {
			t.Errorf("CheckStoreFlagURL(%q) = %v, want ok=%v", tc.in, err, tc.ok)
		}
	}
}

// TestStoreConfig: bbolt by default; the data directory's record wins when
// the environment names nothing; a different database, or a --store on a
// bbolt directory, is refused.
func TestStoreConfig(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(StoreURLEnv, "")
	cfg, err := storeConfig(dir)
	if err != nil || cfg.URL != "" || cfg.Path != dbPath(dir) {
		t.Fatalf("default: %+v, %v", cfg, err)
	}
	if err := os.WriteFile(dbPath(dir), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(StoreURLEnv, "postgres://a@db/x")
	if _, err := storeConfig(dir); err == nil || !strings.Contains(err.Error(), "relay migrate") {
		t.Fatalf("--store on a bbolt directory: %v", err)
	}
	os.Remove(dbPath(dir))
	if err := writeStoreRecord(dir, "postgres://a:pw@db/x"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "store-url")); strings.Contains(string(b), "pw") {
		t.Fatalf("the record keeps the password: %q", b)
	}
	t.Setenv(StoreURLEnv, "postgres://a:pw@db/x")
	if cfg, err := storeConfig(dir); err != nil || cfg.URL != "postgres://a:pw@db/x" {
		t.Fatalf("same database with its password: %+v, %v", cfg, err)
	}
	t.Setenv(StoreURLEnv, "postgres://a@db/other")
	if _, err := storeConfig(dir); err == nil {
		t.Fatal("another database was accepted for the directory")
	}
	t.Setenv(StoreURLEnv, "")
	if cfg, err := storeConfig(dir); err != nil || cfg.URL != "postgres://a@db/x" {
		t.Fatalf("from the record: %+v, %v", cfg, err)
	}
}
