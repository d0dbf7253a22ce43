package main

import (
	"testing"

	"github.com/tether-support/tether/internal/cli/clitest"
)

// TestCommandTree runs the built agent for every parent command with a bogus
// subcommand (exit 1, one error line and a hint), alone (help, exit 0), and
// with --version.
func TestCommandTree(t *testing.T) {
	clitest.CheckTree(t, "agent", newRoot)
}

// TestExamples: every command of agent shows an Example in --help.
func TestExamples(t *testing.T) {
	clitest.CheckExamples(t, "agent", newRoot)
}
