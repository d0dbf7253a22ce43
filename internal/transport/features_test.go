package transport

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/e2e"
	"github.com/tether-support/tether/internal/protocol"
)

// testOnly is a feature name no build announces, for tests.
const testOnly = "test.only"

// TestChannelNegotiatesFeatures runs the feature exchange with various
// lists: both sides end with the same set, the names both announced, and
// the channel carries on with the sequence numbers after it.
func TestChannelNegotiatesFeatures(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name        string
		tech, agent protocol.Features
		want        []string
	}{
		{"this build on both sides", Supported(), Supported(), []string{protocol.FeatureDirectPath, protocol.FeaturePathSwitch, protocol.FeatureTechCert}},
		{"a test-only feature on both sides", protocol.MustFeatures(testOnly, protocol.FeaturePathSwitch), protocol.MustFeatures(testOnly), []string{testOnly}},
		{"names only one side knows are dropped", protocol.MustFeatures(testOnly, "tech.new"), protocol.MustFeatures("agent-new", testOnly), []string{testOnly}},
		{"an empty list", protocol.Features{}, Supported(), nil},
		{"nothing in common", protocol.MustFeatures("a"), protocol.MustFeatures("b"), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tech, agent, _, _ := memHandshake(t)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := negotiatePair(ctx, tech, agent, tc.tech, tc.agent); err != nil {
				t.Fatal(err)
			}
			for side, ch := range map[string]*Channel{"technician": tech, "agent": agent} {
				if got := ch.Features().Names(); !slices.Equal(got, tc.want) && len(got)+len(tc.want) > 0 {
					t.Errorf("%s negotiated %q, want %q", side, got, tc.want)
				}
			}
			if err := tech.Send(ctx, protocol.InStdin, []byte("x")); err != nil {
				t.Fatal(err)
			}
			if typ, p, err := agent.Recv(ctx); err != nil || typ != protocol.InStdin || string(p) != "x" {
				t.Fatalf("after the exchange: got %v %q %v, want stdin \"x\"", typ, p, err)
			}
			if err := agent.Negotiate(ctx, tc.agent); !errors.Is(err, ErrFeatures) {
				t.Fatalf("second Negotiate: got %v, want ErrFeatures", err)
			}
		})
	}
}

// TestChannelPathSwitchNeedsFeature negotiates without path-switch: Switch
// refuses to send a switch point, and one sent anyway is a malformed
// message even to a receiver that prepared a path.
func TestChannelPathSwitchNeedsFeature(t *testing.T) {
	t.Parallel()
	tech, agent, _, _ := memHandshake(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := negotiatePair(ctx, tech, agent, Supported(), protocol.MustFeatures(testOnly)); err != nil {
		t.Fatal(err)
	}
	newT, newA := memPair("direct")
	mustPrepare(t, tech, newT)
	mustPrepare(t, agent, newA)
	if err := tech.Switch(ctx); !errors.Is(err, ErrSwitch) {
		t.Fatalf("Switch without the feature: got %v, want ErrSwitch", err)
	}
	if err := tech.Send(ctx, protocol.InStdin, []byte("still here")); err != nil {
		t.Fatal(err)
	}
	if typ, p, err := agent.Recv(ctx); err != nil || typ != protocol.InStdin || string(p) != "still here" {
		t.Fatalf("after a refused Switch: got %v %q %v, want stdin on the old path", typ, p, err)
	}
	if err := tech.SendMsg(ctx, []byte{byte(protocol.InPathSwitch)}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := agent.Recv(ctx); !errors.Is(err, protocol.ErrBadInner) {
		t.Fatalf("switch point without the feature: got %v, want ErrBadInner", err)
	}
}

// TestNegotiateRefusesTampering has the path's operator (the relay) drop,
// alter, swap or replace the technician's feature list. The agent never
// accepts a list the technician did not send: the exchange fails with the
// channel's error, and the channel stays failed; the technician's side,
// whose direction is untouched, completes.
func TestNegotiateRefusesTampering(t *testing.T) {
	t.Parallel()
	// Another session's feature list, sealed under other keys.
	otherT, otherA, otherTA, _ := memHandshake(t)
	{
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := negotiatePair(ctx, otherT, otherA, Supported(), Supported()); err != nil {
			t.Fatal(err)
		}
		cancel()
	}
	foreign := sealedFrames(otherTA)[0]
	cases := []struct {
		name string
		// attack rewrites the technician's first sealed frame (its list);
		// later frames go through unless held.
		attack func(list []byte, ab *memPath) [][]byte
		// after is sent by the technician once its exchange is done.
		after   bool
		wantErr error
	}{
		{"list dropped", func([]byte, *memPath) [][]byte { return nil }, true, e2e.ErrOutOfOrder},
		{"list withheld", func([]byte, *memPath) [][]byte { return nil }, false, context.DeadlineExceeded},
		{"list altered", func(l []byte, _ *memPath) [][]byte {
			l = slices.Clone(l)
			l[len(l)-20] ^= 1
			return [][]byte{l}
		}, true, e2e.ErrAuthentication},
		{"list truncated", func(l []byte, _ *memPath) [][]byte { return [][]byte{l[:12]} }, true, e2e.ErrTruncated},
		{"list replaced by another session's", func([]byte, *memPath) [][]byte { return [][]byte{foreign} }, true, e2e.ErrAuthentication},
		{"agent's own list reflected back", func(_ []byte, ab *memPath) [][]byte { return [][]byte{sealedFrames(ab)[0]} }, true, e2e.ErrAuthentication},
		{"list replayed", func(l []byte, _ *memPath) [][]byte { return [][]byte{l, l} }, false, e2e.ErrReplayed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tech, agent, ta, ab := memHandshake(t)
			first := true
			ta.setTamper(func(f []byte) [][]byte {
				if !first {
					return [][]byte{f}
				}
				first = false
				return tc.attack(f, ab)
			})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			actx := ctx
			if errors.Is(tc.wantErr, context.DeadlineExceeded) {
				var acancel context.CancelFunc
				actx, acancel = context.WithTimeout(ctx, 200*time.Millisecond)
				defer acancel()
			}
			done := make(chan error, 1)
			go func() { done <- agent.Negotiate(actx, Supported()) }()
			for len(sealedFrames(ab)) == 0 { // the agent's list is out (to reflect it)
				if ctx.Err() != nil {
					t.Fatal("the agent sent no feature list")
				}
				time.Sleep(time.Millisecond)
			}
			if err := tech.Negotiate(ctx, Supported()); err != nil {
				t.Fatalf("technician's exchange: %v", err)
			}
			if tc.after {
				if err := tech.Send(ctx, protocol.InStdin, []byte("x")); err != nil {
					t.Fatal(err)
				}
			}
			err := <-done
			if tc.name == "list replayed" {
				// The first copy is the list; the copy is a replay to
				// whoever reads next.
				if err != nil {
					t.Fatalf("agent's exchange: %v", err)
				}
				if _, _, err := agent.Recv(ctx); !errors.Is(err, tc.wantErr) {
					t.Fatalf("replayed list: got %v, want %v", err, tc.wantErr)
				}
				return
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("agent's exchange: got %v, want %v", err, tc.wantErr)
			}
			if agent.Features().Len() != 0 {
				t.Fatalf("agent negotiated %v after a failed exchange", agent.Features())
			}
			if !errors.Is(tc.wantErr, context.DeadlineExceeded) {
				if _, _, err := agent.Recv(ctx); err == nil {
					t.Fatal("channel usable after a failed exchange")
				}
			}
		})
	}
}

// TestNegotiateRefusesPeer has an authenticated peer (a hostile one, or a
// version-1 peer from before feature lists) open its direction with
// something other than a valid feature list: the exchange fails clearly
// and the channel stays failed.
func TestNegotiateRefusesPeer(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		first   []byte
		wantErr error
	}{
		{"no list: a start message first", []byte("\x02{\"pty\":true}"), ErrFeatures},
		{"no list: the consent answer first", []byte("\x01{\"granted\":true}"), ErrFeatures},
		{"list that is not JSON", []byte("\x18features"), ErrFeatures},
		{"list with a name twice", []byte("\x18{\"features\":[\"a\",\"a\"]}"), ErrFeatures},
		{"list with an upper-case name", []byte("\x18{\"features\":[\"A\"]}"), protocol.ErrBadInner},
		{"unknown inner type", []byte{0x7f}, protocol.ErrBadInner},
		{"empty message", []byte{}, protocol.ErrBadInner},
		{"the peer's end", []byte("\x08bye"), &EndError{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tech, agent, _, _ := memHandshake(t)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := tech.SendMsg(ctx, tc.first); err != nil {
				t.Fatal(err)
			}
			err := agent.Negotiate(ctx, Supported())
			var ee *EndError
			if _, isEnd := tc.wantErr.(*EndError); isEnd {
				if !errors.As(err, &ee) || !ee.Authenticated || ee.Reason != "bye" {
					t.Fatalf("got %v, want the peer's authenticated end", err)
				}
			} else if !errors.Is(err, tc.wantErr) {
				t.Fatalf("got %v, want %v", err, tc.wantErr)
			}
			if err := tech.Send(ctx, protocol.InStdin, []byte("x")); err != nil {
				t.Fatal(err)
			}
			if typ, p, err := agent.Recv(ctx); err == nil {
				t.Fatalf("channel usable after a failed exchange: read %v %q", typ, p)
			}
		})
	}
}

// TestSecondFeatureListRefused has the peer send a second feature list
// after the exchange: Recv refuses it as a malformed message.
func TestSecondFeatureListRefused(t *testing.T) {
	t.Parallel()
	tech, agent, _, _ := memChannels(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	msg, err := protocol.AppendFeatures(nil, protocol.MustFeatures(protocol.FeaturePathSwitch, testOnly))
	if err != nil {
		t.Fatal(err)
	}
	if err := tech.SendMsg(ctx, msg); err != nil {
		t.Fatal(err)
	}
	if _, _, err := agent.Recv(ctx); !errors.Is(err, protocol.ErrBadInner) {
		t.Fatalf("second feature list: got %v, want ErrBadInner", err)
	}
	if got := agent.Features().Names(); !slices.Equal(got, Supported().Names()) {
		t.Fatalf("a second list changed the negotiated set to %q", got)
	}
}
