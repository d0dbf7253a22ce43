package direct

import (
	"net"
	"os"
	"sync"
	"time"

	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
)

// Cut is a test knob that cuts a direct path from one side: Fire closes
// every UDP socket the Peers using it opened, and every later one at once,
// as when a firewall or a dead network interface drops the path.
type Cut struct {
	mu    sync.Mutex
	fired bool
	conns []interface{ Close() error }
}

// Fire closes the sockets.
func (c *Cut) Fire() {
	c.mu.Lock()
	c.fired = true
	conns := c.conns
	c.conns = nil
	c.mu.Unlock()
	for _, x := range conns {
		x.Close()
	}
}

// track records a socket, or closes it at once after Fire.
func (c *Cut) track(x interface{ Close() error }) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fired {
		x.Close()
		return
	}
	c.conns = append(c.conns, x)
}

// WatchFile fires the cut once path exists, polling every interval until
// stop is closed.
func (c *Cut) WatchFile(path string, every time.Duration, stop <-chan struct{}) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			if _, err := os.Stat(path); err == nil {
				c.Fire()
				return
			}
		}
	}
}

// net returns the network whose sockets c tracks.
func (c *Cut) net() (transport.Net, error) {
	n, err := stdnet.NewNet()
	if err != nil {
		return nil, err
	}
	return &cutNet{Net: n, cut: c}, nil
}

type cutNet struct {
	transport.Net
	cut *Cut
}

func (n *cutNet) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	u, err := n.Net.ListenUDP(network, laddr)
	if err == nil {
		n.cut.track(u)
	}
	return u, err
}

func (n *cutNet) ListenPacket(network, address string) (net.PacketConn, error) {
	pc, err := n.Net.ListenPacket(network, address)
	if err == nil {
		n.cut.track(pc)
	}
	return pc, err
}
