package recstore_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/recstore"
	"github.com/tether-support/tether/internal/recstore/recstoretest"
	"github.com/tether-support/tether/internal/recstore/seaweedtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	seaweedtest.Stop()
	os.Exit(code)
}

// testPartSize is S3's minimum part size (SeaweedFS enforces it, like
// AWS), below the default.
const testPartSize = recstore.MinPartSize

func s3Store(t *testing.T, srv *seaweedtest.Server, bucket, prefix string) *recstore.S3 {
	t.Helper()
	t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
	cfg, err := recstore.ParseS3URL("s3://" + bucket + "/" + prefix + "?endpoint=" + srv.Endpoint + "&insecure=1")
	if err != nil {
		t.Fatal(err)
	}
	cfg.PartSize = testPartSize
	s, err := recstore.NewS3(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestS3Conformance(t *testing.T) {
	srv := seaweedtest.Shared(t)
	bucket := srv.Bucket(t)
	n := 0
	recstoretest.Run(t, func(t *testing.T) recstore.Store {
		n++
		return s3Store(t, srv, bucket, "suite"+strings.Repeat("x", n)+"/recordings")
	}, testPartSize)
}

func TestS3MissingBucket(t *testing.T) {
	srv := seaweedtest.Shared(t)
	t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
	cfg, _ := recstore.ParseS3URL("s3://no-such-bucket/p?endpoint=" + srv.Endpoint + "&insecure=1")
	_, err := recstore.NewS3(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), `bucket "no-such-bucket" does not exist`) {
		t.Fatalf("missing bucket: %v", err)
	}
	t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong")
	cfg, _ = recstore.ParseS3URL("s3://" + srv.Bucket(t) + "?endpoint=" + srv.Endpoint + "&insecure=1")
	if _, err := recstore.NewS3(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "cannot reach bucket") {
		t.Fatalf("wrong secret: %v", err)
	}
}

// TestS3Recover: an upload a crash left unfinished keeps its uploaded
// parts when the recording is open in the index (a prefix, readable as
// incomplete) and is aborted otherwise.
func TestS3Recover(t *testing.T) {
	srv := seaweedtest.Shared(t)
	bucket := srv.Bucket(t)
	s := s3Store(t, srv, bucket, "rec")
	data := bytes.Repeat([]byte("0123456789abcdef"), 3*testPartSize/16+100)
	open, other := ids.NewSessionID(), ids.NewSessionID()
	for _, id := range []ids.SessionID{open, other} {
		w, err := s.Create(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
		recstore.Crash(w) // three parts uploaded, the rest only buffered
	}
	restarted := s3Store(t, srv, bucket, "rec")
	kept, discarded, err := restarted.Recover(context.Background(), func(id ids.SessionID) bool { return id == open })
	if err != nil || kept != 1 || discarded != 1 {
		t.Fatalf("recover: %d kept, %d discarded, %v", kept, discarded, err)
	}
	got := recstoretest.Get(t, restarted, open)
	if len(got) != 3*testPartSize || !bytes.Equal(got, data[:len(got)]) {
		t.Fatalf("recovered %d bytes, want the three uploaded parts", len(got))
	}
	if _, err := restarted.Open(context.Background(), other); !errors.Is(err, recstore.ErrNotFound) {
		t.Fatalf("aborted upload: %v", err)
	}
	if kept, discarded, err := restarted.Recover(context.Background(), func(ids.SessionID) bool { return true }); kept+discarded != 0 || err != nil {
		t.Fatalf("second recover: %d, %d, %v", kept, discarded, err)
	}
}
