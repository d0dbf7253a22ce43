package tech

import (
	"bufio"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/tether-support/tether/internal/trust"
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
// line of File, else Ask. Never the command line.
type Passphrase struct {
	// File holds the passphrase on its first line; empty means Ask.
	File string
	// Ask asks a person with prompt (on a terminal, without echo); nil
	// when there is nobody to ask.
	Ask func(prompt string) ([]byte, error)
}

// MadeKey is this administrator's key, made now.
type MadeKey struct {
	ID trust.KeyID
	// File keeps it, encrypted with the passphrase.
	File string
}

// ErrNoPassphrase is the error for a Passphrase with neither File nor Ask.
var ErrNoPassphrase = errors.New("no terminal to ask for the trust key passphrase; pass --passphrase-file FILE")

// readPassphrase returns the passphrase; confirm asks twice (a new key).
func readPassphrase(p Passphrase, confirm bool) ([]byte, error) {
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
	ask := p.Ask
	if ask == nil {
		return nil, ErrNoPassphrase
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
// set and there is none (made says so).
func (c *Client) adminKey(p Passphrase, create bool) (k *trust.PrivateKey, made *MadeKey, err error) {
	if c.Home == "" {
		return nil, nil, errNoHome
	}
	path := c.adminKeyPath()
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if !create {
			return nil, nil, fmt.Errorf("no trust administrator key in %s; make one with `tech trust key`", c.Home)
		}
		pass, err := readPassphrase(p, true)
		if err != nil {
			return nil, nil, err
		}
		k, err := trust.GenerateKey(nil)
		if err != nil {
			return nil, nil, err
		}
		if err := os.MkdirAll(c.Home, 0o700); err != nil {
			return nil, nil, err
		}
		if err := trust.WriteKeyFile(path, k, pass, trust.DefaultScrypt); err != nil {
			return nil, nil, err
		}
		return k, &MadeKey{ID: k.Public().ID(), File: path}, nil
	}
	pass, err := readPassphrase(p, false)
	if err != nil {
		return nil, nil, err
	}
	k, err = trust.ReadKeyFile(path, pass)
	return k, nil, err
}

// TrustKey returns this administrator's public key (its text form is
// FormatAdminKey), making the key first if there is none (made says so).
func (c *Client) TrustKey(p Passphrase) (pub *trust.PublicKey, made *MadeKey, err error) {
	k, made, err := c.adminKey(p, true)
	if err != nil {
		return nil, made, err
	}
	return k.Public(), made, nil
}
