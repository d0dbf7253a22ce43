// Package version holds the release version and source commit of the
// programs. Release builds set both with the linker:
//
//	go build -ldflags "-X github.com/tether-support/tether/internal/version.Version=1.2.0 \
//	    -X github.com/tether-support/tether/internal/version.Commit=<git commit>"
//
// (the Makefile's build and dist targets do). A plain `go build` leaves them
// at "dev" and "unknown".
package version

import "fmt"

// Version is the release version, "dev" for a development build.
var Version = "dev"

// Commit is the source commit the program was built from, "unknown" when
// the build did not say.
var Commit = "unknown"

// String returns the one line `--version` prints for program name, e.g.
// "relay 1.2.0 (commit 0123abcd…)".
func String(name string) string {
	return fmt.Sprintf("%s %s (commit %s)", name, Version, Commit)
}
