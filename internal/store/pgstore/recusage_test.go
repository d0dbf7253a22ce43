package pgstore_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/store"
	"github.com/tether-support/tether/internal/store/pgstore"
	"github.com/tether-support/tether/internal/store/pgtest"
)

// TestRecordingUsageMigration: migration 4 fills the usage columns of
// recordings written before it from their records, so the quota counts
// them: a database is taken back to version 3 (columns and index dropped,
// rows written the old way), reopened, and asked.
func TestRecordingUsageMigration(t *testing.T) {
	url := pgtest.Shared(t).NewDB(t)
	s, err := pgstore.Open(pgstore.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 9, 0, 0, 123456000, time.UTC)
	back := []string{
		"DROP INDEX recordings_quota",
		"ALTER TABLE recordings DROP COLUMN device_id, DROP COLUMN created, DROP COLUMN size, DROP COLUMN quota",
		"DELETE FROM schema_migrations WHERE version = 4",
		`INSERT INTO recordings (id, rec) VALUES
			('r1', convert_to('{"id":"r1","device_id":"d_1","state":"complete","size":100,"created_at":"2026-03-01T09:00:00.123456Z"}', 'UTF8')),
			('r2', convert_to('{"id":"r2","device_id":"d_1","state":"incomplete","size":20,"created_at":"2026-03-01T08:00:00+01:00"}', 'UTF8')),
			('r3', convert_to('{"id":"r3","device_id":"d_1","state":"recording","size":1000,"created_at":"2026-03-01T09:00:00Z"}', 'UTF8')),
			('r4', convert_to('{"id":"r4","device_id":"d_1","state":"complete","size":5000,"created_at":"2026-02-27T09:00:00Z"}', 'UTF8')),
			('r5', convert_to('{"id":"r5","device_id":"d_1","state":"complete","size":7}', 'UTF8')),
			('r6', convert_to('{"id":"r6","state":"complete","size":9,"created_at":"2026-03-01T09:00:00Z"}', 'UTF8')),
			('r8', convert_to('{"id":"r8","device_name":"a\u0000b","device_id":"d_3","state":"complete","size":11,"created_at":"2026-03-01T09:00:00Z"}', 'UTF8')),
			('r9', convert_to('{"id":"r9","device_name":"x\\u0000\\\u0000","device_id":"d_3","state":"complete","size":13,"created_at":"2026-03-01T09:00:00Z"}', 'UTF8')),
			('r7', convert_to('{"id":"r7","device_id":"d_2","state":"complete","size":3,"created_at":"9999-12-31T23:59:59Z"}', 'UTF8'))`,
	}
	for _, q := range back {
		if err := s.ExecForTest(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s.Close()
	s, err = pgstore.Open(pgstore.Config{URL: url})
	if err != nil {
		t.Fatalf("reopen (migration 4): %v", err)
	}
	defer s.Close()
	for _, tc := range []struct {
		dev   string
		since time.Time
		want  int64
	}{
		{"d_1", now.Add(-24 * time.Hour), 120},   // r1, r2 (an offset of +01:00 is 07:00 UTC)
		{"d_1", now.Add(-72 * time.Hour), 5120},  // and r4
		{"d_1", now.Add(-time.Microsecond), 100}, // r1 to the microsecond
		{"d_1", now, 0},                          // strictly after
		{"", now.Add(-24 * time.Hour), 0},        // no device: never counted
		{"d_2", now, 3},                          // far future: clamped, still after
		{"d_3", now.Add(-time.Hour), 24},         // records jsonb would refuse
		{"d_1", time.Time{}, 5120},               // r5 has no creation time: never after anything
	} {
		got, err := s.RecordingUsage(tc.dev, tc.since)
		if err != nil || got != tc.want {
			t.Errorf("RecordingUsage(%q, %v) = %d, %v; want %d", tc.dev, tc.since, got, err, tc.want)
		}
	}
	// Written after the migration, through the API: counted the same.
	if err := s.UpdateRecording("r3", func(r *store.Recording) error { r.State = store.RecordingComplete; return nil }); err != nil {
		t.Fatal(err)
	}
	if got, err := s.RecordingUsage("d_1", now.Add(-24*time.Hour)); err != nil || got != 1120 {
		t.Errorf("after finishing r3: %d, %v; want 1120", got, err)
	}
}

// TestRecordingUsagePlan: with a history of recordings that do not count
// (older, other devices', live), PostgreSQL answers the quota's sum from the
// partial index, reading only the device's rows inside the window.
func TestRecordingUsagePlan(t *testing.T) {
	url := pgtest.Shared(t).NewDB(t)
	s, err := pgstore.Open(pgstore.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	// A relay's history: 20,000 recordings of 200 devices over the 30
	// days before the window, one in a hundred left live.
	fill := fmt.Sprintf(`INSERT INTO recordings (id, rec, device_id, created, size, quota)
		SELECT convert_to('old' || i, 'UTF8'), convert_to('{}', 'UTF8'), 'd_' || (i %% 200),
			%d - (i::bigint * 130) * 1000000000, 1000, i %% 100 <> 7
		FROM generate_series(1, 20000) AS i`, now.Add(-25*time.Hour).UnixNano())
	for _, q := range []string{fill, "ANALYZE recordings"} {
		if err := s.ExecForTest(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for i := range 3 {
		r := &store.Recording{ID: ids.SessionID(fmt.Sprintf("new%d", i)), DeviceID: "d_1", State: store.RecordingComplete, Size: 1, CreatedAt: now}
		if err := s.PutRecording(r); err != nil {
			t.Fatal(err)
		}
	}
	since := now.Add(-24 * time.Hour)
	if got, err := s.RecordingUsage("d_1", since); err != nil || got != 3 {
		t.Fatalf("RecordingUsage = %d, %v; want 3", got, err)
	}
	plan, err := s.QueryLinesForTest("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) "+pgstore.UsageQuery, "d_1", since.UnixNano())
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(plan, "\n")
	if !strings.Contains(text, "Index Only Scan using recordings_quota") {
		t.Errorf("the quota's sum does not use its index:\n%s", text)
	}
	for _, l := range plan {
		if strings.Contains(l, "Index Only Scan") && !strings.Contains(l, "rows=3 ") {
			t.Errorf("the index scan reads more than the window's 3 rows:\n%s", text)
		}
	}
}
