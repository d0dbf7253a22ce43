package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/tether-support/tether/internal/sanitize"
)

// The renderers print what the tech client returns: tables for people,
// JSON for scripts. Every string in it is the relay's (or a device's)
// choice, raw: each goes through the sanitize package on its way out.

// printList prints items as JSON with asJSON (an empty list as []; see
// writeJSON), else as a table with the tab-separated header and one row
// per item, each cell made inert by sanitize.Cells.
func printList[T any](w io.Writer, items []T, asJSON bool, header string, row func(T) string) error {
	return printRows(w, items, asJSON, header, row, func(t T) T { return t })
}

// printRows is printList for a list whose --json form is not the relay's
// answer W itself but the shape docs/cli.md promises, T, made by asRow.
func printRows[W, T any](w io.Writer, items []W, asJSON bool, header string, row func(W) string, asRow func(W) T) error {
	if asJSON {
		rows := make([]T, 0, len(items))
		for _, it := range items {
			rows = append(rows, asRow(it))
		}
		return writeJSON(w, rows)
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for _, it := range items {
		// Every cell may hold what a device or the relay chose.
		fmt.Fprintln(tw, sanitize.Cells(row(it), 0))
	}
	return tw.Flush()
}

// writeJSON writes v as one line of JSON in which every control, C1 and
// invisible character is escaped (sanitize.EscapeJSON): the same data, inert
// on a terminal.
func writeJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(sanitize.EscapeJSON(append(b, '\n')))
	return err
}

// yesNo formats a flag for a table.
func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
