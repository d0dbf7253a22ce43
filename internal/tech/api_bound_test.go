package tech

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestBoundedReaderStopsALongAnswer(t *testing.T) {
	tests := []struct {
		answer  string
		limit   int64
		tooLong bool
	}{
		{`{"entries":[]}`, 64, false},
		{`{"entries":[]}`, int64(len(`{"entries":[]}`)), false},
		{`{"entries":[` + strings.Repeat(`{"seq":1},`, 1000) + `{"seq":2}]}`, 1024, true},
	}
	for _, tc := range tests {
		var v struct{ Entries []map[string]any }
		err := json.NewDecoder(&boundedReader{r: strings.NewReader(tc.answer), n: tc.limit}).Decode(&v)
		if got := errors.Is(err, errAnswerTooLong); got != tc.tooLong {
			t.Errorf("answer of %d bytes, limit %d: error %v, want too long = %v", len(tc.answer), tc.limit, err, tc.tooLong)
		}
	}
}
