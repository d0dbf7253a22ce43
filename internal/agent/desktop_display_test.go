package agent

import (
	"errors"
	"strings"
	"testing"

	"github.com/tether-support/tether/internal/x11"
)

func TestFindDesktop(t *testing.T) {
	found := func() (x11.Session, error) {
		return x11.Session{Display: ":7", XAuthority: "/run/user/1000/xauth", Via: "logind session 3"}, nil
	}
	none := func() (x11.Session, error) { return x11.Session{}, errors.New("x11: no graphical session found") }
	tests := []struct {
		name    string
		env     []string
		find    func() (x11.Session, error)
		display string
		xauth   string
		err     string
	}{
		{"own display", []string{"DISPLAY=:3", "XAUTHORITY=/tmp/a"}, none, ":3", "/tmp/a", ""},
		{"last one wins", []string{"DISPLAY=:3", "DISPLAY=:4"}, none, ":4", "", ""},
		{"wayland refused", []string{"DISPLAY=:0", "WAYLAND_DISPLAY=wayland-0"}, found, "", "", "Wayland session"},
		{"wayland by session type", []string{"XDG_SESSION_TYPE=wayland"}, found, "", "", "XDG_SESSION_TYPE=wayland"},
		{"service mode", []string{"HOME=/root"}, found, ":7", "/run/user/1000/xauth", ""},
		{"service mode, nothing found", nil, none, "", "", "no desktop to show: x11: no graphical session found"},
	}
	for _, tc := range tests {
		got, err := findDesktop(tc.env, tc.find)
		if (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s: err %v, want %q", tc.name, err, tc.err)
			continue
		}
		if got.display != tc.display || got.xauthority != tc.xauth {
			t.Errorf("%s: %+v, want %s %s", tc.name, got, tc.display, tc.xauth)
		}
	}
}
