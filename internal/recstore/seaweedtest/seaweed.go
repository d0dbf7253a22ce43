// Package seaweedtest runs a real SeaweedFS S3 server on loopback for
// tests: one per test process, throwaway data directory, fresh keys, a
// bucket per caller. The weed binary comes from PATH or $(go env
// GOPATH)/bin (.ci/run installs it); without it tests skip, or fail when
// TETHER_CI=1.
package seaweedtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Server is a running SeaweedFS with its S3 API on Endpoint.
type Server struct {
	// Endpoint is 127.0.0.1:PORT of the S3 API (plain HTTP).
	Endpoint  string
	AccessKey string
	SecretKey string
	cmd       *exec.Cmd
	dir       string
	log       *lockedBuffer
}

// lockedBuffer collects the server's output while it runs.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var (
	once   sync.Once
	shared *Server
	errRun error
)

// startTimeout bounds how long the server may take to answer.
const startTimeout = 2 * time.Minute

// Shared returns the process's server, starting it on first use; it skips
// (or fails under TETHER_CI=1) when weed is not installed.
func Shared(t testing.TB) *Server {
	t.Helper()
	bin := weedPath()
	if bin == "" {
		if os.Getenv("TETHER_CI") == "1" {
			t.Fatal("weed (SeaweedFS) is not installed; .ci/run installs it")
		}
		t.Skip("weed (SeaweedFS) is not installed: go install github.com/seaweedfs/seaweedfs/weed (see .ci/run for the pinned version)")
	}
	once.Do(func() { shared, errRun = start(bin) })
	if errRun != nil {
		t.Fatalf("start SeaweedFS: %v", errRun)
	}
	return shared
}

// Stop stops the shared server, if one was started; TestMain calls it.
func Stop() {
	if shared != nil {
		shared.stop()
	}
}

// weedPath finds weed on PATH or in $(go env GOPATH)/bin.
func weedPath() string {
	if p, err := exec.LookPath("weed"); err == nil {
		return p
	}
	out, err := exec.Command("go", "env", "GOPATH").Output()
	if err != nil {
		return ""
	}
	for _, dir := range filepath.SplitList(strings.TrimSpace(string(out))) {
		p := filepath.Join(dir, "bin", "weed")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

func start(bin string) (*Server, error) {
	dir, err := os.MkdirTemp("", "tether-seaweed-")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir, AccessKey: randHex(10), SecretKey: randHex(20), log: &lockedBuffer{}}
	cfg := map[string]any{"identities": []any{map[string]any{"name": "tether",
		"credentials": []any{map[string]string{"accessKey": s.AccessKey, "secretKey": s.SecretKey}},
		"actions":     []string{"Admin", "Read", "Write", "List", "Tagging"}}}}
	b, _ := json.Marshal(cfg)
	cfgPath := filepath.Join(dir, "s3.json")
	if err := os.WriteFile(cfgPath, b, 0o600); err != nil {
		return nil, err
	}
	ports, err := freePorts(8)
	if err != nil {
		return nil, err
	}
	p := func(i int) string { return strconv.Itoa(ports[i]) }
	s.Endpoint = "127.0.0.1:" + p(0)
	data := filepath.Join(dir, "data")
	os.Mkdir(data, 0o700)
	s.cmd = exec.Command(bin, "server", "-dir="+data, "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
		"-master.port="+p(1), "-master.port.grpc="+p(2), "-volume.port="+p(3), "-volume.port.grpc="+p(4),
		"-filer", "-filer.port="+p(5), "-filer.port.grpc="+p(6), "-s3", "-s3.port="+p(0), "-s3.port.grpc="+p(7),
		"-s3.config="+cfgPath, "-volume.max=0", "-master.volumeSizeLimitMB=64")
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	if err := s.waitReady(); err != nil {
		s.stop()
		return nil, fmt.Errorf("%w\n%s", err, tail(s.log.String()))
	}
	return s, nil
}

// waitReady waits until the S3 API answers a signed request.
func (s *Server) waitReady() error {
	cl, err := s.Client()
	if err != nil {
		return err
	}
	deadline := time.Now().Add(startTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := cl.ListBuckets(ctx)
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("SeaweedFS S3 not ready: %w", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Client returns an S3 client with the server's keys.
func (s *Server) Client() (*minio.Client, error) {
	return minio.New(s.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(s.AccessKey, s.SecretKey, "")})
}

// Bucket creates a fresh bucket and returns its name.
func (s *Server) Bucket(t testing.TB) string {
	t.Helper()
	cl, err := s.Client()
	if err != nil {
		t.Fatal(err)
	}
	name := "t-" + randHex(8)
	var lastErr error
	for range 50 { // a new filer may need a moment before buckets
		if lastErr = cl.MakeBucket(context.Background(), name, minio.MakeBucketOptions{}); lastErr == nil {
			return name
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("make bucket: %v", lastErr)
	return ""
}

// Env is the environment a relay needs to reach the server.
func (s *Server) Env() []string {
	return []string{"AWS_ACCESS_KEY_ID=" + s.AccessKey, "AWS_SECRET_ACCESS_KEY=" + s.SecretKey}
}

func (s *Server) stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	}
	os.RemoveAll(s.dir)
}

// freePorts returns n loopback ports free right now.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var out []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		out = append(out, l.Addr().(*net.TCPAddr).Port)
	}
	return out, nil
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func tail(s string) string {
	if len(s) > 4000 {
		return s[len(s)-4000:]
	}
	return s
}
