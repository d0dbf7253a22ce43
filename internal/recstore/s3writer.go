package recstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/minio/minio-go/v7"
)

// s3Writer streams one recording into the bucket. Bytes collect in a
// part-sized buffer; a full buffer goes to the uploader goroutine, which
// starts the multipart upload on the first part. Write blocks while the
// previous part is still uploading, so at most two parts are held. Close
// uploads the rest and completes the upload (or, for a recording smaller
// than one part, puts it in one request). A failed part aborts the upload:
// the recording then has no data, and Write and Close report why.
type s3Writer struct {
	s      *S3
	key    string
	buf    []byte
	parts  chan []byte // to the uploader; unbuffered
	free   chan []byte // buffers back from the uploader
	done   chan struct{}
	mu     sync.Mutex
	err    error // the uploader's first failure
	upload string
	sent   []minio.CompletePart
	closed bool
}

func newS3Writer(s *S3, key string) *s3Writer {
	return &s3Writer{s: s, key: key, buf: make([]byte, 0, s.cfg.PartSize), free: make(chan []byte, 1)}
}

func (w *s3Writer) failure() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Write buffers p, handing each full part to the uploader.
func (w *s3Writer) Write(p []byte) (int, error) {
	if w.closed {
		return 0, errors.New("write recording: writer closed")
	}
	n := 0
	for len(p) > 0 {
		if err := w.failure(); err != nil {
			return n, err
		}
		k := min(len(p), cap(w.buf)-len(w.buf))
		w.buf = append(w.buf, p[:k]...)
		p, n = p[k:], n+k
		if len(w.buf) == cap(w.buf) {
			w.sendPart()
		}
	}
	return n, nil
}

// sendPart hands the full buffer to the uploader, started on first use.
func (w *s3Writer) sendPart() {
	if w.parts == nil {
		w.parts, w.done = make(chan []byte), make(chan struct{})
		go w.uploader()
	}
	w.parts <- w.buf
	select {
	case b := <-w.free:
		w.buf = b[:0]
	default:
		w.buf = make([]byte, 0, w.s.cfg.PartSize)
	}
}

// uploader uploads parts in order; after a failure it only drains.
func (w *s3Writer) uploader() {
	defer close(w.done)
	for b := range w.parts {
		if w.failure() == nil {
			if err := w.uploadPart(b); err != nil {
				w.mu.Lock()
				w.err = err
				w.mu.Unlock()
			}
		}
		select {
		case w.free <- b:
		default:
		}
	}
}

func (w *s3Writer) uploadPart(b []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	s := w.s
	if w.upload == "" {
		id, err := s.core.NewMultipartUpload(ctx, s.cfg.Bucket, w.key, minio.PutObjectOptions{ContentType: "application/octet-stream"})
		if err != nil {
			return fmt.Errorf("start recording upload: %w", err)
		}
		w.upload = id
	}
	n := len(w.sent) + 1
	p, err := s.core.PutObjectPart(ctx, s.cfg.Bucket, w.key, w.upload, n, bytes.NewReader(b), int64(len(b)), minio.PutObjectPartOptions{})
	if err != nil {
		return fmt.Errorf("upload recording part %d: %w", n, err)
	}
	w.sent = append(w.sent, minio.CompletePart{PartNumber: n, ETag: p.ETag})
	return nil
}

// Close stores the recording: the rest as the last part and the upload
// completed, or everything in one request. On failure the upload is
// aborted.
func (w *s3Writer) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	if w.parts == nil {
		if err := w.s.putSmall(ctx, w.key, w.buf); err != nil {
			return fmt.Errorf("store recording: %w", err)
		}
		return nil
	}
	if len(w.buf) > 0 {
		w.parts <- w.buf
	}
	close(w.parts)
	<-w.done
	if err := w.err; err != nil {
		w.abort(ctx)
		return err
	}
	if _, err := w.s.core.CompleteMultipartUpload(ctx, w.s.cfg.Bucket, w.key, w.upload, w.sent, minio.PutObjectOptions{}); err != nil {
		w.abort(ctx)
		return fmt.Errorf("complete recording upload: %w", err)
	}
	return nil
}

// abort discards the upload's parts (best effort: Recover, or a bucket
// lifecycle rule, removes what a failed abort leaves).
func (w *s3Writer) abort(ctx context.Context) {
	if w.upload != "" {
		w.s.core.AbortMultipartUpload(ctx, w.s.cfg.Bucket, w.key, w.upload)
	}
}
