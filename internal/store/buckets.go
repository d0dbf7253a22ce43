package store

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Bucket names: every bucket the database holds, in one place.
var (
	// bucketUsers maps User.ID to a JSON User.
	bucketUsers = []byte("users")
	// bucketUserNames maps User.Username to User.ID.
	bucketUserNames = []byte("user_names")
	// bucketLoginTokens maps a login token's SHA-256 to a JSON LoginToken.
	bucketLoginTokens = []byte("login_tokens")
	// bucketEnrollTokens maps an enrollment token's SHA-256 to a JSON EnrollToken.
	bucketEnrollTokens = []byte("enroll_tokens")
	// bucketDevices maps Device.ID to a JSON Device.
	bucketDevices = []byte("devices")
	// bucketDeviceNames maps Device.Name to Device.ID.
	bucketDeviceNames = []byte("device_names")
	// bucketSessions maps Session.ID to a JSON Session.
	bucketSessions = []byte("sessions")
	// bucketSessionFiles holds each session's file transfers as separate
	// entries (see AppendSessionFile), so that recording one does not
	// rewrite the session record.
	bucketSessionFiles = []byte("session_files")
	// bucketJoinCodes maps a join code's SHA-256 to a JSON JoinCode.
	bucketJoinCodes = []byte("join_codes")
	// bucketRecordings maps Recording.ID (the session ID) to a JSON Recording.
	bucketRecordings = []byte("recordings")
	// bucketRecordingUsage indexes the finished recordings for the
	// per-device quota (see recusage.go): key usageKey(DeviceID,
	// CreatedAt, ID), value the 8-byte big-endian Size. Derived from
	// bucketRecordings and rebuilt from it when missing.
	bucketRecordingUsage = []byte("recording_usage")
	// bucketOrgs maps Org.Name to a JSON Org.
	bucketOrgs = []byte("orgs")
	// bucketRoles maps Role.Name to a JSON Role (custom roles only).
	bucketRoles = []byte("roles")
	// bucketUnknownLogins maps a login name that is not a user to its
	// consecutive failed sign-ins (a big-endian uint32), so that unknown names
	// lock like real ones.
	bucketUnknownLogins = []byte("unknown_logins")
	// bucketThrottle maps a throttle key (see throttle.go) to a JSON
	// Counter, so that rate limits and failure budgets survive a restart.
	bucketThrottle = []byte("throttle")
	// bucketMeta maps a key to an opaque value (keys, settings).
	bucketMeta = []byte("meta")
	// bucketAudit maps an 8-byte big-endian AuditRecord.Seq to a JSON AuditRecord.
	bucketAudit = []byte(AuditBucket)
	// bucketWriteKeys holds the keys of appends already made, so that a
	// retried one lands once (see writekeys.go).
	bucketWriteKeys = []byte("write_keys")
)

// AuditBucket is the name of the bucket holding the audit log, exported so
// that tamper tests can edit the file with bbolt directly.
const AuditBucket = "audit"

var allBuckets = [][]byte{
	bucketUsers, bucketUserNames, bucketLoginTokens, bucketEnrollTokens,
	bucketDevices, bucketDeviceNames, bucketSessions, bucketJoinCodes,
	bucketMeta, bucketAudit, bucketRecordings, bucketOrgs, bucketRoles, bucketUnknownLogins,
	bucketSessionFiles,
	bucketThrottle,
	bucketWriteKeys,
	bucketRecordingUsage,
}

// createBuckets creates every bucket that does not exist yet.
func createBuckets(tx *bolt.Tx) error {
	for _, name := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	return nil
}

// initBuckets creates every missing bucket and builds the derived
// recordings usage index when a file written before it had none.
func initBuckets(tx *bolt.Tx) error {
	build := tx.Bucket(bucketRecordingUsage) == nil
	if err := createBuckets(tx); err != nil {
		return err
	}
	if build {
		if err := buildUsageIndex(tx); err != nil {
			return fmt.Errorf("build the recordings usage index: %w", err)
		}
	}
	return nil
}
