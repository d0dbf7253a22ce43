package integration

import (
	"crypto/tls"
	"net/http"
	"time"
)

// insecureClient skips certificate checks: used only for the liveness probe
// and for sending deliberately hostile requests; the real clients pin.
func insecureClient() *http.Client {
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, // test probe only
	}}
}
