-- Version 2: the relay cluster (several relays on this database).
-- relays: one row per running relay; heartbeat_at is the database's clock
-- (now()) at its last heartbeat, so relays' clocks need not agree. A relay
-- whose heartbeat is older than its cluster's expiry is dead: every relay
-- sweeps it (presence, sessions, recordings) and deletes its row.
CREATE TABLE relays (
	id           text PRIMARY KEY,
	advertise    text NOT NULL,
	started_at   timestamptz NOT NULL DEFAULT now(),
	heartbeat_at timestamptz NOT NULL DEFAULT now()
);
-- agent_presence: which relay holds each online device's control
-- connection, since when (the connection's own time, so that a relay only
-- deletes the row of the connection it registered).
CREATE TABLE agent_presence (
	device_id bytea PRIMARY KEY,
	relay_id  text NOT NULL,
	since     timestamptz NOT NULL
);
CREATE INDEX agent_presence_relay ON agent_presence (relay_id);
-- The session's home relay (store.Session.Relay, repeated from the record)
-- and whether it is still open (its state is not "ended"), so that the
-- sessions a dead relay held are found without reading every record.
ALTER TABLE sessions ADD COLUMN relay text NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN open boolean NOT NULL DEFAULT false;
CREATE INDEX sessions_open_relay ON sessions (relay) WHERE open;
