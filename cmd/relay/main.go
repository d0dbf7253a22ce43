// Command relay is Tether's server. See `relay --help`.
package main

import (
	"os"

	"tether/internal/cli"
)

func main() {
	os.Exit(cli.Main("relay", newRoot(), os.Stderr))
}
