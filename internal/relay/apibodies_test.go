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

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/rbac"
	"github.com/tether-support/tether/internal/store"
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
	for _, rt := range api.Routes() {
		if rt.Request == nil || strings.HasPrefix(rt.Path, "/v1/cluster/") {
			// The relay-to-relay routes refuse everyone but a relay of the
			// cluster before reading a body (integration:
			// TestClusterPeerRefusesStrangers checks their bodies).
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

// TestViewsCarryEveryStoredField fills each stored record the API shows
// with non-zero values and checks that its view carries every JSON field
// of the record with the same value, so a field added to the store is not
// silently left out of the answer.
func TestViewsCarryEveryStoredField(t *testing.T) {
	s := newTestServer(t)
	var sess store.Session
	var rec store.Recording
	fillValue(reflect.ValueOf(&sess).Elem(), 0)
	fillValue(reflect.ValueOf(&rec).Elem(), 0)
	for _, tc := range []struct {
		name         string
		stored, view any
	}{
		{"session", sess, s.sessionView(sess, true)},
		{"recording", rec, recordingView(rec)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, got := jsonObject(t, tc.stored), jsonObject(t, tc.view)
			for k, v := range want {
				if !reflect.DeepEqual(got[k], v) {
					t.Errorf("field %q: stored %v, view %v", k, v, got[k])
				}
			}
		})
	}
}

// jsonObject encodes v and decodes it as a JSON object.
func jsonObject(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// fillValue sets every field of v to a value that is not its zero value.
func fillValue(v reflect.Value, n int) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("s" + string(rune('a'+n%26)))
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(n + 1))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fillValue(v.Elem(), n)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fillValue(v.Index(i), n+i)
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2026, 12, 1, 10, 0, n, 0, time.UTC)))
			return
		}
		for i := range v.NumField() {
			fillValue(v.Field(i), n+i)
		}
	default:
		panic("fillValue: no rule for " + v.Type().String())
	}
}
