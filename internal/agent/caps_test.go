package agent

import (
	"slices"
	"testing"
)

func TestRevokeCaps(t *testing.T) {
	tests := []struct {
		granted, revoke, kept, gone []string
	}{
		{[]string{"shell", "files"}, []string{"files:from-device"}, []string{"shell", "files:to-device"}, []string{"files:from-device"}},
		{[]string{"shell", "files"}, []string{"files:to-device"}, []string{"shell", "files:from-device"}, []string{"files:to-device"}},
		{[]string{"shell", "files"}, []string{"files"}, []string{"shell"}, []string{"files:to-device", "files:from-device"}},
		{[]string{"files:to-device", "files:from-device"}, []string{"files"}, nil, []string{"files:to-device", "files:from-device"}},
		{[]string{"files:to-device", "clipboard"}, []string{"clipboard"}, []string{"files:to-device"}, []string{"clipboard"}},
		{[]string{"files", "clipboard"}, []string{"files:from-device", "clipboard"}, []string{"files:to-device"}, []string{"files:from-device", "clipboard"}},
		{[]string{"shell", "files:from-device"}, []string{"files:to-device"}, []string{"shell", "files:from-device"}, nil},
		{[]string{"shell"}, []string{"clipboard"}, []string{"shell"}, nil},
		{nil, []string{"files"}, nil, nil},
		{[]string{"shell", "screen-view", "screen-control"}, []string{"screen-control"}, []string{"shell", "screen-view"}, []string{"screen-control"}},
		{[]string{"shell", "screen-view", "screen-control"}, []string{"screen-view"}, []string{"shell"}, []string{"screen-view", "screen-control"}},
		{[]string{"screen-view"}, []string{"screen-control"}, []string{"screen-view"}, nil},
	}
	for _, tc := range tests {
		kept, gone := revokeCaps(tc.granted, tc.revoke)
		if !slices.Equal(kept, tc.kept) || !slices.Equal(gone, tc.gone) {
			t.Errorf("revokeCaps(%v, %v) = %v, %v; want %v, %v", tc.granted, tc.revoke, kept, gone, tc.kept, tc.gone)
		}
	}
}

func TestPriorityCommands(t *testing.T) {
	for cmd, want := range map[string]bool{
		"end": true, "e": true, "q": true, "quit": true, "stop": true,
		"revoke files": true, "r clipboard": true, "revoke": true,
		"y": false, "yes": false, "shell": false, "files, shell": false, "": false, "no": false, "status": false,
	} {
		if got := isPriority(cmd); got != want {
			t.Errorf("isPriority(%q) = %v, want %v", cmd, got, want)
		}
	}
}
