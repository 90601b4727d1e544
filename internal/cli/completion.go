package cli

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/nodediag/nodediag/internal/mcpserver"
	"github.com/nodediag/nodediag/internal/remote"
	"github.com/nodediag/nodediag/internal/store"
)

// Shell completion completes values, not only flag names: the stored bundles and instances, the
// runbooks, the output formats, severities and toolsets. `nodediag completion bash|zsh|fish`
// prints the script (cobra's).

// storeOf opens the store the command line names (or the default) for a completion.
func storeOf(cmd *cobra.Command) (*store.Store, bool) {
	dir := store.DefaultRoot()
	if f := cmd.Flag("store"); f != nil && f.Value.String() != "" {
		dir = f.Value.String()
	}
	if remote.IsURL(dir) {
		// What the bucket held at the last command: Tab does not wait on the network.
		cache := ""
		if f := cmd.Flag("cache"); f != nil {
			cache = f.Value.String()
		}
		dir = remote.CacheRoot(dir, cache)
	}
	// A completion only lists; tidying up after killed runs (which may delete gigabytes) is
	// left to the next command so that pressing Tab stays instant.
	st, err := store.OpenNoCleanup(dir, nil)
	return st, err == nil
}

// completeBundles offers the stored bundle ids, and files too: --bundle also takes a path.
func completeBundles(cmd *cobra.Command, _ []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
	st, ok := storeOf(cmd)
	if !ok {
		return nil, cobra.ShellCompDirectiveDefault
	}
	entries, _ := st.List()
	var out []cobra.Completion
	for _, e := range entries {
		if strings.HasPrefix(e.Manifest.ID, prefix) {
			out = append(out, cobra.CompletionWithDesc(e.Manifest.ID, e.Manifest.InstanceID+" "+e.Manifest.CaptureTime.Format("2006-01-02 15:04")))
		}
	}
	return out, cobra.ShellCompDirectiveDefault
}

// completeInstances offers the instances the store holds bundles of.
func completeInstances(cmd *cobra.Command, _ []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
	st, ok := storeOf(cmd)
	if !ok {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	entries, _ := st.List()
	seen := map[string]bool{}
	var out []cobra.Completion
	for _, e := range entries {
		id := e.Manifest.InstanceID
		if id != "" && !seen[id] && strings.HasPrefix(id, prefix) {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// fixed completes a flag from a fixed list.
func fixed(values ...string) cobra.CompletionFunc {
	return cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp)
}

var (
	completeSeverity = fixed("critical", "high", "medium", "low", "info")
	completeOutput   = fixed("table", "json", "yaml")
	completeToolsets = fixed(mcpserver.AllToolsets...)
)

// completeRunbooks offers the runbook ids, with --runbooks DIR's own.
func completeRunbooks(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	dir := ""
	if f := cmd.Flag("runbooks"); f != nil {
		dir = f.Value.String()
	}
	c, err := loadRunbooks(dir)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []cobra.Completion
	for _, id := range c.IDs() {
		if rb, ok := c.Get(id); ok {
			out = append(out, cobra.CompletionWithDesc(id, rb.Title))
		} else {
			out = append(out, id)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}
