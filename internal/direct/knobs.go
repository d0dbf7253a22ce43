package direct

import (
	"os"
	"strings"
	"sync"
	"time"
)

// KnobsEnv names the environment variable that sets test knobs, a comma-
// separated list: "loopback" (only 127.0.0.0/8 candidates), "heartbeat=D",
// "stall=D", "disconnected=D", "failed=D" (durations), "start=D" (the technician offers D
// after consent), "cut=FILE" (close
// every UDP socket of the direct path once FILE exists), "path=relay"
// (never try the direct path: the hook a test uses to forbid it). Meant
// for tests; unknown items are ignored.
const KnobsEnv = "TETHER_TEST_DIRECT"

// Knobs are the test knobs of the direct path.
type Knobs struct {
	LoopbackOnly         bool
	Heartbeat, Stall     time.Duration
	Disconnected, Failed time.Duration
	// Cut closes the direct path's sockets when its file appears.
	Cut *Cut
	// ForceRelay forbids the direct path.
	ForceRelay bool
	// StartDelay holds the technician's offer back this long, so that a
	// test sees the session stream on the relay path first.
	StartDelay time.Duration
}

var (
	knobsOnce sync.Once
	knobs     Knobs
)

// KnobsFromEnv returns the knobs KnobsEnv sets, parsed once per process.
func KnobsFromEnv() Knobs {
	knobsOnce.Do(func() { knobs = parseKnobs(os.Getenv(KnobsEnv)) })
	return knobs
}

// parseKnobs parses KnobsEnv's value; a cut file starts its watcher.
func parseKnobs(v string) Knobs {
	var k Knobs
	for _, item := range strings.Split(v, ",") {
		name, val, _ := strings.Cut(strings.TrimSpace(item), "=")
		d, _ := time.ParseDuration(val)
		switch name {
		case "loopback":
			k.LoopbackOnly = true
		case "heartbeat":
			k.Heartbeat = d
		case "stall":
			k.Stall = d
		case "disconnected":
			k.Disconnected = d
		case "failed":
			k.Failed = d
		case "start":
			k.StartDelay = d
		case "path":
			k.ForceRelay = val == "relay"
		case "cut":
			if val != "" {
				k.Cut = &Cut{}
				go k.Cut.WatchFile(val, 20*time.Millisecond, nil)
			}
		}
	}
	return k
}
