package tech

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"text/tabwriter"
)

// printList fetches a JSON array from the relay and prints it: as JSON
// with asJSON (an empty list as []), else as a table with the tab-separated
// header and one row per item.
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
		fmt.Fprintln(tw, row(it))
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
