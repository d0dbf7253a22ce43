// Package backup writes and reads a relay backup archive: one tar file
// holding a relay data directory, its database as a consistent snapshot,
// closed by a manifest that lists every file with its size and SHA-256.
//
// # Format (version 1)
//
// A POSIX tar (ustar or PAX headers) of entries in this order:
//
//   - relay.db first: the bbolt database, a consistent snapshot;
//   - then every other directory and regular file of the data directory,
//     by relative slash-separated name ("tls", "tls/key.pem",
//     "recordings/<id>.rec", …), each directory before what it holds;
//   - last, tether-backup.json, the manifest (Manifest as JSON).
//
// Only directories and regular files occur. A name is relative, clean
// (path.Clean leaves it unchanged), has no "." or ".." element, no
// backslash, no control character, at most MaxDepth elements and
// MaxNameLen bytes, and occurs once. File modes keep at most 0644; the
// reader creates directories 0700 and files with the archived mode
// without any execute bit. The manifest's Files list exactly the regular
// files before it, in order, with their sizes and hex SHA-256s; nothing
// follows the manifest but the tar end. A reader accepts an archive only
// whole: a cut, reordered, extended or edited archive is refused.
//
// Other kinds of archive share this layout under their own names (Kind):
// the cluster bundle (internal/relay) names its manifest
// tether-cluster.json, format "tether-cluster", with store-url first. A
// reader of one kind refuses every other.
//
// The manifest is a check against damage, not against an attacker: the
// archive holds the data directory's secrets (the TLS key, the audit keys),
// so it must be kept like the data directory itself.
package backup
