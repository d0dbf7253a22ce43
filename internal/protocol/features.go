package protocol

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Feature names: optional capabilities of the end-to-end channel or of a
// peer that the two sides negotiate with InFeatures (PROTOCOL.md, section
// 5.5). A message or behaviour that belongs to a feature may only be used
// towards a peer whose negotiated Features has it.
const (
	// FeaturePathSwitch: the sender's channel understands InPathSwitch
	// (moving the channel to another frame path mid-session).
	FeaturePathSwitch = "path-switch"
	// FeatureTechCert: the technician proves a certified identity with
	// InTechAuth right after the feature exchange, and the agent checks it.
	FeatureTechCert = "tech-cert"
	// FeatureDirectPath: the sender can move the channel to a direct
	// peer-to-peer path (InDirect* signalling, InPathAck acknowledgements
	// and the fallback to the relay; PROTOCOL.md section 8.8).
	FeatureDirectPath = "direct-path"
)

// Limits of a feature list (InFeatures).
const (
	// MaxFeatures is the most names one list may hold.
	MaxFeatures = 64
	// MaxFeatureName is the longest feature name in bytes.
	MaxFeatureName = 64
)

// Features is an immutable set of valid feature names. The zero value is
// the empty set.
type Features struct {
	names []string // sorted, unique, each valid
}

// featureList is the JSON payload of InFeatures.
type featureList struct {
	Features []string `json:"features"`
}

// NewFeatures returns the set of names, refusing an invalid or repeated
// name or more than MaxFeatures of them (ErrBadInner).
func NewFeatures(names ...string) (Features, error) {
	if len(names) > MaxFeatures {
		return Features{}, fmt.Errorf("%w: %d feature names, at most %d", ErrBadInner, len(names), MaxFeatures)
	}
	set := make([]string, 0, len(names))
	for _, n := range names {
		if err := checkFeatureName(n); err != nil {
			return Features{}, err
		}
		set = append(set, n)
	}
	slices.Sort(set)
	for i := 1; i < len(set); i++ {
		if set[i] == set[i-1] {
			return Features{}, fmt.Errorf("%w: feature %q listed twice", ErrBadInner, set[i])
		}
	}
	return Features{names: set}, nil
}

// MustFeatures is NewFeatures for names known valid at compile time; it
// panics on an invalid list.
func MustFeatures(names ...string) Features {
	f, err := NewFeatures(names...)
	if err != nil {
		panic(err)
	}
	return f
}

// checkFeatureName requires 1 to MaxFeatureName bytes of a-z, 0-9, "." and
// "-".
func checkFeatureName(n string) error {
	if n == "" || len(n) > MaxFeatureName {
		return fmt.Errorf("%w: feature name of %d bytes, want 1 to %d", ErrBadInner, len(n), MaxFeatureName)
	}
	for i := range len(n) {
		c := n[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '.' && c != '-' {
			return fmt.Errorf("%w: feature name %q has byte 0x%02x outside [a-z0-9.-]", ErrBadInner, n, c)
		}
	}
	return nil
}

// Has reports whether name is in the set.
func (f Features) Has(name string) bool {
	_, found := slices.BinarySearch(f.names, name)
	return found
}

// Names returns the names in the set, sorted.
func (f Features) Names() []string { return slices.Clone(f.names) }

// Len returns the number of names in the set.
func (f Features) Len() int { return len(f.names) }

// Intersect returns the names in both f and g: the negotiated set of a
// session, where unknown names drop out.
func (f Features) Intersect(g Features) Features {
	var both []string
	for _, n := range f.names {
		if g.Has(n) {
			both = append(both, n)
		}
	}
	return Features{names: both}
}

// String lists the names, comma-separated, for logs and errors.
func (f Features) String() string { return strings.Join(f.names, ",") }

// AppendFeatures appends an InFeatures message announcing f:
// {"features":[…]} with the names sorted.
func AppendFeatures(dst []byte, f Features) ([]byte, error) {
	names := f.names
	if names == nil {
		names = []string{}
	}
	return AppendJSON(dst, InFeatures, featureList{Features: names})
}

// ParseFeatures decodes the payload of InFeatures. It refuses (ErrBadInner)
// a payload that is not one JSON object, a "features" value that is not an
// array of strings, more than MaxFeatures names, a name that is empty,
// longer than MaxFeatureName bytes or holds a byte outside [a-z0-9.-], and a
// name listed twice. The key is matched exactly ("features", lower case); a
// missing or null "features" is the empty list, and other keys are ignored.
// Unknown names are kept: the caller intersects the set with its own, which
// drops them.
func ParseFeatures(payload []byte) (Features, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(payload, &obj); err != nil || obj == nil {
		return Features{}, fmt.Errorf("%w: features: not a JSON object", ErrBadInner)
	}
	var names []string
	if raw, ok := obj["features"]; ok {
		if err := json.Unmarshal(raw, &names); err != nil {
			return Features{}, fmt.Errorf("%w: features: not an array of strings", ErrBadInner)
		}
	}
	return NewFeatures(names...)
}
