package api

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// bodyTypes returns every request and response type of Routes (the
// element type for a list), each once.
func bodyTypes() []reflect.Type {
	var out []reflect.Type
	seen := map[reflect.Type]bool{}
	for _, r := range Routes() {
		for _, t := range []reflect.Type{r.Request, r.Response} {
			if t == nil {
				continue
			}
			if t.Kind() == reflect.Slice {
				t = t.Elem()
			}
			if !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	return append(out, reflect.TypeFor[Error]())
}

// fill sets every field of v to a value that is not its zero value, so a
// field the encoding drops or renames shows in a round trip.
func fill(v reflect.Value, n int) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("s" + string(rune('a'+n%26)))
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(n + 1))
	case reflect.Uint8, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(n + 1))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), n)
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		for i := range 2 {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			fill(k, n+i)
			fill(e, n+i)
			v.SetMapIndex(k, e)
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fill(v.Index(i), n+i)
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2026, 12, 1, 10, 0, n, 0, time.UTC)))
			return
		}
		for i := range v.NumField() {
			fill(v.Field(i), n+i)
		}
	default:
		panic("fill: no rule for " + v.Type().String())
	}
}

// TestRoundTrip encodes each body type, filled and empty, and decodes it
// back: the result must equal what was encoded.
func TestRoundTrip(t *testing.T) {
	types := bodyTypes()
	if len(types) < 30 {
		t.Fatalf("only %d body types in Routes", len(types))
	}
	for _, typ := range types {
		for _, full := range []bool{true, false} {
			name := typ.Name()
			if !full {
				name += "/zero"
			}
			t.Run(name, func(t *testing.T) {
				in := reflect.New(typ)
				if full {
					fill(in.Elem(), 0)
				}
				b, err := json.Marshal(in.Interface())
				if err != nil {
					t.Fatal(err)
				}
				out := reflect.New(typ)
				if err := json.Unmarshal(b, out.Interface()); err != nil {
					t.Fatalf("%s: %v", b, err)
				}
				if !reflect.DeepEqual(in.Interface(), out.Interface()) {
					t.Errorf("round trip changed the value:\n in  %+v\n via %s\n out %+v", in.Elem(), b, out.Elem())
				}
			})
		}
	}
}

// TestRoutesUnique checks that no route is listed twice and every list
// answer is a slice of a struct.
func TestRoutesUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Routes() {
		if seen[r.Pattern()] {
			t.Errorf("route %q listed twice", r.Pattern())
		}
		seen[r.Pattern()] = true
		if got, ok := Find(r.Pattern()); !ok || got.Pattern() != r.Pattern() {
			t.Errorf("Find(%q) = %v, %v", r.Pattern(), got, ok)
		}
		if (r.WebSocket || r.Download) && (r.Method != "GET" || r.Request != nil || r.Response != nil) {
			t.Errorf("WebSocket or download route %q must be a GET with no JSON bodies", r.Pattern())
		}
		if r.Response != nil && r.Response.Kind() == reflect.Slice && r.Response.Elem().Kind() != reflect.Struct {
			t.Errorf("route %q answers a list of %s, not of a struct", r.Pattern(), r.Response.Elem())
		}
	}
	if _, ok := Find("GET /nope"); ok {
		t.Error("Find found a route that does not exist")
	}
}
