package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tether-support/tether/internal/version"
)

// UsageError is a command-line mistake with advice on what to run instead.
type UsageError struct {
	Msg  string
	Help string // the hint line
}

// Error returns the message.
func (e *UsageError) Error() string { return e.Msg }

// Hint returns the advice.
func (e *UsageError) Hint() string { return e.Help }

// Prepare finishes a program's command tree before it runs: `--version`
// prints the version and commit (internal/version), and every parent
// command — the root and every command with subcommands, including cobra's
// own `completion` — rejects an unknown subcommand with a UsageError
// instead of printing its help and exiting 0. A parent run without a
// subcommand still prints its help and exits 0. A hidden `gen-manpages DIR`
// command writes the man pages.
func Prepare(name string, root *cobra.Command) {
	root.Version = version.Version
	root.SetVersionTemplate(version.String(name) + "\n")
	root.AddCommand(manCommand(name))
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	for _, p := range Parents(root) {
		p.Args = rejectUnknown
		if p.Run == nil && p.RunE == nil {
			p.DisableFlagsInUseLine = true // "tech audit", not "tech audit [flags]"
			p.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
		}
	}
}

// Parents returns root and every command below it that has subcommands,
// depth first.
func Parents(root *cobra.Command) []*cobra.Command {
	if !root.HasSubCommands() {
		return nil
	}
	out := []*cobra.Command{root}
	for _, c := range root.Commands() {
		out = append(out, Parents(c)...)
	}
	return out
}

// rejectUnknown is the Args check of a parent command: any argument left
// after cobra found no subcommand of that name is an unknown subcommand.
func rejectUnknown(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	path := cmd.CommandPath()
	return &UsageError{
		Msg:  fmt.Sprintf("unknown command %q for %q", args[0], path),
		Help: fmt.Sprintf("run '%s --help'", path),
	}
}
