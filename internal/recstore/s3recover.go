package recstore

import (
	"context"
	"fmt"

	"github.com/minio/minio-go/v7"

	"github.com/tether-support/tether/internal/ids"
)

// Recover finishes the multipart uploads under the prefix that a crash
// left open. For a recording open reports true, the parts uploaded before
// the crash are completed into the object: a prefix of the recording,
// which reviewers read as incomplete (what was still buffered, less than
// one part, is lost). Every other unfinished upload is aborted.
func (s *S3) Recover(ctx context.Context, open func(ids.SessionID) bool) (kept, discarded int, err error) {
	ups, err := s.unfinished(ctx)
	if err != nil {
		return 0, 0, err
	}
	for _, u := range ups {
		id, ok := idFromName(u.Key[len(s.cfg.Prefix):])
		parts, perr := s.uploadedParts(ctx, u)
		if ok && open(id) && perr == nil && len(parts) > 0 {
			if _, err := s.core.CompleteMultipartUpload(ctx, s.cfg.Bucket, u.Key, u.UploadID, parts, minio.PutObjectOptions{}); err == nil {
				kept++
				continue
			}
		}
		if err := s.core.AbortMultipartUpload(ctx, s.cfg.Bucket, u.Key, u.UploadID); err != nil {
			return kept, discarded, fmt.Errorf("abort unfinished recording upload %s: %w", u.Key, err)
		}
		discarded++
	}
	return kept, discarded, nil
}

// unfinished lists the multipart uploads under the prefix.
func (s *S3) unfinished(ctx context.Context) ([]minio.ObjectMultipartInfo, error) {
	var out []minio.ObjectMultipartInfo
	key, upload := "", ""
	for {
		r, err := s.core.ListMultipartUploads(ctx, s.cfg.Bucket, s.cfg.Prefix, key, upload, "", 1000)
		if err != nil {
			return nil, fmt.Errorf("list unfinished recording uploads: %w", err)
		}
		for _, u := range r.Uploads {
			if len(u.Key) >= len(s.cfg.Prefix) && u.Key[:len(s.cfg.Prefix)] == s.cfg.Prefix {
				out = append(out, u)
			}
		}
		if !r.IsTruncated {
			return out, nil
		}
		key, upload = r.NextKeyMarker, r.NextUploadIDMarker
	}
}

// uploadedParts lists the parts of u, in order.
func (s *S3) uploadedParts(ctx context.Context, u minio.ObjectMultipartInfo) ([]minio.CompletePart, error) {
	var out []minio.CompletePart
	marker := 0
	for {
		r, err := s.core.ListObjectParts(ctx, s.cfg.Bucket, u.Key, u.UploadID, marker, 1000)
		if err != nil {
			return nil, err
		}
		for _, p := range r.ObjectParts {
			out = append(out, minio.CompletePart{PartNumber: p.PartNumber, ETag: p.ETag})
		}
		if !r.IsTruncated {
			return out, nil
		}
		marker = r.NextPartNumberMarker
	}
}
