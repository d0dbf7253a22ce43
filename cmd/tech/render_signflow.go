package main

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/tether-support/tether/internal/tech"
)

// askYes asks question on stderr (with " [y/N] ") and reads a line from
// stdin: true for "y" or "yes", any case.
func askYes(stdin io.Reader, stderr io.Writer, question string) bool {
	fmt.Fprintf(stderr, "%s [y/N] ", question)
	line, _ := bufio.NewReader(stdin).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true
	}
	fmt.Fprintln(stderr)
	return false
}

// printWrote tells where a partly signed document went and what the other
// administrators do next; nothing when w is nil.
func printWrote(stderr io.Writer, w *tech.WrittenDocument) {
	if w == nil {
		return
	}
	fmt.Fprintf(stderr, "Wrote %s with 1 of %d signatures. Next: the other administrators run `tech trust sign %s`, then `tech trust publish %s`.\n",
		w.File, w.Need, w.File, w.File)
}
