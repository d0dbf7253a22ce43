package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/tether-support/tether/internal/logging"
)

// logFileName is the agent's log file in its config directory.
const logFileName = "agent.log"

// logFlags adds the flags that choose where the log of a command that
// serves sessions goes.
func logFlags(cmd *cobra.Command, g *globals) {
	f := cmd.Flags()
	f.StringVar(&g.logFile, "log-file", "", `append the log to FILE (default agent.log in the config directory, mode 0600, rotated at 10 MiB to agent.log.1); "off" writes none`)
	f.BoolVar(&g.verbose, "verbose", false, "also print the log on this terminal (by default it shows only the consent prompt, the session banner and notices)")
}

// sessionLogger returns the logger of a command that serves sessions in
// the end user's terminal: the log goes to the log file, and to stderr
// as well with --verbose or when stderr is not a terminal (a service
// manager's journal or a pipe, where no person reads a prompt). close
// closes the file.
func (g *globals) sessionLogger(home string) (l *slog.Logger, close func(), err error) {
	var ws []io.Writer
	close = func() {}
	if g.logFile != "off" {
		path := g.logFile
		if path == "" {
			if err := os.MkdirAll(home, 0o700); err != nil {
				return nil, nil, fmt.Errorf("create config directory: %w", err)
			}
			path = filepath.Join(home, logFileName)
		}
		f, err := logging.OpenFile(path, 0)
		if err != nil {
			return nil, nil, fmt.Errorf("%w (choose another --log-file, or --log-file off)", err)
		}
		ws, close = append(ws, f), func() { f.Close() }
	}
	if g.verbose || !term.IsTerminal(int(os.Stderr.Fd())) {
		ws = append(ws, os.Stderr)
	}
	l, err = logging.New(io.MultiWriter(ws...), g.logFormat, g.logLevel)
	if err != nil {
		close()
		return nil, nil, err
	}
	return l, close, nil
}
