// Package diskio moves a transferred file between the disk and the network
// at little CPU cost.
//
// On the machines we measured, copying a gigabyte through the page cache
// (and the kernel reclaiming it again) cost 2–3 s of CPU on either side of
// a transfer, more than TLS, AES-GCM and SHA-256 together, while direct
// I/O ran at 2 GB/s. So where the file system allows it (Linux, O_DIRECT):
//
//   - a Writer sends whole 1 MiB blocks of a received file straight from
//     an aligned buffer to the disk; only the last partial block passes
//     through the page cache before the fsync;
//   - a Reader reads each 1 MiB block of a file to be sent from the page
//     cache when the block is already there (cheap), and directly from
//     the disk when it is not, asking the kernel which with cachestat(2).
//
// Elsewhere the Writer asks the kernel to start writing each 8 MiB window
// as soon as it is complete and waits for the window before the previous
// one: a file arriving at a few hundred MB/s would otherwise stay in the
// page cache until fsync (the kernel starts write-back only at
// dirty_background_ratio), so the transfer would take network time plus
// disk time. The Reader reads through the page cache.
package diskio
