// Command relay is Tether's server. See `relay --help`.
package main

import (
	"os"

	"github.com/tether-support/tether/internal/cli"
)

func main() {
	os.Exit(cli.Main("relay", newRoot(), os.Stderr))
}
