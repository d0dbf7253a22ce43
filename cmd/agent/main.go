// Command agent runs on the machine being supported. See `agent --help`.
package main

import (
	"os"

	"tether/internal/cli"
)

func main() {
	os.Exit(cli.Main("agent", newRoot(), os.Stderr))
}
