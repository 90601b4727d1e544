// Package providerid reads a node's spec.providerID. It is its own package, free of client-go's
// clientset, so that the capture agent's small binary and internal/gather name snapshots by the
// EC2 instance id without linking internal/kube.
package providerid

import "strings"

// InstanceID extracts the EC2 instance id from a node's providerID ("aws:///us-west-2a/i-0abc…"),
// or returns "" when the provider is not AWS or the id is not there.
func InstanceID(providerID string) string {
	rest, ok := strings.CutPrefix(providerID, "aws://")
	if !ok {
		return ""
	}
	last := rest[strings.LastIndex(rest, "/")+1:]
	if !strings.HasPrefix(last, "i-") || len(last) < 3 {
		return ""
	}
	return last
}
