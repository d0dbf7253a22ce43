package trust

import "fmt"

// Body is one kind's document body.
type Body interface {
	// Kind is the document kind the body belongs to.
	Kind() Kind
	// encode appends the canonical body, failing on invalid content.
	encode(w *writer) error
}

// encodeBody is body's canonical encoding.
func encodeBody(body Body) ([]byte, error) {
	w := &writer{}
	if err := body.encode(w); err != nil {
		return nil, err
	}
	return w.b, nil
}

// parseBody decodes a body of kind k strictly.
func parseBody(k Kind, b []byte) (Body, error) {
	r := &reader{b: b}
	var body Body
	switch k {
	case KindRoot:
		body = readRootBody(r)
	case KindRootChange:
		body = readRootChange(r)
	case KindPolicy:
		body = readPolicy(r)
	case KindRevocation:
		body = readRevocation(r)
	case KindTechCert:
		body = readTechCert(r)
	default:
		return nil, fmt.Errorf("unknown document kind %d", uint8(k))
	}
	if err := r.end(); err != nil {
		return nil, err
	}
	return body, nil
}

// BodyOf decodes d's body as T, failing when d is another kind.
func BodyOf[T Body](d *Document) (T, error) {
	var zero T
	body, err := parseBody(d.Kind, d.Body)
	if err != nil {
		return zero, fmt.Errorf("%s body: %w", d.Kind, err)
	}
	t, ok := body.(T)
	if !ok {
		return zero, fmt.Errorf("wrong document kind: got %s, want %s", d.Kind, zero.Kind())
	}
	return t, nil
}

// readKeyIDs reads a sorted, unique list of key IDs.
func readKeyIDs(r *reader, field string) []KeyID {
	n := int(r.u16())
	if n > MaxList {
		r.fail(fmt.Errorf("%s: %d entries exceed the limit of %d", field, n, MaxList))
	}
	var out []KeyID
	for i := 0; i < n && r.err == nil; i++ {
		var id KeyID
		copy(id[:], r.take(KeyIDSize))
		if i > 0 && string(out[i-1][:]) >= string(id[:]) {
			r.fail(fmt.Errorf("%s: %s is repeated or out of order (lists are sorted and unique)", field, id))
		}
		out = append(out, id)
	}
	return out
}

// writeKeyIDs writes ids, which must be sorted and unique.
func writeKeyIDs(w *writer, field string, ids []KeyID) error {
	if len(ids) > MaxList {
		return fmt.Errorf("%s: %d entries exceed the limit of %d", field, len(ids), MaxList)
	}
	for i := 1; i < len(ids); i++ {
		if string(ids[i-1][:]) >= string(ids[i][:]) {
			return fmt.Errorf("%s: %s is repeated or out of order (lists are sorted and unique)", field, ids[i])
		}
	}
	w.u16(uint16(len(ids)))
	for _, id := range ids {
		w.raw(id[:])
	}
	return nil
}

// writeStrings validates and writes a sorted, unique string list.
func writeStrings(w *writer, field string, list []string) error {
	if err := checkStrings(field, list); err != nil {
		return err
	}
	w.strs(list)
	return nil
}

// writeString validates and writes one string.
func writeString(w *writer, field, s string) error {
	if err := checkString(field, s); err != nil {
		return err
	}
	w.str(s)
	return nil
}
