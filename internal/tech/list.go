package tech

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"text/tabwriter"

	"tether/internal/sanitize"
)

// printList fetches a JSON array from the relay and prints it: as JSON
// with asJSON (an empty list as []; the encoder escapes control
// characters), else as a table with the tab-separated header and one row
// per item, each cell made inert by sanitize.Display.
func printList[T any](ctx context.Context, c *Client, path string, q url.Values, asJSON bool, header string, row func(T) string) error {
	return printRows(ctx, c, path, q, asJSON, header, row, func(t T) T { return t })
}

// printRows is printList for a list whose --json form is not the relay's
// answer W itself but the shape docs/cli.md promises, T, made by asRow.
func printRows[W, T any](ctx context.Context, c *Client, path string, q url.Values, asJSON bool, header string, row func(W) string, asRow func(W) T) error {
	var items []W
	if err := c.call(ctx, http.MethodGet, path, q, nil, &items); err != nil {
		return err
	}
	if asJSON {
		rows := make([]T, 0, len(items))
		for _, it := range items {
			rows = append(rows, asRow(it))
		}
		return writeJSON(c.Stdout, rows)
	}
	tw := tabwriter.NewWriter(c.Stdout, 2, 4, 2, ' ', 0)
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
