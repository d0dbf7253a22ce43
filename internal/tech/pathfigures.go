package tech

import (
	"encoding/json"
	"os"
	"path/filepath"
	"time"

	"github.com/tether-support/tether/internal/protocol"
)

// pathFigures is Home/path-throughput.json: the throughput, in bytes per
// second, of the last file transfer on each path, which tech cp --path
// auto compares.
type pathFigures struct {
	Relay  float64 `json:"relay,omitempty"`
	Direct float64 `json:"direct,omitempty"`
}

// minFigureBytes is the smallest transfer whose throughput is recorded: a
// smaller one measures the round trips, not the path.
const minFigureBytes = 1 << 20

func (c *Client) figuresPath() string { return filepath.Join(c.Home, "path-throughput.json") }

// loadFigures reads the figures; none when there are none.
func (c *Client) loadFigures() pathFigures {
	var f pathFigures
	if c.Home == "" {
		return f
	}
	if b, err := os.ReadFile(c.figuresPath()); err == nil {
		json.Unmarshal(b, &f)
	}
	return f
}

// bulkPath chooses a file transfer's path from the last figures: the
// relay until it is measured, then one try of the direct path (auto, so
// a direct path that cannot be set up leaves the transfer on the relay),
// then whichever was faster last time.
func (c *Client) bulkPath() string {
	f := c.loadFigures()
	switch {
	case f.Relay == 0:
		return PathRelay
	case f.Direct == 0 || f.Direct > f.Relay:
		return PathAuto
	}
	return PathRelay
}

// noteThroughput records a transfer of n bytes in d on path.
func (c *Client) noteThroughput(path string, n int64, d time.Duration) {
	if c.Home == "" || n < minFigureBytes || d <= 0 {
		return
	}
	f := c.loadFigures()
	v := float64(n) / d.Seconds()
	if path == protocol.PathModeDirect {
		f.Direct = v
	} else {
		f.Relay = v
	}
	b, err := json.Marshal(f)
	if err != nil {
		return
	}
	tmp := c.figuresPath() + ".tmp"
	if os.WriteFile(tmp, b, 0o600) == nil {
		os.Rename(tmp, c.figuresPath())
	}
}
