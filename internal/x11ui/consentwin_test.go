package x11ui

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/consent"
	"github.com/tether-support/tether/internal/screen"
	"github.com/tether-support/tether/internal/x11/x11test"
)

// sampleRequest is a request with three capabilities and hostile names.
func sampleRequest() consent.Request {
	return consent.Request{SessionID: "s-1", TechName: "Mallory\x1b]0;pwned\x07\u202e", TechUser: "mallory", Org: "Acme IT",
		Capabilities: []string{"shell", "files", "clipboard"}, Recorded: true, SecurityCode: "1234-5678"}
}

// ask runs AskConsent in the background; the decision arrives on the
// returned channel.
func ask(x *x11test.Xvfb, req consent.Request, timeout time.Duration) <-chan consent.Decision {
	ch := make(chan consent.Decision, 1)
	go func() { ch <- AskConsent(context.Background(), x.Display, x.XAuthority, req, timeout) }()
	return ch
}

// decision waits for the answer.
func decision(t *testing.T, ch <-chan consent.Decision) consent.Decision {
	t.Helper()
	select {
	case d := <-ch:
		return d
	case <-time.After(waitLimit):
		t.Fatal("no consent decision")
	}
	return consent.Decision{}
}

// press clicks a consent window button once it is shown.
func press(t *testing.T, x *x11test.Xvfb, name string) {
	t.Helper()
	waitButtons(t, x, ClassConsent, name)
	if err := Click(context.Background(), x.Display, x.XAuthority, ClassConsent, name); err != nil {
		t.Fatalf("click %s: %v", name, err)
	}
}

// The tests below share the process-wide one-prompt-at-a-time lock, so
// they do not run in parallel with each other.

func TestConsentAllow(t *testing.T) {
	x := x11test.StartXvfbOpts(t, x11test.Options{Width: 800, Height: 600, Auth: true})
	req := sampleRequest()
	ch := ask(x, req, time.Minute)
	bs := waitButtons(t, x, ClassConsent, "deny")
	if _, armed := bs["allow"]; armed {
		t.Error("Allow accepts clicks at once; it must wait armDelay")
	}
	if !PromptOpen() {
		t.Error("PromptOpen false while the window is open")
	}
	press(t, x, "allow")
	d := decision(t, ch)
	if !d.Granted || !slices.Equal(d.Capabilities, req.Capabilities) {
		t.Fatalf("got %+v, want every capability granted", d)
	}
	eventually(t, "the window gone", func() bool {
		_, err := Locate(x.Display, x.XAuthority, ClassConsent)
		return errors.Is(err, ErrNotShown)
	})
	if PromptOpen() {
		t.Error("PromptOpen true after the answer")
	}
}

func TestConsentUntickOne(t *testing.T) {
	x := x11test.StartXvfb(t, 800, 600)
	ch := ask(x, sampleRequest(), time.Minute)
	press(t, x, "cap-0") // shell
	press(t, x, "allow")
	d := decision(t, ch)
	if !d.Granted || !slices.Equal(d.Capabilities, []string{"files", "clipboard"}) {
		t.Fatalf("got %+v, want files and clipboard", d)
	}
}

func TestConsentUntickAll(t *testing.T) {
	x := x11test.StartXvfb(t, 800, 600)
	ch := ask(x, consent.Request{Capabilities: []string{"shell"}}, time.Minute)
	press(t, x, "cap-0")
	press(t, x, "allow")
	if d := decision(t, ch); d.Granted || d.Why != consent.WhyRefused {
		t.Fatalf("got %+v, want refused", d)
	}
}

func TestConsentDeny(t *testing.T) {
	x := x11test.StartXvfb(t, 800, 600)
	ch := ask(x, sampleRequest(), time.Minute)
	press(t, x, "deny")
	if d := decision(t, ch); d.Granted || d.Why != consent.WhyRefused {
		t.Fatalf("got %+v, want refused by the end user", d)
	}
}

func TestConsentTimeout(t *testing.T) {
	x := x11test.StartXvfb(t, 800, 600)
	ch := ask(x, sampleRequest(), 400*time.Millisecond)
	if d := decision(t, ch); d.Granted || d.Why != "no answer within 400ms" {
		t.Fatalf("got %+v, want refused for no answer", d)
	}
	if _, err := Locate(x.Display, x.XAuthority, ClassConsent); !errors.Is(err, ErrNotShown) {
		t.Errorf("window still shown after the timeout: %v", err)
	}
}

func TestConsentCancelled(t *testing.T) {
	x := x11test.StartXvfb(t, 800, 600)
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan consent.Decision, 1)
	go func() { ch <- AskConsent(ctx, x.Display, x.XAuthority, sampleRequest(), time.Minute) }()
	waitButtons(t, x, ClassConsent, "deny")
	cancel()
	if d := decision(t, ch); d.Granted || d.Why != "consent cancelled" {
		t.Fatalf("got %+v, want cancelled", d)
	}
}

func TestConsentNoDisplay(t *testing.T) {
	d := AskConsent(context.Background(), ":99999", "", sampleRequest(), time.Second)
	if d.Granted || !strings.HasPrefix(d.Why, "cannot show the consent window") {
		t.Fatalf("got %+v, want a refusal naming the display failure", d)
	}
}

func TestConsentText(t *testing.T) {
	x := x11test.StartXvfb(t, 800, 600)
	ch := ask(x, sampleRequest(), time.Minute)
	bs := waitButtons(t, x, ClassConsent, "allow")
	if len(bs) != 5 {
		t.Errorf("buttons %v, want 3 checkboxes, allow and deny", bs)
	}
	// The window shows text (dark ink on the light background), the
	// security code in its own colour and labelled buttons.
	all := grab(t, x, screen.Rect{W: 800, H: 600})
	if n := count(all, colCode); n < 50 {
		t.Errorf("%d security-code pixels, want the code drawn", n)
	}
	if n := count(all, colInk); n < 1000 {
		t.Errorf("%d text pixels, want the prompt drawn", n)
	}
	if count(grab(t, x, bs["deny"]), colButtonTxt) == 0 {
		t.Error("Deny has no label")
	}
	press(t, x, "deny")
	decision(t, ch)
}
