package tech_test

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/tether-support/tether/internal/tech"
)

// A program with no terminal: it shows the security code as soon as the
// handshake is done, waits for the end user's consent, then runs a
// command with its own reader and writers.
func ExampleClient_Dial() {
	ctx := context.Background()
	c, err := tech.New(os.ExpandEnv("$HOME/.config/tether-tech"))
	if err != nil {
		panic(err)
	}
	s, err := c.Dial(ctx, tech.SessionRequest{Device: "clinic-pc-7", Caps: []string{"shell"}, Reason: "ticket 4711"})
	if err != nil {
		panic(err)
	}
	defer s.Close()
	fmt.Println("Ask the end user to confirm the code", s.SecurityCode())
	if err := s.AwaitConsent(ctx); err != nil {
		panic(err)
	}
	var out strings.Builder
	err = s.Run(ctx, tech.RunOptions{Argv: []string{"uname -a"}, Stdout: &out})
	fmt.Printf("%q %v\n", out.String(), err)
}

// A program that holds a relay's address, its certificate fingerprint and
// a login token, and no config directory: it lists the devices online.
func ExampleNewWithToken() {
	c, err := tech.NewWithToken("https://relay.example:8443", "SHA256:"+strings.Repeat("ab", 32), os.Getenv("TETHER_TOKEN"))
	if err != nil {
		panic(err)
	}
	devs, err := c.Devices(context.Background())
	if err != nil {
		panic(err)
	}
	for _, d := range devs {
		if d.Online {
			fmt.Printf("%q\n", d.Name) // %q: the name is the relay's, raw
		}
	}
}
