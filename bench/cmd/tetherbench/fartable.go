package main

import (
	"fmt"
	"math"
	"strings"
)

// farRow is one line of the far-relay table: the relay path, the direct
// path and OpenSSH through a jump host behind the same delay.
type farRow struct {
	metric, unit        string
	decimals            int
	relay, direct, jump float64
	directText          string
	target              string
	check               func(r *farRow) (ok, known bool)
}

// farTable is the far-relay part's own table.
type farTable struct {
	rows  []*farRow
	notes []string
}

func (t *farTable) add(metric, unit string, decimals int) *farRow {
	r := &farRow{metric: metric, unit: unit, decimals: decimals, relay: nan, direct: nan, jump: nan}
	t.rows = append(t.rows, r)
	return r
}

func (t *farTable) note(format string, a ...any) {
	t.notes = append(t.notes, fmt.Sprintf(format, a...))
}

func (r *farRow) cell(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.*f", r.decimals, v)
}

func ratio(a, b float64) string {
	if math.IsNaN(a) || math.IsNaN(b) || b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

// markdown renders the table, or nothing if it has no rows.
func (t *farTable) markdown() string {
	if len(t.rows) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("\nFar relay: the relay behind a userspace delay proxy that both the technician and the agent cross; OpenSSH through a jump host with both its legs (client to jump, jump to target) crossing one; the direct path between technician and device on loopback.\n\n")
	b.WriteString("| metric | relay path | direct path | openssh via jump | relay ÷ jump | direct ÷ relay | direct ÷ jump | target | met |\n")
	b.WriteString("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | :---: |\n")
	for _, r := range t.rows {
		dc := r.cell(r.direct)
		if r.directText != "" {
			dc = r.directText
		}
		met := ""
		if r.check != nil {
			if ok, known := r.check(r); known && ok {
				met = "yes"
			} else if known {
				met = "**no**"
			}
		}
		fmt.Fprintf(&b, "| %s (%s) | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.metric, r.unit, r.cell(r.relay), dc,
			r.cell(r.jump), ratio(r.relay, r.jump), ratio(r.direct, r.relay), ratio(r.direct, r.jump), r.target, met)
	}
	if len(t.notes) > 0 {
		b.WriteString("\n")
	}
	for _, n := range t.notes {
		fmt.Fprintf(&b, "- %s\n", n)
	}
	return b.String()
}

// known reports whether every value is measured.
func known(vs ...float64) bool {
	for _, v := range vs {
		if math.IsNaN(v) {
			return false
		}
	}
	return true
}
