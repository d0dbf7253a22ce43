package relay

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"tether/internal/api"
	"tether/internal/protocol"
	"tether/internal/rbac"
)

// TestRequestBodiesRefuseUnknownFields sends, to every route of api.Routes
// that reads a JSON body, a body with a field its request type does not
// have: the relay must refuse it as malformed before acting on it.
func TestRequestBodiesRefuseUnknownFields(t *testing.T) {
	s := newTestServer(t)
	callers := []string{rbac.Admin, rbac.Superadmin}
	tokens := map[string]string{}
	for _, role := range callers {
		resp, err := s.issueToken(addUser(t, s, "as-"+role, role))
		if err != nil {
			t.Fatal(err)
		}
		tokens[role] = resp.Token
	}
	addUser(t, s, "carol", rbac.Technician)
	params := strings.NewReplacer("{name}", "carol", "{group}", "default", "{id}", "x", "{role}", "x", "{org}", "x")
	n := 0
	for _, rt := range api.Routes {
		if rt.Request == nil {
			continue
		}
		n++
		t.Run(rt.Pattern(), func(t *testing.T) {
			// The first caller whose permissions reach the handler.
			var code int
			var body string
			for _, role := range callers {
				code, body = send(s, tokens[role], rt.Method, params.Replace(rt.Path), `{"not_a_field":1}`)
				if !strings.Contains(body, "permission denied") {
					break
				}
			}
			if code != http.StatusBadRequest || !strings.Contains(body, `malformed request body: json: unknown field \"not_a_field\"`) {
				t.Errorf("got %d %s, want 400 naming the unknown field", code, strings.TrimSpace(body))
			}
			// The type's own empty encoding is well-formed (whatever the
			// handler then thinks of its values).
			zero, err := json.Marshal(reflect.New(rt.Request).Interface())
			if err != nil {
				t.Fatal(err)
			}
			for _, role := range callers {
				code, body = send(s, tokens[role], rt.Method, params.Replace(rt.Path), string(zero))
				if !strings.Contains(body, "permission denied") {
					break
				}
			}
			if strings.Contains(body, "malformed request body") {
				t.Errorf("%s: got %d %s, want it parsed", zero, code, strings.TrimSpace(body))
			}
		})
	}
	if n < 15 {
		t.Fatalf("only %d routes with a request body in api.Routes", n)
	}
}

// send makes one request with token (none if empty) and returns the status
// and body.
func send(s *Server, token, method, path, body string) (int, string) {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if token != "" {
		req.Header.Set(protocol.HeaderAuthorization, protocol.BearerPrefix+token)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req.WithContext(ctx))
	return rec.Code, rec.Body.String()
}
