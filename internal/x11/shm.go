package x11

import (
	"fmt"

	"github.com/jezek/xgb/shm"
	"golang.org/x/sys/unix"
)

// shmSeg is a System V shared memory segment attached by this process and
// by the X server. It is marked for removal as soon as both are attached,
// so the kernel frees it when the last of them detaches or exits — a crash
// leaks nothing.
type shmSeg struct {
	id   shm.Seg
	data []byte
}

// newShmSeg creates a segment of size bytes and attaches it on both sides.
func (d *Display) newShmSeg(size int) (*shmSeg, error) {
	shmid, err := unix.SysvShmGet(unix.IPC_PRIVATE, size, unix.IPC_CREAT|0o600)
	if err != nil {
		return nil, fmt.Errorf("x11: shmget %d bytes: %w", size, err)
	}
	rmid := func() { _, _ = unix.SysvShmCtl(shmid, unix.IPC_RMID, nil) }
	data, err := unix.SysvShmAttach(shmid, 0, 0)
	if err != nil {
		rmid()
		return nil, fmt.Errorf("x11: shmat: %w", err)
	}
	seg, err := shm.NewSegId(d.conn)
	if err != nil {
		_ = unix.SysvShmDetach(data)
		rmid()
		return nil, fmt.Errorf("x11: shm segment id: %w", err)
	}
	// Checked: the server must have attached before the segment is removed.
	err = shm.AttachChecked(d.conn, seg, uint32(shmid), false).Check()
	rmid()
	if err != nil {
		_ = unix.SysvShmDetach(data)
		return nil, fmt.Errorf("x11: the X server cannot attach shared memory: %w", err)
	}
	return &shmSeg{id: seg, data: data}, nil
}

// free detaches the segment on both sides.
func (s *shmSeg) free(d *Display) {
	if s == nil {
		return
	}
	_ = shm.DetachChecked(d.conn, s.id).Check()
	_ = unix.SysvShmDetach(s.data)
}
