package trust

import "fmt"

// PolicyBody is everything an agent acts on for a session that the relay
// used to decide alone. Version and expiry are the document's.
type PolicyBody struct {
	// Recipients are the recording reviewers' public keys ("tether-rec1…").
	Recipients []string
	// RecordInput records typed input as well as output.
	RecordInput bool
	// Ceilings are, per role, the most capabilities it may ask for.
	Ceilings []RoleCeiling
	// UnattendedGroups are the device groups that may run unattended.
	UnattendedGroups []string
	// IdleSeconds ends a session after that long without human input.
	IdleSeconds uint32
	// AbsoluteSeconds ends a session after that long whatever happens.
	AbsoluteSeconds uint32
	// DirectPath allows a direct path between technician and agent.
	DirectPath bool
}

// RoleCeiling is the capabilities one role may ask for.
type RoleCeiling struct {
	// Role is the role's name.
	Role string
	// Capabilities are the capability names, sorted and unique.
	Capabilities []string
}

// Kind is KindPolicy.
func (*PolicyBody) Kind() Kind { return KindPolicy }

func (p *PolicyBody) encode(w *writer) error {
	if err := writeLongStrings(w, "recording recipients", p.Recipients); err != nil {
		return err
	}
	w.boolean(p.RecordInput)
	if err := writeCeilings(w, p.Ceilings); err != nil {
		return err
	}
	if err := writeStrings(w, "unattended groups", p.UnattendedGroups); err != nil {
		return err
	}
	if p.IdleSeconds == 0 || p.AbsoluteSeconds == 0 {
		return fmt.Errorf("idle and absolute limits must be positive")
	}
	w.u32(p.IdleSeconds)
	w.u32(p.AbsoluteSeconds)
	w.boolean(p.DirectPath)
	return nil
}

func writeCeilings(w *writer, cs []RoleCeiling) error {
	roles := make([]string, len(cs))
	for i, c := range cs {
		roles[i] = c.Role
	}
	if err := checkStrings("role ceilings", roles); err != nil {
		return err
	}
	w.u16(uint16(len(cs)))
	for _, c := range cs {
		w.str(c.Role)
		if err := writeStrings(w, "capabilities of role "+c.Role, c.Capabilities); err != nil {
			return err
		}
	}
	return nil
}

func readPolicy(r *reader) *PolicyBody {
	p := &PolicyBody{Recipients: r.lstrs("recording recipients"), RecordInput: r.boolean("record input")}
	p.Ceilings = readCeilings(r)
	p.UnattendedGroups = r.strs("unattended groups")
	p.IdleSeconds, p.AbsoluteSeconds = r.u32(), r.u32()
	p.DirectPath = r.boolean("direct path")
	if r.err == nil && (p.IdleSeconds == 0 || p.AbsoluteSeconds == 0) {
		r.fail(fmt.Errorf("idle and absolute limits must be positive"))
	}
	return p
}

func readCeilings(r *reader) []RoleCeiling {
	n := int(r.u16())
	if n > MaxList {
		r.fail(fmt.Errorf("role ceilings: %d entries exceed the limit of %d", n, MaxList))
	}
	var out []RoleCeiling
	for i := 0; i < n && r.err == nil; i++ {
		c := RoleCeiling{Role: r.str("role")}
		c.Capabilities = r.strs("capabilities of role " + c.Role)
		if i > 0 && r.err == nil && out[i-1].Role >= c.Role {
			r.fail(fmt.Errorf("role ceilings: %q is repeated or out of order (lists are sorted and unique)", c.Role))
		}
		out = append(out, c)
	}
	return out
}

// Ceiling is the capabilities role may ask for, and whether the policy
// names the role at all.
func (p *PolicyBody) Ceiling(role string) ([]string, bool) {
	for _, c := range p.Ceilings {
		if c.Role == role {
			return c.Capabilities, true
		}
	}
	return nil, false
}
