package relay

import (
	"errors"
	"fmt"

	"github.com/tether-support/tether/internal/audit"
	"github.com/tether-support/tether/internal/identity"
	"github.com/tether-support/tether/internal/store"
	"github.com/tether-support/tether/internal/username"
)

// hostActor is the audit actor and source of actions taken on the relay
// host with access to the data directory.
const hostActor = "relay host"

// UnlockResult says what UnlockUser did.
type UnlockResult = identity.UnlockResult

// UnlockUser unlocks the account called name in the data directory dir,
// resets its failed sign-ins and its sign-in back-off, and records
// `user.unlock` in the audit log (actor "relay host"). It needs the
// database to itself: while a relay runs it fails with an error wrapping
// store.ErrLocked that says what to do. It works on any account, the
// service superadmin included; being able to write the data directory is
// the credential.
func UnlockUser(dir, name string) (*UnlockResult, error) {
	if !Initialized(dir) {
		return nil, fmt.Errorf("%q is not a relay data directory (--data DIR)", dir)
	}
	canon, err := username.Canonical(name)
	if err != nil {
		return nil, fmt.Errorf("%q is not a valid username: %w", name, err)
	}
	db, err := openStore(dir)
	if errors.Is(err, store.ErrLocked) {
		return nil, fmt.Errorf("the relay is running and holds %s; stop the relay and run this again, "+
			"or unlock over the network while it runs: `tech users unlock %s` as an administrator "+
			"(with no administrator left, sign in with `relay emergency-access` first)", dbPath(dir), canon)
	}
	if err != nil {
		return nil, err
	}
	defer db.Close()
	log, err := openAuditLog(dir, db)
	if err != nil {
		return nil, err
	}
	res, id, err := identity.Unlock(db, canon)
	if err != nil {
		return nil, err
	}
	_, err = log.Append(audit.Event{ActorID: hostActor, Action: "user.unlock", Target: id.String(), Outcome: "success", Source: hostActor,
		Details: map[string]string{"username": res.Username, "via": "relay users unlock", "was_locked": fmt.Sprint(res.WasLocked)}})
	if err != nil {
		return nil, fmt.Errorf("%s was unlocked but the audit entry failed: %w", res.Username, err)
	}
	if err := log.SignHead(); err != nil {
		return nil, fmt.Errorf("sign the audit head: %w", err)
	}
	return res, nil
}
