package main

import "github.com/spf13/cobra"

// bundleUsage describes --from on the commands that read a cluster bundle.
const bundleUsage = "the bundle `FILE` that relay cluster export wrote (required)"

// requiredString registers the string flag name on cmd, bound to p, and
// marks it required.
func requiredString(cmd *cobra.Command, p *string, name, usage string) {
	cmd.Flags().StringVar(p, name, "", usage)
	cmd.MarkFlagRequired(name)
}
