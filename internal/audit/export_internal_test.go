package audit

import "tether/internal/store"

// EntryHash exposes entryHash to the external tests.
var EntryHash = func(r *store.AuditRecord) []byte { return entryHash(r) }
