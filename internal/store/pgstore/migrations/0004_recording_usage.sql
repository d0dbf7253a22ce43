-- Version 4: the per-device recording quota reads one aggregate instead of
-- every recording. The columns repeat fields of rec, written with it
-- (putRecording): device_id; created, CreatedAt as Unix nanoseconds
-- (exact, clamped to bigint; the zero time is the smallest bigint); size;
-- quota, whether the recording counts against its device's quota (it is
-- finished and names a device). The partial index holds only the counted
-- recordings, with their size, so the sum over a device's last 24 hours is
-- an index-only range scan whatever the number of recordings.
ALTER TABLE recordings ADD COLUMN device_id text NOT NULL DEFAULT '';
ALTER TABLE recordings ADD COLUMN created bigint NOT NULL DEFAULT -9223372036854775808;
ALTER TABLE recordings ADD COLUMN size bigint NOT NULL DEFAULT 0;
ALTER TABLE recordings ADD COLUMN quota boolean NOT NULL DEFAULT false;
-- Existing rows: from the JSON record (created_at rounded to the
-- microsecond, which timestamptz keeps; new writes are exact). PostgreSQL
-- refuses to parse \u0000 in a JSON string (a device name may hold one), so
-- each such escape becomes \u0020 first: still valid JSON whether the
-- backslash starts the escape or ends an escaped backslash, and no field
-- read here holds either. Only these columns are written; rec stays as is.
UPDATE recordings r SET
	device_id = COALESCE(s.j->>'device_id', ''),
	size = COALESCE((s.j->>'size')::bigint, 0),
	quota = COALESCE(s.j->>'device_id', '') <> '' AND COALESCE(s.j->>'state', '') <> 'recording',
	created = CASE WHEN s.j->>'created_at' IS NULL THEN -9223372036854775808
		ELSE GREATEST(LEAST(extract(epoch FROM (s.j->>'created_at')::timestamptz) * 1000000000,
			9223372036854775807), -9223372036854775808)::bigint END
FROM (SELECT id, replace(convert_from(rec, 'UTF8'), E'\\u0000', E'\\u0020')::jsonb AS j FROM recordings) s
WHERE r.id = s.id;
CREATE INDEX recordings_quota ON recordings (device_id, created) INCLUDE (size) WHERE quota;
