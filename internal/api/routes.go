package api

import (
	"net/http"
	"reflect"
	"slices"

	"github.com/tether-support/tether/internal/protocol"
)

// Route is one HTTP route of the relay.
type Route struct {
	// Method is the HTTP method; a WebSocket route is a GET upgrade.
	Method string
	// Path is the path pattern as net/http's ServeMux spells it, such as
	// /v1/users/{name}/roles.
	Path string
	// Request is the type of the JSON request body, nil if the route
	// reads none (a client may send Empty to a POST of those).
	Request reflect.Type
	// Response is the type of the JSON answer (a slice for a list), nil
	// for a WebSocket upgrade or a download that is not JSON.
	Response reflect.Type
	// WebSocket reports a route that upgrades to a WebSocket.
	WebSocket bool
	// Download reports a route that answers a stream of unbounded size
	// (a file or an export), not one JSON value.
	Download bool
}

// Pattern returns "METHOD path", the pattern the relay registers.
func (r Route) Pattern() string { return r.Method + " " + r.Path }

// typ is the reflect.Type of T.
func typ[T any]() reflect.Type { return reflect.TypeFor[T]() }

// Path patterns of routes whose path has parameters.
const (
	PathSession         = protocol.PathSessions + "/{id}"
	PathSessionKill     = protocol.PathSessions + "/{id}/kill"
	PathRecipient       = protocol.PathRecipients + "/{id}"
	PathRecording       = protocol.PathRecordings + "/{id}"
	PathRecordingHold   = PathRecording + "/hold"
	PathRecordingFree   = PathRecording + "/release"
	PathGroupPolicy     = protocol.PathDevices + "/groups/{group}"
	PathDevice          = protocol.PathDevices + "/by-name/{name}"
	PathDeviceRevoke    = PathDevice + "/revoke"
	PathDeviceRename    = PathDevice + "/rename"
	PathDeviceMove      = PathDevice + "/group"
	PathRole            = protocol.PathRoles + "/{name}"
	userPattern         = protocol.PathUsers + "/{name}"
	PathUserUnlock      = userPattern + "/unlock"
	PathUserResetPasswd = userPattern + "/reset-password"
	PathUserDisable     = userPattern + "/disable"
	PathUserEnable      = userPattern + "/enable"
	PathUserApprove     = userPattern + "/approve"
	PathUserRoles       = userPattern + "/roles"
	PathUserRole        = userPattern + "/roles/{role}"
	PathUserGroups      = userPattern + "/groups"
	PathUserOrgs        = userPattern + "/orgs"
	PathUserOrg         = userPattern + "/orgs/{org}"
	PathUserEmail       = userPattern + "/email"
	PathUserMFAReset    = userPattern + "/mfa/reset"
	PathUser            = userPattern
	PathTrustCertUser   = protocol.PathTrustCerts + "/{name}"
	PathClusterEnd      = protocol.PathClusterSessions + "/{id}/end"
	PathClusterClose    = protocol.PathClusterDevices + "/{id}/close"
	PathClusterReplace  = protocol.PathClusterDevices + "/{id}/replace"
)

const (
	get, post, del, put = http.MethodGet, http.MethodPost, http.MethodDelete, http.MethodPut
)

// routes lists every HTTP route the relay serves.
var routes = []Route{
	{Method: get, Path: protocol.PathHealth, Response: typ[Status]()},
	{Method: get, Path: protocol.PathReady, Response: typ[Status]()},
	{Method: post, Path: protocol.PathLogin, Request: typ[LoginRequest](), Response: typ[LoginResponse]()},
	{Method: post, Path: protocol.PathAgentEnroll, Request: typ[EnrollRequest](), Response: typ[EnrollResponse]()},
	{Method: get, Path: protocol.PathAgentControl, WebSocket: true},
	{Method: get, Path: protocol.PathAgentSession, WebSocket: true},
	{Method: get, Path: protocol.PathAgentJoin, WebSocket: true},
	{Method: post, Path: protocol.PathLogout, Response: typ[Status]()},
	{Method: get, Path: protocol.PathWhoami, Response: typ[Whoami]()},
	{Method: post, Path: protocol.PathEnrollToken, Request: typ[EnrollTokenRequest](), Response: typ[EnrollTokenResponse]()},
	{Method: get, Path: protocol.PathDevices, Response: typ[[]Device]()},
	{Method: get, Path: protocol.PathTechSession, WebSocket: true},
	{Method: get, Path: protocol.PathSessions, Response: typ[[]Session]()},
	{Method: get, Path: PathSession, Response: typ[Session]()},
	{Method: post, Path: PathSessionKill, Response: typ[SessionKilled]()},
	{Method: get, Path: protocol.PathReportSessions, Response: typ[SessionReports]()},
	{Method: get, Path: protocol.PathRecipients, Response: typ[[]Recipient]()},
	{Method: post, Path: protocol.PathRecipients, Request: typ[RecipientRequest](), Response: typ[Recipient]()},
	{Method: del, Path: PathRecipient, Response: typ[RecipientRemoved]()},
	{Method: get, Path: protocol.PathRecordings, Response: typ[[]Recording]()},
	{Method: get, Path: PathRecording, Download: true}, // the ciphertext file
	{Method: post, Path: PathRecordingHold, Request: typ[HoldRequest](), Response: typ[Recording]()},
	{Method: post, Path: PathRecordingFree, Response: typ[Recording]()},
	{Method: get, Path: protocol.PathAuditExport, Download: true}, // JSON lines or CSV
	{Method: get, Path: protocol.PathAuditSearch, Response: typ[AuditPage]()},
	{Method: post, Path: protocol.PathAuditCheckpoints, Request: typ[AuditCheckpoint](), Response: typ[AuditCheckpointStored]()},
	{Method: post, Path: PathGroupPolicy, Request: typ[GroupPolicyRequest](), Response: typ[GroupPolicyResponse]()},
	{Method: post, Path: PathDeviceRevoke, Response: typ[DeviceActionResult]()},
	{Method: del, Path: PathDevice, Response: typ[DeviceActionResult]()},
	{Method: post, Path: PathDeviceRename, Request: typ[DeviceRenameRequest](), Response: typ[DeviceActionResult]()},
	{Method: post, Path: PathDeviceMove, Request: typ[DeviceMoveRequest](), Response: typ[DeviceActionResult]()},
	{Method: post, Path: protocol.PathPasswd, Request: typ[PasswdRequest](), Response: typ[Status]()},
	{Method: post, Path: protocol.PathMFAEnroll, Request: typ[ReauthRequest](), Response: typ[MFAEnrollResponse]()},
	{Method: post, Path: protocol.PathMFAConfirm, Request: typ[MFAConfirmRequest](), Response: typ[MFAConfirmResponse]()},
	{Method: post, Path: protocol.PathMFADisable, Request: typ[ReauthRequest](), Response: typ[Status]()},
	{Method: get, Path: protocol.PathPolicy, Response: typ[PolicyShow]()},
	{Method: post, Path: protocol.PathPolicy, Request: typ[PolicyChanges](), Response: typ[PolicySetResponse]()},
	{Method: get, Path: protocol.PathOrgs, Response: typ[[]Org]()},
	{Method: post, Path: protocol.PathOrgs, Request: typ[OrgRequest](), Response: typ[OrgRequest]()},
	{Method: get, Path: protocol.PathRoles, Response: typ[[]Role]()},
	{Method: post, Path: protocol.PathRoles, Request: typ[RoleRequest](), Response: typ[Role]()},
	{Method: del, Path: PathRole, Response: typ[Status]()},
	{Method: get, Path: protocol.PathUsers, Response: typ[[]User]()},
	{Method: post, Path: protocol.PathUsers, Request: typ[AddUserRequest](), Response: typ[UserAdded]()},
	{Method: post, Path: PathUserUnlock, Response: typ[UserActionResult]()},
	{Method: post, Path: PathUserResetPasswd, Response: typ[UserPasswordResult]()},
	{Method: post, Path: PathUserDisable, Response: typ[UserActionResult]()},
	{Method: post, Path: PathUserEnable, Response: typ[UserActionResult]()},
	{Method: post, Path: PathUserApprove, Response: typ[UserPasswordResult]()},
	{Method: post, Path: PathUserRoles, Request: typ[GrantRequest](), Response: typ[UserActionResult]()},
	{Method: del, Path: PathUserRole, Response: typ[UserActionResult]()},
	{Method: post, Path: PathUserGroups, Request: typ[GroupsRequest](), Response: typ[UserActionResult]()},
	{Method: post, Path: PathUserOrgs, Request: typ[OrgRequest](), Response: typ[UserActionResult]()},
	{Method: del, Path: PathUserOrg, Response: typ[UserActionResult]()},
	{Method: post, Path: PathUserEmail, Request: typ[EmailRequest](), Response: typ[UserActionResult]()},
	{Method: post, Path: PathUserMFAReset, Response: typ[UserActionResult]()},
	{Method: del, Path: PathUser, Response: typ[UserActionResult]()},
	{Method: get, Path: protocol.PathTrustRoot, Response: typ[TrustChain]()},
	{Method: put, Path: protocol.PathTrustRoot, Request: typ[TrustPublish](), Response: typ[TrustPublished]()},
	{Method: put, Path: protocol.PathTrustTechKey, Request: typ[TechKey](), Response: typ[Status]()},
	{Method: get, Path: protocol.PathTrustCert, Response: typ[TechCert]()},
	{Method: get, Path: PathTrustCertUser, Response: typ[CertifyFacts]()},
	{Method: put, Path: PathTrustCertUser, Request: typ[TrustPublish](), Response: typ[TechCertStored]()},
	{Method: get, Path: protocol.PathTrustPolicy, Response: typ[TrustPolicy]()},
	{Method: put, Path: protocol.PathTrustPolicy, Request: typ[TrustPublish](), Response: typ[TrustPolicyPublished]()},
	{Method: get, Path: protocol.PathTrustDraft, Response: typ[PolicyDraft]()},
	{Method: get, Path: protocol.PathTrustRevocations, Response: typ[TrustRevocations]()},
	{Method: post, Path: protocol.PathClusterOffer, Request: typ[ClusterOffer](), Response: typ[Status]()},
	{Method: get, Path: protocol.PathClusterAgentSession, WebSocket: true},
	{Method: post, Path: PathClusterEnd, Request: typ[ClusterEnd](), Response: typ[Status]()},
	{Method: post, Path: PathClusterClose, Request: typ[ClusterClose](), Response: typ[Status]()},
	{Method: post, Path: PathClusterReplace, Request: typ[ClusterReplace](), Response: typ[Status]()},
	{Method: put, Path: protocol.PathTrustRevocations, Request: typ[TrustPublish](), Response: typ[TrustPolicyPublished]()},
}

// Routes returns every HTTP route the relay serves (a copy).
func Routes() []Route { return slices.Clone(routes) }

// Find returns the route registered as pattern ("METHOD path").
func Find(pattern string) (Route, bool) {
	for _, r := range routes {
		if r.Pattern() == pattern {
			return r, true
		}
	}
	return Route{}, false
}
