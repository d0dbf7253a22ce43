package relay

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBackupRefusesPostgres: a data directory whose state is in
// PostgreSQL is refused with a pointer to pg_dump and the cluster bundle,
// before anything is written; a directory that is no relay's is refused
// as before.
func TestBackupRefusesPostgres(t *testing.T) {
	t.Setenv(StoreURLEnv, "")
	tests := []struct {
		name, storeURL, want string
	}{
		{"postgres", "postgres://tether@db.example/tether\n", "back up the database with pg_dump and the directory with relay cluster export"},
		{"not a relay", "", "is not a relay data directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.storeURL != "" {
				if err := os.WriteFile(storeRecordPath(dir), []byte(tc.storeURL), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			out := filepath.Join(t.TempDir(), "relay.tar")
			_, err := Backup(BackupOptions{Dir: dir, Out: out})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Backup: %v, want %q", err, tc.want)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Fatalf("a refused backup wrote %s: %v", out, err)
			}
		})
	}
}
