package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tether-support/tether/internal/relay"
)

// storeFlags are the root's --store and --store-file: which database holds
// the relay's state, for every subcommand.
type storeFlags struct {
	url, file string
}

// add registers the flags on cmd as persistent flags.
func (s *storeFlags) add(cmd *cobra.Command) {
	f := cmd.PersistentFlags()
	f.StringVar(&s.url, "store", "", "PostgreSQL URL (postgres://user@host/db; no password here: see --store-file); default: the data directory's own store")
	f.StringVar(&s.file, "store-file", "", "file (mode 0600) holding the PostgreSQL URL, which may carry the password")
}

// apply resolves the flags into $TETHER_STORE_URL, which the relay reads
// (it may already be set, e.g. by a systemd EnvironmentFile).
func (s *storeFlags) apply() error {
	if s.url != "" && s.file != "" {
		return errors.New("give --store or --store-file, not both")
	}
	u := s.url
	if err := relay.CheckStoreFlagURL(u); err != nil {
		return err
	}
	if s.file != "" {
		b, err := os.ReadFile(s.file)
		if err != nil {
			return fmt.Errorf("--store-file: %w", err)
		}
		if st, err := os.Stat(s.file); err == nil && st.Mode().Perm()&0o077 != 0 {
			fmt.Fprintf(os.Stderr, "relay: warning: %s is readable by other users (chmod 600)\n", s.file)
		}
		u = strings.TrimSpace(string(b))
		if u == "" {
			return fmt.Errorf("--store-file: %s is empty", s.file)
		}
	}
	if u == "" {
		return nil
	}
	return os.Setenv(relay.StoreURLEnv, u)
}
