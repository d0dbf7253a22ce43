//go:build tools

package main
import (
 _ "github.com/coder/websocket"
 _ "golang.org/x/crypto/argon2"
 _ "golang.org/x/term"
 _ "github.com/spf13/cobra"
 _ "go.etcd.io/bbolt"
 _ "github.com/creack/pty"
 _ "github.com/pquerna/otp"
 _ "github.com/schollz/progressbar/v3"
 _ "github.com/rogpeppe/go-internal/testscript"
)
func main(){}
