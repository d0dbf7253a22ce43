package pgstore

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// ExecForTest runs one statement, for tests that set up states the API
// cannot reach.
func (s *Store) ExecForTest(sql string) error {
	_, err := s.pool.Exec(context.Background(), sql)
	return err
}

// QueryLinesForTest runs one query whose rows are one text column each
// (EXPLAIN) and returns them.
func (s *Store) QueryLinesForTest(sql string, args ...any) ([]string, error) {
	rows, err := s.pool.Query(context.Background(), sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// UsageQuery is the statement RecordingUsage sends.
const UsageQuery = usageQuery
