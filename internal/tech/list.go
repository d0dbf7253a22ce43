package tech

import (
	"context"
	"encoding/json"
	"fmt"
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
	var items []T
	if err := c.call(ctx, http.MethodGet, path, q, nil, &items); err != nil {
		return err
	}
	if asJSON {
		if items == nil {
			items = []T{}
		}
		return json.NewEncoder(c.Stdout).Encode(items)
	}
	tw := tabwriter.NewWriter(c.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for _, it := range items {
		// Every cell may hold what a device or the relay chose.
		fmt.Fprintln(tw, sanitize.Cells(row(it), 0))
	}
	return tw.Flush()
}

// yesNo formats a flag for a table.
func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
