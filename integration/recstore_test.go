package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/tether-support/tether/internal/recstore/seaweedtest"
)

// partSize is the relays' multipart part size in these tests: S3's
// minimum, 5 MiB (the default is 8 MiB).
const partSize = "5242880"

// s3Env is a relay keeping recordings in a fresh SeaweedFS bucket.
type s3Env struct {
	*env
	srv    *seaweedtest.Server
	bucket string
	flags  []string
}

func newS3Env(t *testing.T) *s3Env {
	t.Helper()
	srv := seaweedtest.Shared(t)
	bucket := srv.Bucket(t)
	flags := []string{"--recordings-store", "s3://" + bucket + "/tether?endpoint=" + srv.Endpoint + "&insecure=1",
		"--test-recordings-part-size", partSize}
	e := newEnvFrom(t, &env{t: t, dir: t.TempDir(), relayEnv: srv.Env()}, flags...)
	return &s3Env{env: e, srv: srv, bucket: bucket, flags: flags}
}

// object stats the recording's object in the bucket.
func (s *s3Env) object(id string) (minio.ObjectInfo, error) {
	cl, err := s.srv.Client()
	if err != nil {
		s.t.Fatal(err)
	}
	return cl.StatObject(context.Background(), s.bucket, "tether/"+id+".rec", minio.StatObjectOptions{})
}

// TestRecordingInObjectStore: a real session's recording is uploaded to
// the bucket in parts (multipart), nothing lands in the data directory,
// and tech decrypts it through the relay, which streams it from the
// bucket; retention then deletes it from the bucket.
func TestRecordingInObjectStore(t *testing.T) {
	t.Parallel()
	s := newS3Env(t)
	d := s.enroll("dev")
	s.runAgent(d, "exit 0")
	// ~10 MiB of base64 output, ~8 MiB compressed: two 5 MiB parts.
	if r := s.techRun("", "connect", d.name, "--", "sh", "-c", "head -c 8000000 /dev/urandom | base64; echo END-$((40+2))"); r.code != 0 || !strings.Contains(r.stdout, "END-42") {
		t.Fatalf("connect: code %d stderr %s", r.code, r.stderr)
	}
	id := s.onlyRecording("complete")
	info, err := s.object(id)
	if err != nil {
		t.Fatalf("recording not in the bucket: %v", err)
	}
	if info.Size < 6<<20 || !strings.Contains(info.ETag, "-") {
		t.Errorf("object %d bytes, ETag %q: want a multipart upload of the whole recording", info.Size, info.ETag)
	}
	if _, err := os.Stat(filepath.Join(s.dir, "data", "recordings", id+".rec")); !os.IsNotExist(err) {
		t.Errorf("the recording was written to the data directory too: %v", err)
	}
	if r := s.techRun("", "recordings", "verify", id, "--identity", s.reviewer); r.code != 0 || !strings.Contains(r.stdout, "verified") {
		t.Fatalf("verify: code %d %s %s", r.code, r.stdout, r.stderr)
	}
	out := filepath.Join(s.dir, "session.cast")
	if r := s.techRun("", "recordings", "export", id, "--identity", s.reviewer, "-o", out); r.code != 0 {
		t.Fatalf("export: %s", r.stderr)
	}
	if b, _ := os.ReadFile(out); !strings.Contains(string(b), "END-42") {
		t.Errorf("the exported recording lacks the session's output")
	}
	if r := s.techRun("", "recordings", "play", id, "--identity", s.reviewer, "--speed", "1000", "--raw"); r.code != 0 || !strings.Contains(r.stdout, "END-42") {
		t.Errorf("play: code %d stderr %s", r.code, r.stderr)
	}

	if r := s.techRun("", "policy", "set", "--retention-days", "30"); r.code != 0 {
		t.Fatalf("policy set: %s", r.stderr)
	}
	s.restartRelay(append(s.flags, "--retention-interval", "100ms", "--test-retention-skew", "792h")...)
	eventually(t, "retention to delete the object", 15*time.Second, func() bool {
		_, err := s.object(id)
		return minio.ToErrorResponse(err).StatusCode == 404 && len(s.recordings()) == 0
	})
}

// TestRecordingObjectStoreRelayCrash: the relay killed in the middle of
// an upload; at restart the parts uploaded before the crash become the
// object, the recording is marked incomplete, and what is stored
// decrypts and authenticates up to the cut: nothing corrupt.
func TestRecordingObjectStoreRelayCrash(t *testing.T) {
	t.Parallel()
	s := newS3Env(t)
	d := s.enroll("dev")
	s.runAgent(d, "exit 0")
	start(t, s.dir, nil, bin.tech, "--config", s.tech, "connect", d.name, "--", "sh", "-c",
		"while :; do head -c 300000 /dev/urandom | base64; done")
	core := minio.Core{Client: must(s.srv.Client())}
	eventually(t, "a part uploaded", 60*time.Second, func() bool {
		ups, err := core.ListMultipartUploads(context.Background(), s.bucket, "tether/", "", "", "", 10)
		if err != nil || len(ups.Uploads) != 1 {
			return false
		}
		parts, err := core.ListObjectParts(context.Background(), s.bucket, ups.Uploads[0].Key, ups.Uploads[0].UploadID, 0, 100)
		return err == nil && len(parts.ObjectParts) >= 1
	})
	s.relay.kill9()
	s.restartRelay(s.flags...)
	id := s.onlyRecording("incomplete")
	info, err := s.object(id)
	if err != nil || info.Size < 5<<20 {
		t.Fatalf("object after the crash: %+v, %v", info, err)
	}
	ups, err := core.ListMultipartUploads(context.Background(), s.bucket, "tether/", "", "", "", 10)
	if err != nil || len(ups.Uploads) != 0 {
		t.Errorf("unfinished uploads left after restart: %+v, %v", ups.Uploads, err)
	}
	r := s.techRun("", "recordings", "verify", id, "--identity", s.reviewer)
	if r.code == 0 || !strings.Contains(r.stderr, "is incomplete") || !strings.Contains(r.stderr, "decrypt and authenticate") {
		t.Fatalf("verify after the crash: code %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
}

// TestRecordingsStoreRefusals: a missing bucket, missing credentials and
// plain HTTP to a remote host are refused at start with a clear error.
func TestRecordingsStoreRefusals(t *testing.T) {
	t.Parallel()
	srv := seaweedtest.Shared(t)
	tests := []struct {
		name, url string
		env       []string
		want      string
	}{
		{"missing bucket", "s3://no-such-bucket/x?endpoint=" + srv.Endpoint + "&insecure=1", srv.Env(), `bucket "no-such-bucket" does not exist`},
		{"no credentials", "s3://b/x?endpoint=" + srv.Endpoint + "&insecure=1", nil, "no credentials"},
		{"remote plain HTTP", "s3://b/x?endpoint=192.0.2.1:80&insecure=1", srv.Env(), "loopback endpoint only"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin.relay, "serve", "--data", filepath.Join(dir, "data"), "--listen", "127.0.0.1:0",
				"--metrics-listen", "off", "--recordings-store", tc.url)
			cmd.Env = append(withoutAWS(os.Environ()), tc.env...)
			out, err := cmd.CombinedOutput()
			if err == nil || !strings.Contains(string(out), tc.want) {
				t.Fatalf("relay serve: %v\n%s\nwant %q", err, out, tc.want)
			}
			if strings.Count(strings.TrimSpace(string(out)), "\n") > 2 {
				t.Errorf("the refusal is not a short error:\n%s", out)
			}
		})
	}
}

func withoutAWS(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "AWS_") {
			out = append(out, kv)
		}
	}
	return out
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestRecordingRelayCrashLocal: with the default directory store, a relay
// killed mid-session leaves the file as written; at the next start the
// recording is marked incomplete with the stored size, and it verifies up
// to the cut.
func TestRecordingRelayCrashLocal(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.enroll("dev")
	e.runAgent(d, "exit 0")
	start(t, e.dir, nil, bin.tech, "--config", e.tech, "connect", d.name, "--", "sh", "-c",
		"while :; do head -c 30000 /dev/urandom | base64; sleep 0.05; done")
	var file string
	eventually(t, "recording bytes on disk", 30*time.Second, func() bool {
		m, _ := filepath.Glob(filepath.Join(e.dir, "data", "recordings", "*.rec"))
		if len(m) != 1 {
			return false
		}
		st, err := os.Stat(m[0])
		file = m[0]
		return err == nil && st.Size() > 100_000
	})
	e.relay.kill9()
	e.restartRelay()
	id := e.onlyRecording("incomplete")
	if filepath.Base(file) != id+".rec" {
		t.Fatalf("recording %s, file %s", id, file)
	}
	st, _ := os.Stat(file)
	if r := e.techRun("", "recordings", "list", "--json"); !strings.Contains(r.stdout, fmt.Sprintf(`"size":%d`, st.Size())) {
		t.Errorf("the index does not show the stored size %d: %s", st.Size(), r.stdout)
	}
	r := e.techRun("", "recordings", "verify", id, "--identity", e.reviewer)
	if r.code == 0 || !strings.Contains(r.stderr, "is incomplete") || !strings.Contains(r.stderr, "decrypt and authenticate") {
		t.Fatalf("verify after the crash: code %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
}
