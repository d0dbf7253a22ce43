package cli

import (
	"fmt"
	"strings"

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
// instead of printing its help and exiting 0, and so does `help` for a
// topic that is no command. A parent run without a
// subcommand still prints its help and exits 0. A hidden `gen-manpages DIR`
// command writes the man pages.
func Prepare(name string, root *cobra.Command) {
	root.Version = version.Version
	root.SetVersionTemplate(version.String(name) + "\n")
	root.AddCommand(manCommand(name))
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	strictHelp(root)
	builtinExamples(name, root)
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

// strictHelp makes cobra's `help TOPIC` fail like an unknown subcommand
// when TOPIC names no command (cobra prints "Unknown help topic" and the
// root's usage, and exits 0).
func strictHelp(root *cobra.Command) {
	for _, h := range root.Commands() {
		if h.Name() != "help" || h.Run == nil {
			continue
		}
		show := h.Run
		h.Run = nil
		h.RunE = func(cmd *cobra.Command, args []string) error {
			if target, rest, err := root.Find(args); err != nil || len(rest) > 0 {
				topic := strings.Join(args, " ")
				if target != nil && len(rest) > 0 {
					topic = rest[0]
				}
				return &UsageError{
					Msg:  fmt.Sprintf("unknown help topic %q for %q", topic, root.Name()),
					Help: fmt.Sprintf("run '%s --help'", root.Name()),
				}
			}
			show(cmd, args)
			return nil
		}
	}
}

// builtinExamples gives cobra's own help and completion commands an
// Example in --help, as every other command has.
func builtinExamples(name string, root *cobra.Command) {
	for _, c := range root.Commands() {
		switch c.Name() {
		case "help":
			c.Example = "  " + name + " help\n  " + name + " help " + firstCommand(root)
		case "completion":
			c.Example = "  " + name + " completion bash > /etc/bash_completion.d/" + name +
				"\n  source <(" + name + " completion zsh)"
			for _, sh := range c.Commands() {
				sh.Example = completionExample(name, sh.Name())
			}
		}
	}
}

// completionExample is how to load NAME's completion script for shell sh.
func completionExample(name, sh string) string {
	switch sh {
	case "bash":
		return "  source <(" + name + " completion bash)\n  " + name + " completion bash > /etc/bash_completion.d/" + name
	case "zsh":
		return "  " + name + " completion zsh > \"${fpath[1]}/_" + name + "\""
	case "fish":
		return "  " + name + " completion fish > ~/.config/fish/completions/" + name + ".fish"
	case "powershell":
		return "  " + name + " completion powershell | Out-String | Invoke-Expression"
	}
	return "  " + name + " completion " + sh
}

// firstCommand names root's first visible command other than help and
// completion, for an example of `help TOPIC`.
func firstCommand(root *cobra.Command) string {
	for _, c := range root.Commands() {
		if c.IsAvailableCommand() && c.Name() != "help" && c.Name() != "completion" {
			return c.Name()
		}
	}
	return "help"
}
