-- Write keys: an append retried after its commit's answer was lost (the
-- relay's write queue retries while the database is unreachable) finds its
-- key taken and lands once. The key is kept beside the record, not in rec,
-- so the audit chain's bytes do not change. A session's file write keys
-- have their own table because past the bound a transfer is only counted
-- (no session_files row), and that count must not double either.
ALTER TABLE audit ADD COLUMN write_key bytea UNIQUE;
CREATE TABLE session_file_keys (
	session_id bytea NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
	write_key  bytea NOT NULL,
	PRIMARY KEY (session_id, write_key)
);
