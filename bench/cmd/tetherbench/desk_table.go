package main

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// deskRow is one line of the desktop table: a metric of one workload for
// both contenders. NaN: not measured.
type deskRow struct {
	workload, metric string
	tether, vnc      float64
	decimals         int
	tetherText       string // overrides the cell
	vncText          string
	target           string
	check            func(r *deskRow) (met, known bool)
}

// deskTable collects the desktop rows.
type deskTable struct {
	rows  []*deskRow
	works []*deskWorkload
}

// add turns one workload's results (nil: not measured) into rows.
func (dt *deskTable) add(w *deskWorkload, tr, vr *deskResult) {
	dt.works = append(dt.works, w)
	val := func(r *deskResult, f func(*deskResult) float64) float64 {
		if r == nil {
			return nan
		}
		return f(r)
	}
	row := func(metric string, dec int, f func(*deskResult) float64) *deskRow {
		r := &deskRow{workload: w.name, metric: metric, tether: val(tr, f), vnc: val(vr, f), decimals: dec}
		dt.rows = append(dt.rows, r)
		return r
	}
	msOf := func(d time.Duration) float64 { return float64(d) / 1e6 }
	ups := row("updates drawn /s", 1, func(r *deskResult) float64 { return r.perSec(float64(r.updates)) })
	kbs := row("KB/s to the viewer", 1, func(r *deskResult) float64 { return r.perSec(float64(r.down)) / 1e3 })
	row("bytes per update", 0, func(r *deskResult) float64 {
		if r.updates == 0 {
			return nan
		}
		return float64(r.down) / float64(r.updates)
	})
	p50 := row("change→drawn p50 (ms)", 1, func(r *deskResult) float64 { return msOf(pct(r.lat, 50)) })
	p99 := row("change→drawn p99 (ms)", 1, func(r *deskResult) float64 { return msOf(pct(r.lat, 99)) })
	row("marker changes measured / not drawn", 0, func(r *deskResult) float64 { return float64(len(r.lat)) }).setText(tr, vr, changesText)
	cpu := row("capturing process CPU (% of a core)", 1, func(r *deskResult) float64 { return 100 * r.cpu.Seconds() / r.dur.Seconds() })
	gr := row("lag growth, last third − first third p50 (ms)", 1, func(r *deskResult) float64 { return msOf(r.growth()) })
	row("machine load average (1 min) after the passes", 0, func(*deskResult) float64 { return 0 }).setText(tr, vr,
		func(r *deskResult) string {
			if r == nil {
				return "–"
			}
			return r.load
		})
	text := w.name == "typing" || w.name == "terminal scroll"
	switch w.name {
	case "idle":
		kbs.target, kbs.check = "≤ 2 KB/s", tetherAtMost(2)
		cpu.target, cpu.check = "≤ 2%", tetherAtMost(2)
	case "typing":
		kbs.target, kbs.check = "≤ 5 KB/s and < x11vnc", both(tetherAtMost(5), belowVNC)
	case "terminal scroll":
		ups.target, ups.check = "≥ 25", func(r *deskRow) (bool, bool) { return r.tether >= 25, !math.IsNaN(r.tether) }
		kbs.target, kbs.check = "< x11vnc", belowVNC
	}
	if w.overload {
		p99.target, p99.check = "≤ 250 ms", tetherAtMost(250)
		gr.target, gr.check = "≤ 50 ms (no growth)", tetherAtMost(50)
	} else {
		p50.target, p50.check = "≤ 20 ms", tetherAtMost(20)
		p99.target, p99.check = "≤ 50 ms", tetherAtMost(50)
		if text {
			p99.target, p99.check = "≤ 50 ms and ≤ x11vnc", both(tetherAtMost(50), notAboveVNC)
		}
		gr.target, gr.check = "≤ 50 ms, or ≤ x11vnc's", func(r *deskRow) (bool, bool) {
			return r.tether <= 50 || r.tether <= r.vnc, !math.IsNaN(r.tether)
		}
	}
}

// setText fills the row's cells with text.
func (r *deskRow) setText(tr, vr *deskResult, f func(*deskResult) string) {
	r.tetherText, r.vncText = f(tr), f(vr)
}

func changesText(r *deskResult) string {
	if r == nil {
		return "–"
	}
	return fmt.Sprintf("%d / %d", len(r.lat), r.missed)
}

func tetherAtMost(k float64) func(*deskRow) (bool, bool) {
	return func(r *deskRow) (bool, bool) { return r.tether <= k, !math.IsNaN(r.tether) }
}

func belowVNC(r *deskRow) (bool, bool) {
	return r.tether < r.vnc, !math.IsNaN(r.tether) && !math.IsNaN(r.vnc)
}

func notAboveVNC(r *deskRow) (bool, bool) {
	return r.tether <= r.vnc, !math.IsNaN(r.tether) && !math.IsNaN(r.vnc)
}

// both is met when every check is; known when every check is.
func both(cs ...func(*deskRow) (bool, bool)) func(*deskRow) (bool, bool) {
	return func(r *deskRow) (bool, bool) {
		met, known := true, true
		for _, c := range cs {
			m, k := c(r)
			met, known = met && m, known && k
		}
		return met, known
	}
}

func (r *deskRow) cell(v float64, text string) string {
	if text != "" {
		return text
	}
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.*f", r.decimals, v)
}

func (dt *deskTable) markdown(cfg *config) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nRemote desktop on a 1920×1080 Xvfb: per workload and contender a throughput pass (updates, bytes, CPU; "+
		"the marker still) and a latency pass (the marker moving), %v each (%v for the overload workload)\n\n",
		cfg.deskFor, cfg.deskLoadFor)
	if pageMode {
		b.WriteString("Tether's viewer: the `tech view` page (internal/viewer) in headless chromium; an update is drawn when the page has painted it.\n\n")
	} else {
		b.WriteString("Tether's viewer (BENCH_DESK_VIEWER=go): the internal/tech desktop API in the driver; an update is drawn when decoded (no painting).\n\n")
	}
	for _, w := range dt.works {
		fmt.Fprintf(&b, "- %s: %s\n", w.name, w.desc)
	}
	b.WriteString("\n")
	b.WriteString("| workload | metric | tether | x11vnc + noVNC | tether ÷ x11vnc | target | met |\n")
	b.WriteString("| --- | --- | ---: | ---: | ---: | --- | :---: |\n")
	for _, r := range dt.rows {
		q := "–"
		if r.tetherText == "" && !math.IsNaN(r.tether) && !math.IsNaN(r.vnc) && r.vnc != 0 {
			q = fmt.Sprintf("%.2f×", r.tether/r.vnc)
		}
		met := ""
		if r.check != nil {
			if ok, known := r.check(r); known && ok {
				met = "yes"
			} else if known {
				met = "**no**"
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", r.workload, r.metric,
			r.cell(r.tether, r.tetherText), r.cell(r.vnc, r.vncText), q, r.target, met)
	}
	return b.String()
}
