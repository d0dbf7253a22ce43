package api

import (
	"time"

	"github.com/tether-support/tether/internal/ids"
)

// User is one element of the answer to GET /v1/users.
type User struct {
	ID           ids.UserID `json:"id"`
	Username     string     `json:"username"`
	Email        string     `json:"email,omitempty"`
	Roles        []string   `json:"roles"`
	Orgs         []string   `json:"orgs"`
	DeviceGroups []string   `json:"device_groups,omitempty"`
	// State is active, locked, disabled, pending, must_change_password or
	// (listed only on request) deleted.
	State        string `json:"state"`
	MFA          bool   `json:"mfa"`
	FailedLogins int    `json:"failed_logins"`
	// PasswordChangedAt is RFC 3339, empty if never set.
	PasswordChangedAt string    `json:"password_changed_at,omitempty"`
	CreatedAt         time.Time `json:"created_at,omitzero"`
	// LastLoginAt is the user's latest successful sign-in.
	LastLoginAt time.Time `json:"last_login_at,omitzero"`
	// DeletedAt is when a deleted account was deleted.
	DeletedAt time.Time `json:"deleted_at,omitzero"`
}

// AddUserRequest is the body of POST /v1/users.
type AddUserRequest struct {
	Username string   `json:"username"`
	Role     string   `json:"role"`
	Email    string   `json:"email,omitempty"`
	Org      string   `json:"org,omitempty"`
	Groups   []string `json:"device_groups,omitempty"`
}

// UserAdded is the answer to POST /v1/users. TemporaryPassword is empty
// for a pending account: its approver is given one.
type UserAdded struct {
	ID                ids.UserID `json:"id"`
	State             string     `json:"state"`
	TemporaryPassword string     `json:"temporary_password"`
	Username          string     `json:"username"`
}

// UserActionResult is the answer to a POST or DELETE under
// /v1/users/{name}/ other than approve and reset-password: "ok" and the
// account's name.
type UserActionResult struct {
	Status   string `json:"status"`
	Username string `json:"username"`
}

// UserPasswordResult is the answer to POST /v1/users/{name}/approve and
// /v1/users/{name}/reset-password: "ok", the account's name and its new
// temporary password, shown once to the caller alone.
type UserPasswordResult struct {
	Status            string `json:"status"`
	TemporaryPassword string `json:"temporary_password"`
	Username          string `json:"username"`
}

// GrantRequest is the body of POST /v1/users/{name}/roles.
type GrantRequest struct {
	Role string `json:"role"`
}

// GroupsRequest is the body of POST /v1/users/{name}/groups; none means
// devices of every group.
type GroupsRequest struct {
	Groups []string `json:"device_groups"`
}

// EmailRequest is the body of POST /v1/users/{name}/email ("" clears it).
type EmailRequest struct {
	Email string `json:"email"`
}

// Role is one element of the answer to GET /v1/roles and the answer to
// POST /v1/roles.
type Role struct {
	Name        string   `json:"name"`
	Builtin     bool     `json:"builtin"`
	Allow       []string `json:"allow"`
	Deny        []string `json:"deny"`
	Effective   []string `json:"effective"`
	Description string   `json:"description,omitempty"`
}

// RoleRequest is the body of POST /v1/roles (create or replace a custom
// role).
type RoleRequest struct {
	Name        string   `json:"name"`
	Allow       []string `json:"allow,omitempty"`
	Deny        []string `json:"deny,omitempty"`
	Description string   `json:"description,omitempty"`
}

// Org is one element of the answer to GET /v1/orgs.
type Org struct {
	Name    string     `json:"name"`
	Members int        `json:"members"`
	Policy  PolicyView `json:"policy"`
}

// OrgRequest is the body of POST /v1/orgs (create) and of POST
// /v1/users/{name}/orgs (add a member), and the answer to POST /v1/orgs.
type OrgRequest struct {
	Name string `json:"name"`
}

// PolicyChanges is the body of POST /v1/policy (tech policy set): an
// organisation and the settings to change; nil fields stay unchanged.
// Durations are strings such as "90d", "15m" or "0".
type PolicyChanges struct {
	Org                  string  `json:"org,omitempty"`
	MinLength            *int    `json:"min_length,omitempty"`
	RequireClasses       *int    `json:"require_classes,omitempty"`
	PasswordMaxAge       *string `json:"password_max_age,omitempty"`
	PasswordHistoryCount *int    `json:"password_history_count,omitempty"`
	PasswordHistory      *string `json:"password_history,omitempty"`
	LockoutThreshold     *int    `json:"lockout_threshold,omitempty"`
	IdleTimeout          *string `json:"idle_timeout,omitempty"`
	TokenLifetime        *string `json:"token_lifetime,omitempty"`
	RequireMFA           *bool   `json:"require_mfa,omitempty"`
	RecordInput          *bool   `json:"record_input,omitempty"`
	ScreenMaxFPS         *int    `json:"screen_max_fps,omitempty"`
	RetentionDays        *int    `json:"retention_days,omitempty"`
	DirectPath           *string `json:"direct_path,omitempty"` // "allow" or "deny"
}

// PolicyView is an organisation's policy as the relay shows it (GET
// /v1/policy, GET /v1/orgs). Durations are strings such as "90d", "15m" or
// "0".
type PolicyView struct {
	MinLength            int    `json:"min_length"`
	MaxLength            int    `json:"max_length"`
	RequireClasses       int    `json:"require_classes"`
	PasswordMaxAge       string `json:"password_max_age"`
	PasswordHistoryCount int    `json:"password_history_count"`
	PasswordHistory      string `json:"password_history"`
	LockoutThreshold     int    `json:"lockout_threshold"`
	IdleTimeout          string `json:"idle_timeout"`
	TokenLifetime        string `json:"token_lifetime"`
	RequireMFA           bool   `json:"require_mfa"`
	RecordInput          bool   `json:"record_input"`
	ScreenMaxFPS         int    `json:"screen_max_fps"`
	// RetentionDays is how long recordings and session records are kept
	// (the relay's daily job uses the longest of every organisation's).
	RetentionDays int    `json:"retention_days"`
	DirectPath    string `json:"direct_path"` // "allow" or "deny"
}

// PolicyShow is the answer to GET /v1/policy[?org=]: the organisation's
// policy and the strictest combination over the caller's organisations.
type PolicyShow struct {
	Org       string     `json:"org"`
	Policy    PolicyView `json:"policy"`
	YourOrgs  []string   `json:"your_orgs"`
	Effective PolicyView `json:"effective"`
}

// PolicySetResponse is the answer to POST /v1/policy: the organisation's
// policy after the change.
type PolicySetResponse struct {
	Org    string     `json:"org"`
	Policy PolicyView `json:"policy"`
}
