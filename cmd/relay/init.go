package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tether-support/tether/internal/cli"
	"github.com/tether-support/tether/internal/relay"
)

type initOptions struct {
	data, admin, passwordFile, org string
	hosts                          []string
}

func newInitCmd() *cobra.Command {
	var o initOptions
	cmd := &cobra.Command{
		Use:   "init --data DIR --admin NAME --password-file FILE",
		Short: "Create a new data directory with the first superadmin",
		Long: `init creates a new data directory: the bbolt database, a TLS key and
self-signed certificate, the relay's audit keys and the first superadmin.
It prints the certificate fingerprint (SHA256:<hex>) on stdout; clients pin it.
It refuses a directory that is not empty. The password is read from a file
(its first line), never from the command line.`,
		Example: `  umask 077; printf '%s\n' 'a long passphrase' > pw
  relay init --data /var/lib/tether --admin alice --password-file pw`,
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			pw, err := readPasswordFile(o.passwordFile)
			if err != nil {
				return err
			}
			fp, err := relay.Init(cmd.Context(), relay.InitOptions{Dir: o.data, Admin: o.admin, Password: pw, Org: o.org, Hosts: o.hosts})
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), fp)
			fmt.Fprintf(cmd.ErrOrStderr(), "Initialised %s with superadmin %q.\nNext: relay serve --data %s\n%s", o.data, o.admin, o.data, recipientHint)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.data, "data", "", "data directory to create (required)")
	f.StringVar(&o.admin, "admin", "", "username of the first superadmin (required)")
	f.StringVar(&o.passwordFile, "password-file", "", "file whose first line is the superadmin's password (required)")
	f.StringVar(&o.org, "org", "default", "organisation name shown to end users")
	f.StringSliceVar(&o.hosts, "host", nil, "extra DNS name or IP for the TLS certificate (repeatable)")
	for _, n := range []string{"data", "admin", "password-file"} {
		cmd.MarkFlagRequired(n)
	}
	return cmd
}

// readPasswordFile reads the first line of path.
func readPasswordFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read password file: %w", err)
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		if err != nil && !errors.Is(err, os.ErrClosed) {
			return nil, fmt.Errorf("password file %s is empty", path)
		}
		return nil, fmt.Errorf("password file %s has an empty first line", path)
	}
	return []byte(line), nil
}

// recipientHint tells the operator that sessions need a reviewer key.
const recipientHint = `Sessions are recorded and refused until a reviewer key is configured:
  tech keys generate -o reviewer.key          # keep reviewer.key offline
  tech recordings recipients add <the public key it printed>
`
