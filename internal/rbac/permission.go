// Package rbac defines Tether's permissions and roles and computes the
// effective permission set of a user from the roles they hold: the union of
// every role's allows minus the union of every role's denies, so a deny in
// any role always wins.
//
// The package is pure: it neither stores roles nor knows about users.
package rbac

import (
	"errors"
	"fmt"
	"strings"
)

// Permission names one thing a user may do, as "area.action".
type Permission string

// The permissions Tether knows. Their order is the order of All.
const (
	// SessionStart allows starting a remote-support session.
	SessionStart Permission = "session.start"
	// SessionAttended allows sessions where the end user is present and consents.
	SessionAttended Permission = "session.attended"
	// SessionUnattended allows sessions to a device with nobody at it.
	SessionUnattended Permission = "session.unattended"
	// SessionFiles allows file transfer inside a session.
	SessionFiles Permission = "session.files"
	// SessionClipboard allows clipboard sharing inside a session.
	SessionClipboard Permission = "session.clipboard"
	// SessionViewAll allows seeing every live session, not only one's own.
	SessionViewAll Permission = "session.view_all"
	// SessionTerminate allows ending other users' sessions.
	SessionTerminate Permission = "session.terminate"
	// DeviceEnroll allows enrolling a new device.
	DeviceEnroll Permission = "device.enroll"
	// DeviceManage allows editing devices: group policies, renaming, moving,
	// revoking and removing them.
	DeviceManage Permission = "device.manage"
	// UserManage allows creating, editing and disabling users.
	UserManage Permission = "user.manage"
	// RoleManage allows defining roles.
	RoleManage Permission = "role.manage"
	// PolicyManage allows changing organisation policy (passwords, retention…).
	PolicyManage Permission = "policy.manage"
	// RecordingList allows listing session recordings (metadata only).
	RecordingList Permission = "recording.list"
	// RecordingReview allows playing back recordings, which may show PHI.
	RecordingReview Permission = "recording.review"
	// AuditRead allows reading the audit log.
	AuditRead Permission = "audit.read"
	// AuditExport allows exporting the audit log.
	AuditExport Permission = "audit.export"
	// EmergencyUse allows break-glass access.
	EmergencyUse Permission = "emergency.use"
	// RecordingRecipients allows adding and removing the reviewer keys new
	// recordings are encrypted to. Whoever holds the private half of a
	// recipient key can read every later recording, so this is as sensitive
	// as RecordingReview and is not part of PolicyManage.
	RecordingRecipients Permission = "recording.recipients"
	// TrustManage allows publishing the organisation's trust root and root
	// changes through the relay. The documents are signed by administrator
	// keys the relay never holds; this only decides who may upload them.
	TrustManage Permission = "trust.manage"
	// SessionScreenView allows asking to see the end user's screen
	// (capability screen-view).
	SessionScreenView Permission = "session.screen_view"
	// SessionScreenControl allows asking to control the end user's mouse
	// and keyboard (capability screen-control). Control includes seeing
	// the screen, so asking for it needs SessionScreenView as well.
	SessionScreenControl Permission = "session.screen_control"
	// RecordingHold allows placing and releasing a legal hold on a
	// recording, which exempts it (and its session record) from retention.
	RecordingHold Permission = "recording.hold"
)

// all lists every permission; a permission's index is its bit in a Set.
var all = [...]Permission{
	SessionStart, SessionAttended, SessionUnattended, SessionFiles,
	SessionClipboard, SessionViewAll, SessionTerminate, DeviceEnroll,
	DeviceManage, UserManage, RoleManage, PolicyManage, RecordingList,
	RecordingReview, AuditRead, AuditExport, EmergencyUse,
	// Added later: appended so that the bits of the others do not move.
	RecordingRecipients, TrustManage, SessionScreenView, SessionScreenControl, RecordingHold,
}

// Wildcard matches every permission when used in a role definition.
const Wildcard = "*"

// ErrUnknownPermission is returned for a permission or wildcard that names
// nothing Tether knows.
var ErrUnknownPermission = errors.New("rbac: unknown permission")

// All returns every known permission, in a fixed order. The caller owns the
// returned slice.
func All() []Permission {
	out := make([]Permission, len(all))
	copy(out, all[:])
	return out
}

// ParsePermission returns the permission or wildcard named by s. Besides the
// exact names of All it accepts "*" (every permission) and "area.*" (every
// permission in area, such as "session.*"), which are only meaningful in role
// definitions; see Expand. Anything else is ErrUnknownPermission.
func ParsePermission(s string) (Permission, error) {
	if _, err := Expand(s); err != nil {
		return "", err
	}
	return Permission(s), nil
}

// IsWildcard reports whether p is a wildcard pattern rather than a single
// permission.
func (p Permission) IsWildcard() bool {
	return p == Wildcard || strings.HasSuffix(string(p), ".*")
}

// Expand returns the permissions that s stands for: one for an exact name,
// several for a wildcard. It returns ErrUnknownPermission if s matches none.
func Expand(s string) ([]Permission, error) {
	if s == Wildcard {
		return All(), nil
	}
	prefix, isWild := strings.CutSuffix(s, "*")
	var out []Permission
	for _, p := range all {
		if string(p) == s || (isWild && strings.HasSuffix(prefix, ".") && strings.HasPrefix(string(p), prefix)) {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %q", ErrUnknownPermission, s)
	}
	return out, nil
}

// index returns p's bit in a Set, or -1 if p is not a known permission.
func index(p Permission) int {
	for i, q := range all {
		if q == p {
			return i
		}
	}
	return -1
}
