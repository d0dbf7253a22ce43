// Command tech is the technician's and administrator's CLI. See `tech --help`.
package main

import (
	"os"

	"github.com/tether-support/tether/internal/cli"
)

func main() {
	os.Exit(cli.Main("tech", newRoot(), os.Stderr))
}
