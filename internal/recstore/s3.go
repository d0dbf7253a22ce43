package recstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/tether-support/tether/internal/ids"
)

// opTimeout bounds one request to the object store.
const opTimeout = 5 * time.Minute

// S3 keeps recordings as objects PREFIX<session>.rec in a bucket of an
// S3-compatible store. A recording is uploaded as it arrives: in parts
// (multipart upload) once it outgrows one part, in one request otherwise;
// it becomes visible when the session ends.
type S3 struct {
	cfg  S3Config
	core minio.Core
}

// NewS3 connects to the store and checks that the bucket exists.
func NewS3(ctx context.Context, cfg *S3Config) (*S3, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	creds, err := s3Credentials(cfg)
	if err != nil {
		return nil, err
	}
	cl, err := minio.New(cfg.Endpoint, &minio.Options{Creds: creds, Secure: !cfg.Insecure, Region: cfg.Region})
	if err != nil {
		return nil, fmt.Errorf("recordings store: %w", err)
	}
	s := &S3{cfg: *cfg, core: minio.Core{Client: cl}}
	if s.cfg.PartSize <= 0 {
		s.cfg.PartSize = DefaultPartSize
	}
	if s.cfg.PartSize < MinPartSize {
		return nil, fmt.Errorf("recordings store: part size %d is below S3's minimum %d", s.cfg.PartSize, MinPartSize)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ok, err := cl.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("recordings store: cannot reach bucket %q at %s: %w", cfg.Bucket, cfg.Endpoint, err)
	}
	if !ok {
		return nil, fmt.Errorf("recordings store: bucket %q does not exist at %s; create it (with versioning, see docs/operations.md) first", cfg.Bucket, cfg.Endpoint)
	}
	return s, nil
}

// s3Credentials takes the keys from the environment, else from the shared
// credentials file.
func s3Credentials(cfg *S3Config) (*credentials.Credentials, error) {
	if os.Getenv("AWS_ACCESS_KEY_ID") != "" {
		return credentials.NewEnvAWS(), nil
	}
	file := cfg.CredentialsFile
	if file == "" {
		file = os.Getenv("AWS_SHARED_CREDENTIALS_FILE")
	}
	if file == "" {
		return nil, errors.New("recordings store: no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or credentials-file=PATH in the URL")
	}
	if _, err := os.Stat(file); err != nil {
		return nil, fmt.Errorf("recordings store: credentials file: %w", err)
	}
	return credentials.NewFileAWSCredentials(file, cfg.Profile), nil
}

// String names the bucket and prefix.
func (s *S3) String() string {
	return fmt.Sprintf("s3://%s/%s at %s", s.cfg.Bucket, s.cfg.Prefix, s.cfg.Endpoint)
}

func (s *S3) key(id ids.SessionID) string { return s.cfg.Prefix + string(id) + fileSuffix }

// Create starts an upload. It refuses an ID the bucket already holds; the
// check and the upload are not atomic, which the relay's unique session
// IDs make moot.
func (s *S3) Create(ctx context.Context, id ids.SessionID) (Writer, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	_, err := s.core.StatObject(ctx, s.cfg.Bucket, s.key(id), minio.StatObjectOptions{})
	if err == nil {
		return nil, fmt.Errorf("create recording: %w", ErrExists)
	}
	if !isNotFound(err) {
		return nil, fmt.Errorf("create recording: %w", err)
	}
	return newS3Writer(s, s.key(id)), nil
}

// Open stats the object, then reads it with ranged GETs as it is read:
// nothing is buffered whole.
func (s *S3) Open(ctx context.Context, id ids.SessionID) (Object, error) {
	if err := checkID(id); err != nil {
		return nil, ErrNotFound
	}
	obj, err := s.core.Client.GetObject(ctx, s.cfg.Bucket, s.key(id), minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("open recording: %w", err)
	}
	st, err := obj.Stat()
	if err != nil {
		obj.Close()
		if isNotFound(err) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("open recording: %w", err)
	}
	return &s3Object{Object: obj, info: Info{ID: id, Size: st.Size, ModTime: st.LastModified}}, nil
}

type s3Object struct {
	*minio.Object
	info Info
}

func (o *s3Object) Info() Info { return o.info }

// Delete removes the object (S3 answers success for a missing one).
func (s *S3) Delete(ctx context.Context, id ids.SessionID) error {
	if err := checkID(id); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	if err := s.core.RemoveObject(ctx, s.cfg.Bucket, s.key(id), minio.RemoveObjectOptions{}); err != nil && !isNotFound(err) {
		return fmt.Errorf("delete recording: %w", err)
	}
	return nil
}

// List lists the objects under the prefix.
func (s *S3) List(ctx context.Context) ([]Info, error) {
	var out []Info
	for o := range s.core.Client.ListObjects(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: s.cfg.Prefix}) {
		if o.Err != nil {
			return nil, fmt.Errorf("list recordings: %w", o.Err)
		}
		if id, ok := idFromName(o.Key[len(s.cfg.Prefix):]); ok {
			out = append(out, Info{ID: id, Size: o.Size, ModTime: o.LastModified})
		}
	}
	return out, nil
}

// isNotFound reports whether err is S3's answer for a missing object.
func isNotFound(err error) bool {
	r := minio.ToErrorResponse(err)
	return r.Code == "NoSuchKey" || r.Code == "NotFound" || r.StatusCode == 404
}

// putSmall stores a recording that never filled a part in one request.
func (s *S3) putSmall(ctx context.Context, key string, b []byte) error {
	_, err := s.core.PutObject(ctx, s.cfg.Bucket, key, bytes.NewReader(b), int64(len(b)), "", "",
		minio.PutObjectOptions{ContentType: "application/octet-stream"})
	return err
}
