// Command agent runs on the machine being supported. See `agent --help`.
package main

import (
	"os"

	"github.com/tether-support/tether/internal/cli"
)

func main() {
	os.Exit(cli.Main("agent", newRoot(), os.Stderr))
}
