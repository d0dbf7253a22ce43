package store_test

import (
	"crypto/sha256"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/store"
)

var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func TestLoginTokens(t *testing.T) {
	db := open(t)
	h1, h2, h3 := sha256.Sum256([]byte("1")), sha256.Sum256([]byte("2")), sha256.Sum256([]byte("3"))
	for _, tok := range []*store.LoginToken{
		{Hash: h1, UserID: "u_a", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour), IdleTimeout: 10 * time.Minute},
		{Hash: h2, UserID: "u_a", CreatedAt: t0, Emergency: true, Reason: "outage"},
		{Hash: h3, UserID: "u_b", CreatedAt: t0},
	} {
		if err := db.PutLoginToken(tok); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.LoginToken(h1)
	if err != nil || got.Hash != h1 || got.UserID != "u_a" || got.IdleTimeout != 10*time.Minute {
		t.Fatalf("LoginToken: got %+v, %v; want u_a with idle 10m", got, err)
	}
	if err := db.TouchLoginToken(h1, t0.Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.LoginToken(h1); !got.LastUsed.Equal(t0.Add(5 * time.Minute)) {
		t.Errorf("after touch: got LastUsed %v, want %v", got.LastUsed, t0.Add(5*time.Minute))
	}
	if got, _ := db.LoginToken(h2); !got.Emergency || got.Reason != "outage" {
		t.Errorf("emergency token: got %+v, want Emergency with reason", got)
	}
	if err := db.TouchLoginToken(sha256.Sum256([]byte("x")), t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TouchLoginToken(missing): got %v, want ErrNotFound", err)
	}
	if n, err := db.DeleteUserLoginTokens("u_a"); err != nil || n != 2 {
		t.Errorf("DeleteUserLoginTokens: got %d, %v; want 2, nil", n, err)
	}
	if _, err := db.LoginToken(h1); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LoginToken(deleted): got %v, want ErrNotFound", err)
	}
	if err := db.DeleteLoginToken(h3); err != nil {
		t.Errorf("DeleteLoginToken: got %v, want nil", err)
	}
	if err := db.DeleteLoginToken(h3); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteLoginToken(again): got %v, want ErrNotFound", err)
	}
}

func TestLoginTokenExpired(t *testing.T) {
	tok := store.LoginToken{CreatedAt: t0, ExpiresAt: t0.Add(time.Hour), IdleTimeout: 10 * time.Minute}
	tests := []struct {
		name     string
		lastUsed time.Time
		now      time.Time
		want     bool
	}{
		{"fresh", time.Time{}, t0.Add(time.Minute), false},
		{"idle since creation", time.Time{}, t0.Add(10 * time.Minute), true},
		{"recently used", t0.Add(55 * time.Minute), t0.Add(59 * time.Minute), false},
		{"idle since use", t0.Add(20 * time.Minute), t0.Add(31 * time.Minute), true},
		{"absolute", t0.Add(59 * time.Minute), t0.Add(time.Hour), true},
	}
	for _, tt := range tests {
		tok.LastUsed = tt.lastUsed
		if got := tok.Expired(tt.now); got != tt.want {
			t.Errorf("%s: Expired got %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestConsumeEnrollToken(t *testing.T) {
	db := open(t)
	h := sha256.Sum256([]byte("te_x"))
	tok := &store.EnrollToken{Hash: h, Group: "lab", CreatedBy: "u_a", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	if err := db.PutEnrollToken(tok); err != nil {
		t.Fatal(err)
	}
	if err := db.PutEnrollToken(tok); !errors.Is(err, store.ErrExists) {
		t.Errorf("PutEnrollToken(duplicate): got %v, want ErrExists", err)
	}
	got, err := db.ConsumeEnrollToken(h, t0.Add(time.Minute))
	if err != nil || got.Group != "lab" || got.Hash != h {
		t.Fatalf("ConsumeEnrollToken: got %+v, %v; want group lab", got, err)
	}
	if _, err := db.ConsumeEnrollToken(h, t0.Add(time.Minute)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ConsumeEnrollToken(used): got %v, want ErrNotFound", err)
	}

	if err := db.PutEnrollToken(tok); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ConsumeEnrollToken(h, t0.Add(time.Hour)); !errors.Is(err, store.ErrExpired) {
		t.Errorf("ConsumeEnrollToken(expired): got %v, want ErrExpired", err)
	}
	if _, err := db.ConsumeEnrollToken(h, t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ConsumeEnrollToken(expired, again): got %v, want ErrNotFound (deleted)", err)
	}
}

// TestConsumeConcurrent checks that of many concurrent consumers of one
// token or code exactly one succeeds.
func TestConsumeConcurrent(t *testing.T) {
	db := open(t)
	consumers := map[string]func([32]byte) error{
		"enroll": func(h [32]byte) error { _, err := db.ConsumeEnrollToken(h, t0); return err },
		"join":   func(h [32]byte) error { _, err := db.ConsumeJoinCode(h, t0); return err },
	}
	for name, consume := range consumers {
		for round := range 5 {
			h := sha256.Sum256([]byte{byte(round)})
			var err error
			if name == "enroll" {
				err = db.PutEnrollToken(&store.EnrollToken{Hash: h, ExpiresAt: t0.Add(time.Hour)})
			} else {
				err = db.PutJoinCode(&store.JoinCode{Hash: h, SessionID: "s", ExpiresAt: t0.Add(time.Hour)})
			}
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			var mu sync.Mutex
			wins, misses := 0, 0
			for range 8 {
				wg.Go(func() {
					err := consume(h)
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						wins++
					case errors.Is(err, store.ErrNotFound):
						misses++
					default:
						t.Errorf("%s: unexpected error %v", name, err)
					}
				})
			}
			wg.Wait()
			if wins != 1 || misses != 7 {
				t.Errorf("%s round %d: got %d successes, %d not-found; want 1, 7", name, round, wins, misses)
			}
		}
	}
}

func TestConsumeJoinCode(t *testing.T) {
	db := open(t)
	h := sha256.Sum256([]byte("ABCDEFGHJK"))
	j := &store.JoinCode{Hash: h, SessionID: "sess", TechID: "u_t", ExpiresAt: t0.Add(10 * time.Minute)}
	if err := db.PutJoinCode(j); err != nil {
		t.Fatal(err)
	}
	if err := db.PutJoinCode(j); !errors.Is(err, store.ErrExists) {
		t.Errorf("PutJoinCode(duplicate): got %v, want ErrExists", err)
	}
	if _, err := db.ConsumeJoinCode(sha256.Sum256([]byte("other")), t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ConsumeJoinCode(unknown): got %v, want ErrNotFound", err)
	}
	got, err := db.ConsumeJoinCode(h, t0)
	if err != nil || got.SessionID != "sess" || got.TechID != "u_t" {
		t.Errorf("ConsumeJoinCode: got %+v, %v; want session sess", got, err)
	}
	if err := db.PutJoinCode(j); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ConsumeJoinCode(h, t0.Add(11*time.Minute)); !errors.Is(err, store.ErrExpired) {
		t.Errorf("ConsumeJoinCode(expired): got %v, want ErrExpired", err)
	}
}
