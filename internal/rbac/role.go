package rbac

import (
	"errors"
	"fmt"
	"slices"
)

// Role is a named bundle of permissions. Allow and Deny hold permission names
// or wildcards ("*", "session.*"). A Role is a plain value and holds no lock.
type Role struct {
	// Name is the role's unique name: [a-z][a-z0-9_-]{1,31}.
	Name string
	// Allow lists the permissions the role grants.
	Allow []string
	// Deny lists permissions the role takes away, from this and every other
	// role the user holds. Deny wins over allow.
	Deny []string
	// Builtin marks the roles shipped with Tether (see Builtin); they cannot
	// be edited or shadowed.
	Builtin bool
	// Description is free text shown to administrators.
	Description string
}

// Names of the built-in roles.
const (
	Superadmin = "superadmin"
	Admin      = "admin"
	Technician = "technician"
	Auditor    = "auditor"
)

// Errors returned by ValidateRole.
var (
	// ErrInvalidName means a role name does not match [a-z][a-z0-9_-]{1,31}.
	ErrInvalidName = errors.New("rbac: invalid role name")
	// ErrReservedName means a custom role uses the name of a built-in role.
	ErrReservedName = errors.New("rbac: role name is reserved")
	// ErrNotBuiltin means a role marked Builtin differs from the shipped one.
	ErrNotBuiltin = errors.New("rbac: role marked builtin does not match the shipped definition")
)

// Builtin returns the roles shipped with Tether. The caller owns the result.
//
//   - superadmin holds every permission, including emergency.use (break-glass).
//   - admin runs the organisation: everything except emergency.use, which is
//     kept for superadmins, and recording.review, since recordings may show
//     PHI and reviewing them is an auditor's job (minimum necessary), and
//     recording.recipients, since registering a recipient key is a way to
//     read later recordings, and trust.manage: publishing the trust root is
//     kept for superadmins. It holds recording.hold: preserving or
//     releasing recordings for legal reasons is running the organisation.
//   - technician does support: start attended and unattended sessions with
//     files, clipboard, screen view and screen control, and enrol devices.
//   - auditor reviews: recordings, the audit log, and every live session.
func Builtin() []Role {
	return []Role{
		{Name: Superadmin, Allow: []string{Wildcard}, Builtin: true,
			Description: "Every permission, including break-glass emergency access."},
		{Name: Admin, Allow: []string{Wildcard},
			Deny:    []string{string(EmergencyUse), string(RecordingReview), string(RecordingRecipients), string(TrustManage)},
			Builtin: true,
			Description: "Runs the organisation: users, roles, devices, policy and sessions. " +
				"No break-glass access, no recording playback, no recording recipient keys and no trust root publishing."},
		{Name: Technician, Allow: []string{
			string(SessionStart), string(SessionAttended), string(SessionUnattended),
			string(SessionFiles), string(SessionClipboard), string(DeviceEnroll),
			string(SessionScreenView), string(SessionScreenControl),
		}, Builtin: true, Description: "Gives remote support and enrols devices."},
		{Name: Auditor, Allow: []string{
			string(RecordingList), string(RecordingReview), string(AuditRead),
			string(AuditExport), string(SessionViewAll),
		}, Builtin: true, Description: "Reviews recordings, the audit log and live sessions."},
	}
}

// builtinByName returns the shipped role called name.
func builtinByName(name string) (Role, bool) {
	for _, r := range Builtin() {
		if r.Name == name {
			return r, true
		}
	}
	return Role{}, false
}

// ValidateRole checks a role definition: the name matches
// [a-z][a-z0-9_-]{1,31}; every Allow and Deny entry is a known permission or
// wildcard; a custom role does not take a built-in name; and a role marked
// Builtin is exactly the shipped one. Errors wrap ErrInvalidName,
// ErrReservedName, ErrNotBuiltin or ErrUnknownPermission.
func ValidateRole(r Role) error {
	if !validName(r.Name) {
		return fmt.Errorf("%w: %q", ErrInvalidName, r.Name)
	}
	if err := validateEntries(r); err != nil {
		return err
	}
	shipped, reserved := builtinByName(r.Name)
	switch {
	case reserved && !r.Builtin:
		return fmt.Errorf("%w: %q", ErrReservedName, r.Name)
	case r.Builtin && (!reserved || !sameRole(r, shipped)):
		return fmt.Errorf("%w: %q", ErrNotBuiltin, r.Name)
	}
	return nil
}

// validateEntries checks every Allow and Deny entry of r.
func validateEntries(r Role) error {
	for _, s := range slices.Concat(r.Allow, r.Deny) {
		if _, err := Expand(s); err != nil {
			return fmt.Errorf("role %q: %w", r.Name, err)
		}
	}
	return nil
}

// validName reports whether name matches [a-z][a-z0-9_-]{1,31}.
func validName(name string) bool {
	if len(name) < 2 || len(name) > 32 || name[0] < 'a' || name[0] > 'z' {
		return false
	}
	for _, c := range []byte(name[1:]) {
		ok := (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'
		if !ok {
			return false
		}
	}
	return true
}

// sameRole reports whether a and b grant and deny the same entries.
func sameRole(a, b Role) bool {
	return a.Name == b.Name && slices.Equal(a.Allow, b.Allow) && slices.Equal(a.Deny, b.Deny)
}

// Effective returns the permissions a holder of roles has: the union of all
// allows minus the union of all denies, with wildcards expanded, so a deny in
// any role beats an allow in any other. Entries that name no known permission
// are ignored; validate roles with ValidateRole before storing them.
func Effective(roles []Role) Set {
	var allow, deny Set
	for _, r := range roles {
		allow = allow.union(expandAll(r.Allow))
		deny = deny.union(expandAll(r.Deny))
	}
	return allow.minus(deny)
}

// expandAll returns the set named by a list of permissions and wildcards,
// skipping unknown entries.
func expandAll(entries []string) Set {
	var s Set
	for _, e := range entries {
		ps, err := Expand(e)
		if err != nil {
			continue
		}
		s = s.union(NewSet(ps...))
	}
	return s
}

// CanGrant reports whether an actor holding actor may give someone roles:
// only if the actor already holds every permission those roles together
// grant (Effective(roles)).
// It prevents privilege escalation through role assignment or role editing.
func CanGrant(actor Set, roles ...Role) bool {
	return actor.Contains(Effective(roles))
}
