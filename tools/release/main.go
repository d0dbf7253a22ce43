// Command release packages Tether for distribution: the release archives,
// the .deb packages and the signed SHA256SUMS file. The Makefile's dist
// and deb targets build the programs (reproducibly) and then run it; see
// docs/operations.md, "Releases".
//
// It is its own Go module so that the packaging library (nfpm) and what it
// pulls in never enter the dependency graph of the programs themselves.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
)

const usage = `usage: release dist|deb [flags]

  dist   archives for every DIST/build/OS_ARCH, .deb packages for the linux
         ones, then DIST/SHA256SUMS, signed when DIST_SIGNING_KEY is set
  deb    .deb packages from the programs in -bin (this machine's arch)

Example:
  go run ./tools/release dist -root . -bin bin -dist dist -version 1.2.0
  go run ./tools/release deb -root . -bin bin -dist dist -version 1.2.0
`

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "release: error: %v\n", err)
		os.Exit(1)
	}
}

// run parses the command line and does what it says.
func run(args []string, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "dist" && args[0] != "deb") {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("want a subcommand: dist or deb")
	}
	fs := flag.NewFlagSet("release "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage); fs.PrintDefaults() }
	var o options
	fs.StringVar(&o.root, "root", ".", "the repository's top directory (README.md, docs/, packaging/)")
	fs.StringVar(&o.bin, "bin", "bin", "directory of relay, tech and agent built for this machine (they write the man pages and completions)")
	fs.StringVar(&o.dist, "dist", "dist", "output directory; dist reads the cross-built programs from DIST/build/OS_ARCH")
	fs.StringVar(&o.version, "version", "dev", "release version")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	o.log = stderr
	if err := o.init(); err != nil {
		return err
	}
	if args[0] == "deb" {
		return o.debs()
	}
	return o.release()
}
