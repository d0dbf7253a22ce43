package identity

import (
	"errors"
	"fmt"
	"time"

	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/store"
)

// UnlockResult says what Unlock did.
type UnlockResult struct {
	// Username is the account's canonical name.
	Username string
	// WasLocked is true if the account was locked; either way its failure
	// count and sign-in back-off are reset.
	WasLocked bool
	// State is the account's state afterwards.
	State string
}

// Unlock unlocks the account called canon (a canonical username) in db,
// resets its failed sign-ins and clears its sign-in back-off; it returns
// the result and the user's ID. The caller audits it.
func Unlock(db Store, canon string) (*UnlockResult, ids.UserID, error) {
	u, err := db.UserByName(canon)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.State == store.UserDeleted) {
		return nil, "", fmt.Errorf("there is no user %q in this data directory", canon)
	}
	if err != nil {
		return nil, "", err
	}
	res := &UnlockResult{Username: u.Username}
	err = db.UpdateUser(u.ID, func(u *store.User) error {
		if u.State == store.UserLocked {
			u.State, res.WasLocked = store.UserActive, true
		}
		u.FailedLogins, u.LockedAt = 0, time.Time{}
		res.State = u.State
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	key, err := db.GetMeta(MetaSecretKey)
	if err != nil {
		return nil, "", fmt.Errorf("load secret key: %w", err)
	}
	if err := db.ForgetThrottle("acct:" + nameDigestWith(key, canon)); err != nil {
		return nil, "", err
	}
	return res, u.ID, nil
}
