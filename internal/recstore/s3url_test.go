package recstore

import (
	"strings"
	"testing"
)

func TestParseS3URL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    S3Config
		wantErr string
	}{
		{in: "s3://b/p/q?endpoint=s3.example.net:443&region=eu", want: S3Config{Endpoint: "s3.example.net:443", Bucket: "b", Prefix: "p/q/", Region: "eu", Profile: "default"}},
		{in: "s3://b?endpoint=127.0.0.1:9000&insecure=1", want: S3Config{Endpoint: "127.0.0.1:9000", Bucket: "b", Insecure: true, Profile: "default"}},
		{in: "s3://b/../x/?endpoint=[::1]:9000&insecure=1&credentials-file=/etc/c&profile=p", want: S3Config{Endpoint: "[::1]:9000", Bucket: "b", Prefix: "x/", Insecure: true, CredentialsFile: "/etc/c", Profile: "p"}},
		{in: "s3://b?endpoint=s3.example.net:80&insecure=1", wantErr: "loopback endpoint only"},
		{in: "s3://k:secret@b?endpoint=h:1", wantErr: "credentials do not belong"},
		{in: "s3://b", wantErr: "endpoint=HOST:PORT is required"},
		{in: "s3:///p?endpoint=h:1", wantErr: "no bucket"},
		{in: "http://b?endpoint=h:1", wantErr: "scheme"},
		{in: "s3://b?endpoint=h:1&secret=x", wantErr: "unknown URL parameter"},
		{in: "s3://b?endpoint=h:1&endpoint=i:2", wantErr: "given 2 times"},
	}
	for _, tc := range tests {
		got, err := ParseS3URL(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: error %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || *got != tc.want {
			t.Errorf("%s: %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

// FuzzParseS3URL: any input is refused or yields a config whose prefix
// cannot climb out of the bucket and whose plain HTTP is loopback only.
func FuzzParseS3URL(f *testing.F) {
	f.Add("s3://b/p?endpoint=127.0.0.1:9000&insecure=1")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseS3URL(s)
		if err != nil {
			return
		}
		if strings.Contains(c.Prefix, "..") && strings.Contains("/"+c.Prefix, "/../") || strings.HasPrefix(c.Prefix, "/") {
			t.Fatalf("prefix %q", c.Prefix)
		}
		if c.Bucket == "" || c.check() != nil {
			t.Fatalf("accepted %+v", c)
		}
	})
}
