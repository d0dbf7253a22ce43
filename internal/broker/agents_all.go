package broker

// All returns the agents connected now.
func (r *Agents) All() []*Agent {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*Agent, 0, len(r.m))
	for _, a := range r.m {
		out = append(out, a)
	}
	return out
}
