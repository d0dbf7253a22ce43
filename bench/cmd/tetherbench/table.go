package main

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// row is one line of the results table. Values are NaN where they do not
// apply or were not measured; text overrides the tether cell.
type row struct {
	metric          string
	unit            string
	tether, ceiling float64
	direct, jump    float64
	tetherText      string
	target          string
	check           func(r *row) (bool, bool) // (met, known)
	decimals        int
}

var nan = math.NaN()

// table collects rows and notes in the order they were measured.
type table struct {
	rows     []*row
	notes    []string
	sections []string // further tables, printed after the notes
}

func (t *table) add(r *row) *row { t.rows = append(t.rows, r); return r }

func (t *table) note(format string, a ...any) { t.notes = append(t.notes, fmt.Sprintf(format, a...)) }

// section adds a markdown block of its own after the table and its notes.
func (t *table) section(md string) { t.sections = append(t.sections, md) }

func newRow(metric, unit string, decimals int) *row {
	return &row{metric: metric, unit: unit, tether: nan, ceiling: nan, direct: nan, jump: nan, decimals: decimals}
}

// ratio is tether ÷ OpenSSH via the jump host.
func (r *row) ratio() float64 {
	if math.IsNaN(r.tether) || math.IsNaN(r.jump) || r.jump == 0 {
		return nan
	}
	return r.tether / r.jump
}

func (r *row) cell(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.*f", r.decimals, v)
}

// atLeastJump is met when tether ≥ k × OpenSSH via jump.
func atLeastJump(k float64) func(r *row) (bool, bool) {
	return func(r *row) (bool, bool) {
		q := r.ratio()
		return q >= k, !math.IsNaN(q)
	}
}

// atMostJump is met when tether ≤ k × OpenSSH via jump.
func atMostJump(k float64) func(r *row) (bool, bool) {
	return func(r *row) (bool, bool) {
		q := r.ratio()
		return q <= k, !math.IsNaN(q)
	}
}

func atMost(k float64) func(r *row) (bool, bool) {
	return func(r *row) (bool, bool) { return r.tether <= k, !math.IsNaN(r.tether) }
}

func (t *table) markdown(cfg *config) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n%s — %s\n\n", time.Now().Format("2006-01-02 15:04 MST"), machine())
	if len(t.rows) > 0 {
		b.WriteString("| metric | tether | local PTY ceiling | openssh direct | openssh via jump | tether ÷ jump | target | met |\n")
		b.WriteString("| --- | ---: | ---: | ---: | ---: | ---: | --- | :---: |\n")
	}
	for _, r := range t.rows {
		tc := r.cell(r.tether)
		if r.tetherText != "" {
			tc = r.tetherText
		}
		q := "–"
		if v := r.ratio(); !math.IsNaN(v) {
			q = fmt.Sprintf("%.2f×", v)
		}
		met := ""
		if r.check != nil {
			if ok, known := r.check(r); known && ok {
				met = "yes"
			} else if known {
				met = "**no**"
			}
		}
		fmt.Fprintf(&b, "| %s (%s) | %s | %s | %s | %s | %s | %s | %s |\n", r.metric, r.unit, tc,
			r.cell(r.ceiling), r.cell(r.direct), r.cell(r.jump), q, r.target, met)
	}
	if len(t.notes) > 0 {
		b.WriteString("\n")
		for _, n := range t.notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	for _, s := range t.sections {
		b.WriteString(s)
	}
	return b.String()
}
