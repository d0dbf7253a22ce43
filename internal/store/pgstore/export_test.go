package pgstore

import "context"

// ExecForTest runs one statement, for tests that set up states the API
// cannot reach.
func (s *Store) ExecForTest(sql string) error {
	_, err := s.pool.Exec(context.Background(), sql)
	return err
}
