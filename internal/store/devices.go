package store

import (
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/tether-support/tether/internal/ids"
)

// CreateDevice stores a new device, assigning d.ID if empty. It returns an
// error wrapping ErrExists if the name or ID is taken.
func (db *DB) CreateDevice(d *Device) error {
	if d.Name == "" {
		return fmt.Errorf("store: create device: empty name")
	}
	if d.ID == "" {
		d.ID = ids.NewDeviceID()
	}
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		devices, names := tx.Bucket(bucketDevices), tx.Bucket(bucketDeviceNames)
		if err := mustNotExist(names, []byte(d.Name)); err != nil {
			return err
		}
		if err := mustNotExist(devices, []byte(d.ID)); err != nil {
			return err
		}
		if err := names.Put([]byte(d.Name), []byte(d.ID)); err != nil {
			return err
		}
		return putJSON(devices, []byte(d.ID), d)
	})
	if err != nil {
		return fmt.Errorf("store: create device %q: %w", d.Name, err)
	}
	return nil
}

// DeviceByID returns the device with the given ID.
func (db *DB) DeviceByID(id ids.DeviceID) (*Device, error) {
	var d Device
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return getJSON(tx.Bucket(bucketDevices), []byte(id), &d)
	})
	if err != nil {
		return nil, fmt.Errorf("store: device %q: %w", id, err)
	}
	return &d, nil
}

// DeviceByName returns the device with the given name.
func (db *DB) DeviceByName(name string) (*Device, error) {
	var d Device
	err := db.bolt.View(func(tx *bolt.Tx) error {
		id := tx.Bucket(bucketDeviceNames).Get([]byte(name))
		if id == nil {
			return ErrNotFound
		}
		return getJSON(tx.Bucket(bucketDevices), id, &d)
	})
	if err != nil {
		return nil, fmt.Errorf("store: device %q: %w", name, err)
	}
	return &d, nil
}

// UpdateDevice reads the device with the given ID, calls fn to modify it
// and writes it back, all in one transaction. If fn returns an error nothing
// is written. fn may rename the device (ErrExists if taken) but not change
// its ID.
func (db *DB) UpdateDevice(id ids.DeviceID, fn func(*Device) error) error {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		devices, names := tx.Bucket(bucketDevices), tx.Bucket(bucketDeviceNames)
		var d Device
		if err := getJSON(devices, []byte(id), &d); err != nil {
			return err
		}
		if !d.RemovedAt.IsZero() {
			return ErrNotFound
		}
		old := d.Name
		if err := fn(&d); err != nil {
			return err
		}
		if d.ID != id {
			return errors.New("the ID is immutable")
		}
		if err := rename(names, old, d.Name, string(id)); err != nil {
			return err
		}
		return putJSON(devices, []byte(id), &d)
	})
	if err != nil {
		return fmt.Errorf("store: update device %q: %w", id, err)
	}
	return nil
}

// RemoveDevice marks the device removed and frees its name, keeping the
// record (see Devices.RemoveDevice).
func (db *DB) RemoveDevice(id ids.DeviceID, at time.Time, by ids.UserID) error {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		devices, names := tx.Bucket(bucketDevices), tx.Bucket(bucketDeviceNames)
		var d Device
		if err := getJSON(devices, []byte(id), &d); err != nil {
			return err
		}
		if !d.RemovedAt.IsZero() {
			return ErrNotFound
		}
		if string(names.Get([]byte(d.Name))) == string(id) {
			if err := names.Delete([]byte(d.Name)); err != nil {
				return err
			}
		}
		d.RemovedAt, d.RemovedBy = at, by
		return putJSON(devices, []byte(id), &d)
	})
	if err != nil {
		return fmt.Errorf("store: remove device %q: %w", id, err)
	}
	return nil
}

// ListDevices returns all devices, removed ones included, ordered by ID.
func (db *DB) ListDevices() ([]Device, error) {
	devices, err := list[Device](db, bucketDevices)
	if err != nil {
		return nil, fmt.Errorf("store: list devices: %w", err)
	}
	return devices, nil
}
