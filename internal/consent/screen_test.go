package consent

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

// screenRequest asks for the shell and both screen capabilities.
func screenRequest() Request {
	r := sampleRequest()
	r.Capabilities = []string{"shell", "screen-view", "screen-control"}
	return r
}

func TestRenderScreenLines(t *testing.T) {
	got := Render(screenRequest(), time.Minute)
	for _, want := range []string{"  - screen-view: see your screen\n", "  - screen-control: control your mouse and keyboard\n"} {
		if strings.Count(got, want) != 1 {
			t.Errorf("prompt lacks its own line %q:\n%s", want, got)
		}
	}
}

// TestScreenViewWithoutControl: the end user, typing or through a
// --consent-cmd listing, may grant view and keep control.
func TestScreenViewWithoutControl(t *testing.T) {
	req := screenRequest()
	if d := ParseAnswer("screen-view", req); !d.Granted || !slices.Equal(d.Capabilities, []string{"screen-view"}) {
		t.Errorf("typed screen-view: %+v", d)
	}
	d, err := Command{Cmd: "echo shell,screen-view", Timeout: 10 * time.Second}.Ask(context.Background(), req)
	if err != nil || !d.Granted || !slices.Equal(d.Capabilities, []string{"shell", "screen-view"}) {
		t.Errorf("consent command granting view only: %+v, %v", d, err)
	}
	env := environ(req)
	if !slices.Contains(env, "TETHER_CAPABILITIES=shell,screen-view,screen-control") {
		t.Errorf("environment %q", env)
	}
}
