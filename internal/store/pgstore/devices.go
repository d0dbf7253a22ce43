package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/store"
)

// CreateDevice stores d, assigning d.ID if empty; ErrExists if the name or
// ID is taken.
func (s *Store) CreateDevice(d *store.Device) error {
	if d.Name == "" {
		return fmt.Errorf("store: create device: empty name")
	}
	if d.ID == "" {
		d.ID = ids.NewDeviceID()
	}
	rec, err := encode(d)
	if err != nil {
		return err
	}
	err = s.write(func(ctx context.Context, tx pgx.Tx) error {
		taken, err := exists(ctx, tx, "SELECT 1 FROM devices WHERE id = $1 OR name = $2", []byte(d.ID), []byte(d.Name))
		if err != nil || taken {
			return errors.Join(err, errIf(taken))
		}
		_, err = tx.Exec(ctx, "INSERT INTO devices (id, name, rec) VALUES ($1, $2, $3)", []byte(d.ID), []byte(d.Name), rec)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: create device %q: %w", d.Name, err)
	}
	return nil
}

// DeviceByID returns the device, removed or not.
func (s *Store) DeviceByID(id ids.DeviceID) (*store.Device, error) {
	var d store.Device
	err := s.single(func(ctx context.Context, tx querier) error {
		return getRec(ctx, tx, &d, "SELECT rec FROM devices WHERE id = $1", []byte(id))
	})
	if err != nil {
		return nil, fmt.Errorf("store: device %q: %w", id, err)
	}
	return &d, nil
}

// DeviceByName returns the device that holds the name.
func (s *Store) DeviceByName(name string) (*store.Device, error) {
	var d store.Device
	err := s.single(func(ctx context.Context, tx querier) error {
		return getRec(ctx, tx, &d, "SELECT rec FROM devices WHERE name = $1", []byte(name))
	})
	if err != nil {
		return nil, fmt.Errorf("store: device %q: %w", name, err)
	}
	return &d, nil
}

// UpdateDevice reads, modifies with fn and writes back a device that is
// not removed.
func (s *Store) UpdateDevice(id ids.DeviceID, fn func(*store.Device) error) error {
	err := s.write(func(ctx context.Context, tx pgx.Tx) error {
		var d store.Device
		if err := getRec(ctx, tx, &d, "SELECT rec FROM devices WHERE id = $1", []byte(id)); err != nil {
			return err
		}
		if !d.RemovedAt.IsZero() {
			return store.ErrNotFound
		}
		old := d.Name
		if err := fn(&d); err != nil {
			return err
		}
		if d.ID != id {
			return errors.New("the ID is immutable")
		}
		if err := checkRename(ctx, tx, "devices", "name", old, d.Name); err != nil {
			return err
		}
		rec, err := encode(&d)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "UPDATE devices SET name = $2, rec = $3 WHERE id = $1", []byte(id), []byte(d.Name), rec)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: update device %q: %w", id, err)
	}
	return nil
}

// RemoveDevice marks the device removed and frees its name.
func (s *Store) RemoveDevice(id ids.DeviceID, at time.Time, by ids.UserID) error {
	err := s.write(func(ctx context.Context, tx pgx.Tx) error {
		var d store.Device
		if err := getRec(ctx, tx, &d, "SELECT rec FROM devices WHERE id = $1", []byte(id)); err != nil {
			return err
		}
		if !d.RemovedAt.IsZero() {
			return store.ErrNotFound
		}
		d.RemovedAt, d.RemovedBy = at, by
		rec, err := encode(&d)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "UPDATE devices SET name = NULL, rec = $2 WHERE id = $1", []byte(id), rec)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: remove device %q: %w", id, err)
	}
	return nil
}

// ListDevices returns every device, removed ones included, ordered by ID.
func (s *Store) ListDevices() ([]store.Device, error) {
	devices, err := listRecs[store.Device](s, "SELECT rec FROM devices ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("store: list devices: %w", err)
	}
	return devices, nil
}
