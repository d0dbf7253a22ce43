-- Tether's PostgreSQL schema, version 1: one table per bbolt bucket.
-- Keys are bytea so that they order byte-wise exactly as bbolt's keys do and
-- accept any bytes a caller passes; records are the same JSON bytes the
-- bbolt store keeps (rec), stored unparsed so that the audit chain is
-- verified over exactly what is kept and `relay migrate` copies bytes.
CREATE TABLE users (
	id       bytea PRIMARY KEY,
	username bytea NOT NULL UNIQUE,
	rec      bytea NOT NULL
);
CREATE TABLE unknown_logins (
	name bytea PRIMARY KEY,
	n    integer NOT NULL
);
CREATE TABLE orgs (
	name bytea PRIMARY KEY,
	rec  bytea NOT NULL
);
CREATE TABLE roles (
	name bytea PRIMARY KEY,
	rec  bytea NOT NULL
);
-- name is NULL once the device is removed (its name is free again).
CREATE TABLE devices (
	id   bytea PRIMARY KEY,
	name bytea UNIQUE,
	rec  bytea NOT NULL
);
CREATE TABLE login_tokens (
	hash    bytea PRIMARY KEY,
	user_id bytea NOT NULL,
	rec     bytea NOT NULL
);
CREATE INDEX login_tokens_user ON login_tokens (user_id);
CREATE TABLE enroll_tokens (
	hash bytea PRIMARY KEY,
	rec  bytea NOT NULL
);
CREATE TABLE join_codes (
	hash bytea PRIMARY KEY,
	rec  bytea NOT NULL
);
-- files and files_dropped count the session's file transfers (see
-- session_files); PutSession replaces rec only.
CREATE TABLE sessions (
	id            bytea PRIMARY KEY,
	rec           bytea NOT NULL,
	files         bigint NOT NULL DEFAULT 0,
	files_dropped bigint NOT NULL DEFAULT 0
);
CREATE TABLE session_files (
	session_id bytea NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
	n          bigint NOT NULL,
	rec        bytea NOT NULL,
	PRIMARY KEY (session_id, n)
);
CREATE TABLE recordings (
	id  bytea PRIMARY KEY,
	rec bytea NOT NULL
);
-- last and expires repeat the record's fields, as Unix nanoseconds (exact,
-- like the record; timestamptz keeps microseconds), for sweeping and for
-- keeping the newest keys under a prefix.
CREATE TABLE throttle (
	key     bytea PRIMARY KEY,
	rec     bytea NOT NULL,
	last    bigint NOT NULL,
	expires bigint NOT NULL
);
-- The number of throttle rows, kept in one row so that the bound is
-- checked without counting the table.
CREATE TABLE throttle_count (
	one boolean PRIMARY KEY DEFAULT true CHECK (one),
	n   bigint NOT NULL
);
INSERT INTO throttle_count (n) VALUES (0);
CREATE TABLE meta (
	key bytea PRIMARY KEY,
	val bytea NOT NULL
);
-- key is the 8-byte big-endian seq, as bbolt stores it.
CREATE TABLE audit (
	seq bigint PRIMARY KEY CHECK (seq > 0),
	key bytea NOT NULL,
	rec bytea NOT NULL
);
