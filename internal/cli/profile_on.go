//go:build tether_pprof

package cli

import (
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"sync"
	"syscall"
)

// startProfile writes a CPU profile to $TETHER_CPUPROFILE.NAME.PID in
// builds with the tether_pprof tag (used when profiling the benchmarks).
// The profile stops at SIGUSR1 or when Main returns.
func startProfile(name string) (stop func()) {
	base := os.Getenv("TETHER_CPUPROFILE")
	if base == "" {
		return func() {}
	}
	f, err := os.Create(fmt.Sprintf("%s.%s.%d", base, name, os.Getpid()))
	if err != nil {
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return func() {}
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			pprof.StopCPUProfile()
			f.Close()
		})
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR1)
	go func() { <-sig; stop() }()
	return stop
}
