// Package tech is the technician's and administrator's client: signing in to
// the relay with a pinned certificate, connecting to devices through the
// end-to-end channel, and the administrative calls behind the tech CLI.
package tech

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"tether/internal/transport"
)

// Client is the tech CLI's state: where its config lives and where it
// writes. Create it with New; not safe for concurrent use.
type Client struct {
	// Home holds relay.json (relay URL and pin) and token (0600).
	Home string
	// Stdin, Stdout and Stderr are the terminal; Stdout is for what scripts
	// read, Stderr for people.
	Stdin  *os.File
	Stdout io.Writer
	Stderr io.Writer

	st *state
}

// state is Home/relay.json.
type state struct {
	Relay    string `json:"relay"`
	Pin      string `json:"pin"`
	Username string `json:"username,omitempty"`
}

// New returns a Client for home, loading relay.json if it exists.
func New(home string, stdin *os.File, stdout, stderr io.Writer) (*Client, error) {
	if home == "" {
		return nil, errors.New("no config directory (--config DIR or TETHER_TECH_HOME)")
	}
	c := &Client{Home: home, Stdin: stdin, Stdout: stdout, Stderr: stderr}
	b, err := os.ReadFile(filepath.Join(home, "relay.json"))
	if err == nil {
		var st state
		if err := json.Unmarshal(b, &st); err != nil {
			return nil, fmt.Errorf("config %s is corrupt: %w", filepath.Join(home, "relay.json"), err)
		}
		c.st = &st
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	return c, nil
}

// saveState writes relay.json.
func (c *Client) saveState() error {
	if err := os.MkdirAll(c.Home, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", c.Home, err)
	}
	b, _ := json.MarshalIndent(c.st, "", "  ")
	return os.WriteFile(filepath.Join(c.Home, "relay.json"), append(b, '\n'), 0o600)
}

func (c *Client) tokenPath() string { return filepath.Join(c.Home, "token") }

// token returns the stored login token.
func (c *Client) token() (string, error) {
	b, err := os.ReadFile(c.tokenPath())
	if errors.Is(err, os.ErrNotExist) || c.st == nil {
		return "", errors.New("not signed in: run `tech login --relay URL --user NAME` first")
	}
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// endpoint returns how to reach the relay with the stored token.
func (c *Client) endpoint() (transport.Endpoint, error) {
	tok, err := c.token()
	if err != nil {
		return transport.Endpoint{}, err
	}
	return transport.Endpoint{URL: c.st.Relay, Pin: c.st.Pin, Token: tok}, nil
}
