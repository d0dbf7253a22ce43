package tech

import (
	"bufio"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/term"

	"tether/internal/trust"
)

// adminKeyPath is this administrator's signing key (0600, encrypted with
// a passphrase), the one `tech audit checkpoint` uses by default too. It
// never leaves this machine.
func (c *Client) adminKeyPath() string { return filepath.Join(c.Home, DefaultAdminKeyFile) }

// FormatAdminKey is the text form of an administrator public key: its
// encoding in standard base64, which `tech audit verify --admin-key` and
// `tech trust init --admin` read.
func FormatAdminKey(p *trust.PublicKey) string {
	return base64.StdEncoding.EncodeToString(p.Bytes())
}

// readAdminKeyFile reads an administrator public key file (hex, base64 or
// raw, as readAdminKey).
func readAdminKeyFile(path string) (*trust.PublicKey, error) { return readAdminKey(path) }

// Passphrase says where the admin key's passphrase comes from: the first
// line of File, else the terminal without echo. Never the command line.
type Passphrase struct {
	// File holds the passphrase on its first line; empty asks on the terminal.
	File string
}

// read returns the passphrase; confirm asks twice on a terminal (a new key).
func (c *Client) readPassphrase(p Passphrase, confirm bool) ([]byte, error) {
	if p.File != "" {
		f, err := os.Open(p.File)
		if err != nil {
			return nil, fmt.Errorf("read passphrase: %w", err)
		}
		defer f.Close()
		line, err := bufio.NewReader(f).ReadString('\n')
		if err != nil && line == "" {
			return nil, fmt.Errorf("passphrase file %s is empty", p.File)
		}
		return []byte(strings.TrimRight(line, "\r\n")), nil
	}
	fd := int(c.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return nil, errors.New("no terminal to ask for the trust key passphrase; pass --passphrase-file FILE")
	}
	ask := func(prompt string) ([]byte, error) {
		fmt.Fprint(c.Stderr, prompt)
		b, err := term.ReadPassword(fd)
		fmt.Fprintln(c.Stderr)
		if err != nil {
			return nil, fmt.Errorf("read passphrase: %w", err)
		}
		return b, nil
	}
	first, err := ask("Trust key passphrase: ")
	if err != nil || !confirm {
		return first, err
	}
	again, err := ask("Again: ")
	if err != nil {
		return nil, err
	}
	if string(first) != string(again) {
		return nil, errors.New("the passphrases differ")
	}
	return first, nil
}

// adminKey opens this administrator's key, making it first when create is
// set and there is none.
func (c *Client) adminKey(p Passphrase, create bool) (*trust.PrivateKey, error) {
	path := c.adminKeyPath()
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if !create {
			return nil, fmt.Errorf("no trust administrator key in %s; make one with `tech trust key`", c.Home)
		}
		pass, err := c.readPassphrase(p, true)
		if err != nil {
			return nil, err
		}
		k, err := trust.GenerateKey(nil)
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(c.Home, 0o700); err != nil {
			return nil, err
		}
		if err := trust.WriteKeyFile(path, k, pass, trust.DefaultScrypt); err != nil {
			return nil, err
		}
		fmt.Fprintf(c.Stderr, "Made your trust administrator key %s (kept in %s, encrypted; it never leaves this machine).\n", k.Public().ID(), path)
		return k, nil
	}
	pass, err := c.readPassphrase(p, false)
	if err != nil {
		return nil, err
	}
	return trust.ReadKeyFile(path, pass)
}

// TrustKey prints this administrator's public key on stdout, making the
// key first if there is none.
func (c *Client) TrustKey(p Passphrase) error {
	k, err := c.adminKey(p, true)
	if err != nil {
		return err
	}
	fmt.Fprintln(c.Stdout, FormatAdminKey(k.Public()))
	return nil
}
