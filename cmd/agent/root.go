package main

import (
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/tether-support/tether/internal/agent"
	"github.com/tether-support/tether/internal/cli"
	"github.com/tether-support/tether/internal/logging"
)

// globals are the flags every agent command shares.
type globals struct {
	config         string
	consentCmd     string
	lockCmd        string
	clipboardCmd   string
	unattended     bool
	consentTimeout time.Duration
	directPath     string
	logLevel       string
	logFormat      string
	logFile        string
	verbose        bool
}

func newRoot() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:   "agent",
		Short: "Tether agent: serves consented, end-to-end encrypted support sessions on this machine",
		Long: `agent runs on the machine being supported. Every session and capability
needs the end user's consent; the shell runs in a PTY; the screen is locked when
a session ends, whatever ended it.`,
		Example: `  agent enroll --relay https://relay.example:8443 --token te_…
  agent run
  agent join ABCDE-FGHJK --relay https://relay.example:8443`,
	}
	root.PersistentFlags().StringVar(&g.config, "config", "", "directory for the device key and relay pin (default $TETHER_AGENT_HOME or ~/.config/tether-agent)")
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "info", "debug, info, warn or error")
	root.PersistentFlags().StringVar(&g.logFormat, "log-format", logging.FormatText, "text or json (one JSON object a line)")
	root.AddCommand(newEnrollCmd(g), newRunCmd(g), newJoinCmd(g), newTrustCmd(g))
	return root
}

// sessionFlags adds the flags of commands that serve sessions.
func sessionFlags(cmd *cobra.Command, g *globals) {
	f := cmd.Flags()
	f.StringVar(&g.consentCmd, "consent-cmd", "", "ask for consent by running CMD through sh -c (exit 0 grants) instead of on this terminal")
	f.StringVar(&g.lockCmd, "lock-cmd", "", "run CMD through sh -c at every session end instead of the platform's screen lock (exit 0 = locked; anything else is reported as a failure)")
	f.StringVar(&g.clipboardCmd, "clipboard-cmd", "", "read or set the clipboard by running CMD through sh -c (TETHER_CLIPBOARD_OP=get prints it, set reads stdin) instead of wl-paste/xclip/pbpaste")
	f.BoolVar(&g.unattended, "allow-unattended", false, "servers and kiosks: start sessions without a prompt when the relay's group policy is unattended too (a reason is required and everything is recorded)")
	f.DurationVar(&g.consentTimeout, "consent-timeout", 60*time.Second, "how long the end user has to answer; no answer refuses")
	logFlags(cmd, g)
	f.StringVar(&g.directPath, "direct-path", "allow", "allow or deny the direct peer-to-peer path to the technician (deny: every byte goes through the relay, no UDP socket is opened)")
}

// agentConfig builds the agent configuration from the flags, logging to
// stderr.
func (g *globals) agentConfig() (agent.Config, error) {
	l, err := logging.New(os.Stderr, g.logFormat, g.logLevel)
	if err != nil {
		return agent.Config{}, err
	}
	return g.config1(l), nil
}

// servingConfig is agentConfig for the commands that serve sessions in
// the end user's terminal (see sessionLogger); close closes the log file.
func (g *globals) servingConfig() (cfg agent.Config, close func(), err error) {
	home := g.home()
	l, close, err := g.sessionLogger(home)
	if err != nil {
		return agent.Config{}, nil, err
	}
	return g.config1(l), close, nil
}

// home is the agent's config directory.
func (g *globals) home() string { return cli.Home(g.config, "TETHER_AGENT_HOME", "tether-agent") }

// config1 is the configuration the flags describe, logging to l.
func (g *globals) config1(l *slog.Logger) agent.Config {
	return agent.Config{
		Home:            g.home(),
		ConsentCmd:      g.consentCmd,
		LockCmd:         g.lockCmd,
		ClipboardCmd:    g.clipboardCmd,
		AllowUnattended: g.unattended,
		ConsentTimeout:  g.consentTimeout,
		DirectPath:      g.directPath,
		Logger:          l,
	}
}
