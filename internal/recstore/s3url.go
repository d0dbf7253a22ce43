package recstore

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path"
	"strings"
)

// S3Config is where an S3 store keeps recordings and how it reaches them.
// Credentials are never part of it: they come from the environment
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) or a shared credentials file.
type S3Config struct {
	// Endpoint is HOST:PORT of the S3 API.
	Endpoint string
	Bucket   string
	// Prefix is prepended to every object name ("" or ending in "/").
	Prefix string
	Region string
	// Insecure speaks plain HTTP; allowed for a loopback endpoint only.
	Insecure bool
	// CredentialsFile is an AWS shared credentials file, read when the
	// environment holds no keys; Profile is its section ("default").
	CredentialsFile string
	Profile         string
	S3Options
}

// S3Options are knobs the URL does not carry.
type S3Options struct {
	// PartSize is the multipart upload's part size; 0 means
	// DefaultPartSize. S3 requires at least MinPartSize.
	PartSize int64
}

// DefaultPartSize is the multipart part size: the upload buffers at most
// two parts per recording.
const DefaultPartSize = 8 << 20

// MinPartSize is S3's smallest part but the last (5 MiB).
const MinPartSize = 5 << 20

// ParseS3URL reads s3://BUCKET/PREFIX?endpoint=HOST:PORT&region=R
// [&insecure=1][&credentials-file=PATH][&profile=P].
func ParseS3URL(s string) (*S3Config, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("recordings store: not a URL: %w", err)
	}
	if u.Scheme != "s3" {
		return nil, fmt.Errorf("recordings store: want s3://BUCKET/PREFIX?endpoint=HOST:PORT, not scheme %q", u.Scheme)
	}
	if u.User != nil {
		return nil, errors.New("recordings store: credentials do not belong in the URL; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or credentials-file=PATH")
	}
	c := &S3Config{Bucket: u.Host, Profile: "default"}
	if c.Bucket == "" {
		return nil, errors.New("recordings store: the URL names no bucket (s3://BUCKET/PREFIX)")
	}
	if p := strings.Trim(path.Clean("/"+u.Path), "/"); p != "" {
		c.Prefix = p + "/"
	}
	q := u.Query()
	for k, v := range q {
		if len(v) != 1 {
			return nil, fmt.Errorf("recordings store: %q given %d times", k, len(v))
		}
		switch k {
		case "endpoint":
			c.Endpoint = v[0]
		case "region":
			c.Region = v[0]
		case "insecure":
			c.Insecure = v[0] == "1" || v[0] == "true"
		case "credentials-file":
			c.CredentialsFile = v[0]
		case "profile":
			c.Profile = v[0]
		default:
			return nil, fmt.Errorf("recordings store: unknown URL parameter %q (endpoint, region, insecure, credentials-file, profile)", k)
		}
	}
	return c, c.check()
}

// check refuses an endpoint that is missing or, for plain HTTP, not
// loopback.
func (c *S3Config) check() error {
	host, _, err := net.SplitHostPort(c.Endpoint)
	if err != nil {
		return fmt.Errorf("recordings store: endpoint=HOST:PORT is required (%q)", c.Endpoint)
	}
	if c.Insecure && !isLoopback(host) {
		return fmt.Errorf("recordings store: insecure=1 (plain HTTP) is allowed for a loopback endpoint only, not %q", host)
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
