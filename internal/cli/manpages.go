package cli

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/tether-support/tether/internal/version"
)

// manCommand is the hidden command that writes the program's man pages
// (section 1, one per command, from the cobra tree) into a directory. The
// release and package builds run it; the pages' date is
// $SOURCE_DATE_EPOCH when set, so that a rebuild gives the same bytes.
func manCommand(name string) *cobra.Command {
	return &cobra.Command{
		Use:     "gen-manpages DIR",
		Short:   "Write the man pages into DIR (release builds)",
		Example: "  " + name + " gen-manpages ./man1",
		Hidden:  true,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			date, err := sourceDate()
			if err != nil {
				return err
			}
			if err := os.MkdirAll(args[0], 0o755); err != nil {
				return fmt.Errorf("man pages: %w", err)
			}
			header := &doc.GenManHeader{
				Section: "1",
				Date:    &date,
				Source:  "Tether " + version.Version,
				Manual:  "Tether manual",
			}
			root := cmd.Root()
			root.DisableAutoGenTag = true
			if err := doc.GenManTree(root, header, args[0]); err != nil {
				return fmt.Errorf("man pages: %w", err)
			}
			return nil
		},
	}
}

// sourceDate is $SOURCE_DATE_EPOCH (reproducible-builds.org) or now.
func sourceDate() (time.Time, error) {
	v := os.Getenv("SOURCE_DATE_EPOCH")
	if v == "" {
		return time.Now().UTC(), nil
	}
	sec, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q is not a number of seconds", v)
	}
	return time.Unix(sec, 0).UTC(), nil
}
