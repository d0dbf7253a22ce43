package passpolicy

import (
	"errors"
	"testing"
	"time"
)

func TestDefaultValid(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v, want nil", err)
	}
	d := Default()
	if d.MinLength != 12 || d.MaxLength != 128 || d.LockoutThreshold != 5 ||
		d.IdleTimeout != 15*time.Minute || d.MaxTokenLifetime != 12*time.Hour ||
		d.RetentionDays != 365 || d.RecordInput || d.RequireMFA || d.RequireClasses != 0 || d.MaxAge != 0 {
		t.Errorf("Default() = %+v, want documented defaults", d)
	}
}

func TestValidateRanges(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Policy)
		field  string // "" means valid
	}{
		{"default", func(*Policy) {}, ""},
		{"min length 7", func(p *Policy) { p.MinLength = 7 }, "MinLength"},
		{"min length 8", func(p *Policy) { p.MinLength = 8 }, ""},
		{"min length 65", func(p *Policy) { p.MinLength = 65 }, "MinLength"},
		{"max length 63", func(p *Policy) { p.MaxLength = 63 }, "MaxLength"},
		{"max length 257", func(p *Policy) { p.MaxLength = 257 }, "MaxLength"},
		{"min above max", func(p *Policy) { p.MinLength, p.MaxLength = 64, 64 }, ""},
		{"classes 5", func(p *Policy) { p.RequireClasses = 5 }, "RequireClasses"},
		{"classes -1", func(p *Policy) { p.RequireClasses = -1 }, "RequireClasses"},
		{"classes 4", func(p *Policy) { p.RequireClasses = 4 }, ""},
		{"max age 0", func(p *Policy) { p.MaxAge = 0 }, ""},
		{"max age 29 days", func(p *Policy) { p.MaxAge = 29 * day }, "MaxAge"},
		{"max age 30 days", func(p *Policy) { p.MaxAge = 30 * day }, ""},
		{"max age 180 days", func(p *Policy) { p.MaxAge = 180 * day }, ""},
		{"max age 181 days", func(p *Policy) { p.MaxAge = 181 * day }, "MaxAge"},
		{"history 25", func(p *Policy) { p.HistoryCount = 25 }, "HistoryCount"},
		{"history 24", func(p *Policy) { p.HistoryCount = 24 }, ""},
		{"history age 366 days", func(p *Policy) { p.HistoryAge = 366 * day }, "HistoryAge"},
		{"history age negative", func(p *Policy) { p.HistoryAge = -time.Hour }, "HistoryAge"},
		{"lockout 0", func(p *Policy) { p.LockoutThreshold = 0 }, "LockoutThreshold"},
		{"screen fps 4", func(p *Policy) { p.ScreenMaxFPS = 4 }, "ScreenMaxFPS"},
		{"screen fps 5", func(p *Policy) { p.ScreenMaxFPS = 5 }, ""},
		{"screen fps 60", func(p *Policy) { p.ScreenMaxFPS = 60 }, ""},
		{"screen fps 61", func(p *Policy) { p.ScreenMaxFPS = 61 }, "ScreenMaxFPS"},
		{"screen fps unset", func(p *Policy) { p.ScreenMaxFPS = 0 }, ""},
		{"lockout 21", func(p *Policy) { p.LockoutThreshold = 21 }, "LockoutThreshold"},
		{"idle 2s", func(p *Policy) { p.IdleTimeout = 2 * time.Second }, ""},
		{"idle 0", func(p *Policy) { p.IdleTimeout = 0 }, "IdleTimeout"},
		{"idle 25h", func(p *Policy) { p.IdleTimeout = 25 * time.Hour }, "IdleTimeout"},
		{"lifetime below idle", func(p *Policy) { p.MaxTokenLifetime = time.Minute }, "MaxTokenLifetime"},
		{"lifetime 31 days", func(p *Policy) { p.MaxTokenLifetime = 31 * day }, "MaxTokenLifetime"},
		{"retention 29", func(p *Policy) { p.RetentionDays = 29 }, "RetentionDays"},
		{"retention 3651", func(p *Policy) { p.RetentionDays = 3651 }, "RetentionDays"},
		{"zero policy", func(p *Policy) { *p = Policy{} }, "MinLength"},
	}
	for _, tt := range tests {
		p := Default()
		tt.mutate(&p)
		err := p.Validate()
		if tt.field == "" {
			if err != nil {
				t.Errorf("%s: Validate() = %v, want nil", tt.name, err)
			}
			continue
		}
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != tt.field || !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Validate() = %v, want FieldError on %s", tt.name, err, tt.field)
		}
	}
}

func TestValidateMessage(t *testing.T) {
	p := Default()
	p.MaxAge = 29 * day
	got := p.Validate().Error()
	want := "passpolicy: MaxAge = 29 days, allowed 0 or 30..180 days"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestMerge(t *testing.T) {
	a := Default()
	b := Default()
	b.MinLength = 16
	b.MaxLength = 64
	b.RequireClasses = 3
	b.MaxAge = 90 * day
	b.HistoryCount = 10
	b.LockoutThreshold = 3
	b.IdleTimeout = 5 * time.Minute
	b.RequireMFA = true
	b.RetentionDays = 2190
	c := Default()
	c.MaxAge = 60 * day
	c.HistoryAge = 365 * day
	c.MaxTokenLifetime = 8 * time.Hour
	c.RecordInput = true
	c.ScreenMaxFPS = 12
	a.ScreenMaxFPS = 0 // stored before the setting existed: the default

	got := Merge(a, b, c)
	want := Policy{
		MinLength: 16, MaxLength: 128, RequireClasses: 3, MaxAge: 60 * day,
		HistoryCount: 10, HistoryAge: 365 * day, LockoutThreshold: 3,
		IdleTimeout: 5 * time.Minute, MaxTokenLifetime: 8 * time.Hour,
		RequireMFA: true, RecordInput: true, RetentionDays: 2190, ScreenMaxFPS: 12,
	}
	if got != want {
		t.Errorf("Merge = %+v\nwant %+v", got, want)
	}
	if err := got.Validate(); err != nil {
		t.Errorf("Merge of valid policies is invalid: %v", err)
	}
}

func TestMergeTable(t *testing.T) {
	withMaxAge := func(d time.Duration) Policy { p := Default(); p.MaxAge = d; return p }
	withLockout := func(n int) Policy { p := Default(); p.LockoutThreshold = n; return p }
	tests := []struct {
		name  string
		in    []Policy
		check func(Policy) bool
	}{
		{"none is default", nil, func(p Policy) bool { return p == Default() }},
		{"one is itself", []Policy{withMaxAge(45 * day)}, func(p Policy) bool { return p == withMaxAge(45*day) }},
		{"max age off and on", []Policy{withMaxAge(0), withMaxAge(90 * day)}, func(p Policy) bool { return p.MaxAge == 90*day }},
		{"max age on and off", []Policy{withMaxAge(90 * day), withMaxAge(0)}, func(p Policy) bool { return p.MaxAge == 90*day }},
		{"max age both off", []Policy{withMaxAge(0), withMaxAge(0)}, func(p Policy) bool { return p.MaxAge == 0 }},
		{"lockout zero ignored", []Policy{withLockout(0), withLockout(7)}, func(p Policy) bool { return p.LockoutThreshold == 7 }},
		{"lockout lowest", []Policy{withLockout(10), withLockout(2)}, func(p Policy) bool { return p.LockoutThreshold == 2 }},
	}
	for _, tt := range tests {
		if got := Merge(tt.in...); !tt.check(got) {
			t.Errorf("%s: Merge = %+v", tt.name, got)
		}
	}
}

func TestHistoryApplies(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		count int
		age   time.Duration
		ago   time.Duration
		index int
		want  bool
	}{
		{0, 0, time.Hour, 0, false},
		{3, 0, 1000 * day, 0, true},
		{3, 0, 1000 * day, 2, true},
		{3, 0, time.Hour, 3, false},
		{0, 30 * day, 29 * day, 10, true},
		{0, 30 * day, 30 * day, 0, false},
		{0, 30 * day, 31 * day, 0, false},
		{5, 30 * day, 100 * day, 7, false},
		{5, 30 * day, day, 7, true},
		{5, 30 * day, day, -1, false},
	}
	for _, tt := range tests {
		p := Default()
		p.HistoryCount, p.HistoryAge = tt.count, tt.age
		if got := p.HistoryApplies(now.Add(-tt.ago), now, tt.index); got != tt.want {
			t.Errorf("count=%d age=%v ago=%v index=%d: got %v, want %v", tt.count, tt.age, tt.ago, tt.index, got, tt.want)
		}
	}
}
