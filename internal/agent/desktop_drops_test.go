package agent

import (
	"sync"
	"testing"
	"time"
)

func TestDropAuditBursts(t *testing.T) {
	var mu sync.Mutex
	var got []int
	done := make(chan struct{}, 4)
	d := newDropAudit(20*time.Millisecond, func(why string, n int) {
		if why != "first" {
			t.Errorf("reason %q, want the burst's first", why)
		}
		mu.Lock()
		got = append(got, n)
		mu.Unlock()
		done <- struct{}{}
	})
	for i := 0; i < 500; i++ {
		if i == 0 {
			d.add("first")
		} else {
			d.add("later")
		}
	}
	<-done
	d.add("first")
	d.add("x")
	d.flush()
	<-done
	d.add("after flush")
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || got[0] != 500 || got[1] != 2 {
		t.Fatalf("reports %v, want [500 2]", got)
	}
}
