package rbac

import (
	"errors"
	"slices"
	"testing"
)

func TestParsePermission(t *testing.T) {
	tests := []struct {
		in      string
		wantErr bool
	}{
		{"session.start", false},
		{"emergency.use", false},
		{"*", false},
		{"session.*", false},
		{"audit.*", false},
		{"", true},
		{"session", true},
		{"session.", true},
		{"session*", true},
		{"session.start*", true},
		{".*", true},
		{"nope.*", true},
		{"Session.Start", true},
		{"session.start ", true},
	}
	for _, tt := range tests {
		p, err := ParsePermission(tt.in)
		if gotErr := err != nil; gotErr != tt.wantErr {
			t.Errorf("ParsePermission(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if err != nil && !errors.Is(err, ErrUnknownPermission) {
			t.Errorf("ParsePermission(%q) error = %v, want ErrUnknownPermission", tt.in, err)
		}
		if err == nil && string(p) != tt.in {
			t.Errorf("ParsePermission(%q) = %q, want %q", tt.in, p, tt.in)
		}
	}
}

func TestExpandWildcards(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"*", len(all)},
		{"session.*", 9},
		{"device.*", 2},
		{"recording.*", 4},
		{"audit.*", 2},
		{"user.manage", 1},
	}
	for _, tt := range tests {
		got, err := Expand(tt.in)
		if err != nil {
			t.Fatalf("Expand(%q): %v", tt.in, err)
		}
		if len(got) != tt.want {
			t.Errorf("Expand(%q) = %v, got %d permissions, want %d", tt.in, got, len(got), tt.want)
		}
	}
}

func TestAllUniqueAndFits(t *testing.T) {
	seen := map[Permission]bool{}
	for _, p := range All() {
		if seen[p] {
			t.Errorf("duplicate permission %q", p)
		}
		seen[p] = true
	}
	if len(all) > 64 {
		t.Fatalf("got %d permissions, want at most 64 (Set is a uint64)", len(all))
	}
}

func TestEffectiveDenyWinsAcrossRoles(t *testing.T) {
	a := Role{Name: "files", Allow: []string{"session.*"}}
	b := Role{Name: "nofiles", Allow: []string{"audit.read"}, Deny: []string{"session.files"}}
	for _, roles := range [][]Role{{a, b}, {b, a}} {
		s := Effective(roles)
		if s.Has(SessionFiles) {
			t.Errorf("Effective(%v) has session.files, want denied", roles)
		}
		if !s.Has(SessionStart) || !s.Has(AuditRead) {
			t.Errorf("Effective(%v) = %v, want session.start and audit.read", roles, s.List())
		}
	}
}

func TestEffectiveWildcardDeny(t *testing.T) {
	s := Effective([]Role{{Name: "x", Allow: []string{"*"}, Deny: []string{"session.*"}}})
	for _, p := range All() {
		want := p[:8] != "session."
		if got := s.Has(p); got != want {
			t.Errorf("Has(%q) = %v, want %v", p, got, want)
		}
	}
}

func TestEffectiveIgnoresUnknown(t *testing.T) {
	s := Effective([]Role{{Name: "x", Allow: []string{"bogus", "audit.read"}}})
	if got, want := s.List(), []Permission{AuditRead}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if s.Has("bogus") || s.Has("*") {
		t.Error("Has of unknown name or wildcard returned true")
	}
}

func TestBuiltins(t *testing.T) {
	roles := map[string]Role{}
	for _, r := range Builtin() {
		if err := ValidateRole(r); err != nil {
			t.Errorf("ValidateRole(builtin %q): %v", r.Name, err)
		}
		roles[r.Name] = r
	}
	tests := []struct {
		role     string
		has, not []Permission
	}{
		{Superadmin, All(), nil},
		{Admin, []Permission{UserManage, RoleManage, PolicyManage, DeviceManage, SessionTerminate, RecordingList, AuditRead,
			SessionScreenView, SessionScreenControl, RecordingHold},
			[]Permission{EmergencyUse, RecordingReview, RecordingRecipients}},
		{Technician, []Permission{SessionStart, SessionAttended, SessionUnattended, SessionFiles, SessionClipboard, DeviceEnroll,
			SessionScreenView, SessionScreenControl},
			[]Permission{SessionViewAll, SessionTerminate, UserManage, RecordingReview, AuditRead, EmergencyUse, DeviceManage, RecordingRecipients}},
		{Auditor, []Permission{RecordingList, RecordingReview, AuditRead, AuditExport, SessionViewAll},
			[]Permission{SessionStart, UserManage, EmergencyUse, SessionFiles, RecordingRecipients, SessionScreenView, SessionScreenControl}},
	}
	for _, tt := range tests {
		s := Effective([]Role{roles[tt.role]})
		for _, p := range tt.has {
			if !s.Has(p) {
				t.Errorf("%s: got no %q, want it", tt.role, p)
			}
		}
		for _, p := range tt.not {
			if s.Has(p) {
				t.Errorf("%s: got %q, want it absent", tt.role, p)
			}
		}
	}
	if n := Effective([]Role{roles[Superadmin]}).Len(); n != len(all) {
		t.Errorf("superadmin: got %d permissions, want %d", n, len(all))
	}
}

func TestBuiltinReturnsCopies(t *testing.T) {
	Builtin()[0].Allow[0] = "audit.read"
	if got := Builtin()[0].Allow[0]; got != Wildcard {
		t.Errorf("Builtin was mutated through a returned slice: got %q, want %q", got, Wildcard)
	}
}

func TestValidateRole(t *testing.T) {
	tests := []struct {
		name string
		role Role
		want error
	}{
		{"ok", Role{Name: "nurse-lead", Allow: []string{"session.*"}, Deny: []string{"session.files"}}, nil},
		{"ok underscore digits", Role{Name: "tier_2", Allow: []string{"audit.read"}}, nil},
		{"empty name", Role{Name: ""}, ErrInvalidName},
		{"one char", Role{Name: "a"}, ErrInvalidName},
		{"33 chars", Role{Name: "a23456789012345678901234567890123"}, ErrInvalidName},
		{"32 chars", Role{Name: "a234567890123456789012345678901"}, nil},
		{"upper", Role{Name: "Nurse"}, ErrInvalidName},
		{"leading digit", Role{Name: "1nurse"}, ErrInvalidName},
		{"space", Role{Name: "night nurse"}, ErrInvalidName},
		{"unicode", Role{Name: "nursé"}, ErrInvalidName},
		{"unknown allow", Role{Name: "x1", Allow: []string{"session.fly"}}, ErrUnknownPermission},
		{"unknown deny", Role{Name: "x1", Deny: []string{"root"}}, ErrUnknownPermission},
		{"reserved", Role{Name: "admin", Allow: []string{"*"}}, ErrReservedName},
		{"fake builtin", Role{Name: "boss", Allow: []string{"*"}, Builtin: true}, ErrNotBuiltin},
		{"altered builtin", Role{Name: "admin", Allow: []string{"*"}, Builtin: true}, ErrNotBuiltin},
	}
	for _, tt := range tests {
		err := ValidateRole(tt.role)
		if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
			t.Errorf("%s: ValidateRole = %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestCanGrant(t *testing.T) {
	admin, _ := builtinByName(Admin)
	super, _ := builtinByName(Superadmin)
	tech, _ := builtinByName(Technician)
	actor := Effective([]Role{admin})
	tests := []struct {
		role Role
		want bool
	}{
		{tech, true},
		{admin, true},
		{super, false},
		{Role{Name: "sneaky", Allow: []string{"emergency.use"}}, false},
		{Role{Name: "keyholder", Allow: []string{"recording.recipients"}}, false},
		{Role{Name: "policy", Allow: []string{"policy.manage"}}, true},
	}
	for _, tt := range tests {
		if got := CanGrant(actor, tt.role); got != tt.want {
			t.Errorf("admin CanGrant(%s) = %v, want %v", tt.role.Name, got, tt.want)
		}
	}
}

func TestSetList(t *testing.T) {
	s := NewSet(AuditRead, SessionStart, "bogus", AuditRead)
	if got, want := s.List(), []Permission{SessionStart, AuditRead}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if got := s.Len(); got != 2 {
		t.Errorf("Len = %d, want 2", got)
	}
	if (Set{}).Len() != 0 || len((Set{}).List()) != 0 {
		t.Error("zero Set is not empty")
	}
}

// TestPermissionBitsStable: a permission added later is appended, so the
// bit of every earlier one stays where it was.
func TestPermissionBitsStable(t *testing.T) {
	want := map[Permission]int{SessionStart: 0, DeviceManage: 8, PolicyManage: 11, RecordingReview: 13, EmergencyUse: 16, RecordingRecipients: 17, TrustManage: 18, SessionScreenView: 19, SessionScreenControl: 20, RecordingHold: 21}
	for p, i := range want {
		if got := index(p); got != i {
			t.Errorf("index(%q) = %d, want %d", p, got, i)
		}
	}
}

// TestPolicyManageDoesNotManageRecipients: recipient keys read recordings,
// so they are a permission of their own, not part of policy.manage.
func TestPolicyManageDoesNotManageRecipients(t *testing.T) {
	s := Effective([]Role{{Name: "policy", Allow: []string{"policy.*"}}})
	if s.Has(RecordingRecipients) {
		t.Error("policy.* grants recording.recipients")
	}
	if ps, _ := Expand("recording.*"); !slices.Contains(ps, RecordingRecipients) {
		t.Errorf("recording.* = %v, want it to include recording.recipients", ps)
	}
}
