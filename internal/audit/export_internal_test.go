package audit

import "github.com/tether-support/tether/internal/store"

// EntryHash exposes entryHash to the external tests.
var EntryHash = func(r *store.AuditRecord) []byte { return entryHash(r) }
