package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tether-support/tether/internal/playback"
	"github.com/tether-support/tether/internal/replay"
	"github.com/tether-support/tether/internal/sanitize"
)

// playInBrowser serves rec on a local page until the command is
// interrupted: the URL on stdout, what is happening on stderr. The browser
// is opened as for tech view (openBrowser).
func playInBrowser(cmd *cobra.Command, rec *replay.Recording, id string, speed float64, open bool) error {
	kind := "terminal"
	if rec.Desktop {
		kind = "desktop"
	}
	s, err := playback.Serve(rec, playback.Options{Title: "Tether recording " + sanitize.Display(id, 64), Speed: speed})
	if err != nil {
		return err
	}
	defer s.Close()
	stderr := cmd.ErrOrStderr()
	fmt.Fprintf(stderr, "Playing %s recording %s (%s) in your browser; press Ctrl-C to stop.\n",
		kind, sanitize.Display(id, 64), rec.Duration.Round(1e6))
	if rec.Cut != nil {
		fmt.Fprintf(stderr, "tech: warning: the recording ends early (incomplete); it plays up to the cut\n")
	}
	fmt.Fprintln(cmd.OutOrStdout(), s.URL())
	if open {
		if cleanup, err := openBrowser(s.URL(), s.Opened()); err != nil {
			fmt.Fprintf(stderr, "tech: could not open a browser (%v); open the URL above yourself\n", err)
		} else {
			defer cleanup()
		}
	}
	<-cmd.Context().Done()
	return nil
}
