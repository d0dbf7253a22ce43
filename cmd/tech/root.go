package main

import (
	"github.com/spf13/cobra"

	"github.com/tether-support/tether/internal/cli"
	"github.com/tether-support/tether/internal/tech"
)

// globals are the flags every tech command shares.
type globals struct {
	config string
}

// client builds the tech client for cmd; its session events are printed.
func (g *globals) client(cmd *cobra.Command) (*tech.Client, error) {
	c, _, err := g.sessionClient(cmd)
	return c, err
}

// sessionClient builds the tech client for cmd and the presenter that
// prints its session events.
func (g *globals) sessionClient(cmd *cobra.Command) (*tech.Client, *presenter, error) {
	c, err := tech.New(cli.Home(g.config, "TETHER_TECH_HOME", "tether-tech"))
	if err != nil {
		return nil, nil, err
	}
	p := newPresenter(cmd.OutOrStdout(), cmd.ErrOrStderr())
	c.Observer = p
	return c, p, nil
}

func newRoot() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:   "tech",
		Short: "Tether technician and administrator CLI",
		Long: `tech signs in to a Tether relay and gives remote support through it: every
session needs the end user's consent, and everything between you and the device
is end-to-end encrypted (the relay sees only ciphertext).`,
		Example: `  tech login --relay https://relay.example:8443 --user alice --password-stdin < pw
  tech devices list
  tech connect clinic-pc-7
  tech connect clinic-pc-7 -- uname -a`,
	}
	root.PersistentFlags().StringVar(&g.config, "config", "", "directory for the login token and relay pin (default $TETHER_TECH_HOME or ~/.config/tether-tech)")
	root.AddCommand(newLoginCmd(g), newLogoutCmd(g), newDevicesCmd(g), newConnectCmd(g), newSessionCmd(g), newSessionsCmd(g), newKeysCmd(g), newRecordingsCmd(g), newAuditCmd(g), newCpCmd(g), newClipboardCmd(g))
	root.AddCommand(newPasswdCmd(g), newUsersCmd(g), newPolicyCmd(g), newMFACmd(g), newRolesCmd(g), newOrgsCmd(g), newEmergencyLoginCmd(g))
	root.AddCommand(newTrustCmd(g), newReportsCmd(g), newViewCmd(g))
	return root
}
