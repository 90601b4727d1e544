package app

import "github.com/nodediag/nodediag/internal/store"

// BundleOfNode is the newest stored bundle of a pod's node: by the EC2 instance id of its
// providerID, else by its node name (a bundle whose archive named no instance). It never falls
// back to another node's bundle: a diagnosis of one node's pod from another node's logs would
// be wrong with full confidence. The newest wins whether collected or the capture agent's snapshot
// (app.AgentSnapshot): a snapshot newer than the collected bundle holds the crash that one
// predates, and when no collected bundle exists it is all there is. Both faces resolve a pod's
// bundle with it.
func BundleOfNode(st *store.Store, instanceID, nodeName string) (*store.Entry, bool) {
	if st == nil {
		return nil, false
	}
	if instanceID != "" {
		if e, err := st.Resolve(instanceID, ""); err == nil {
			return e, true
		}
	}
	if nodeName != "" {
		if e, err := st.ResolveNode(nodeName); err == nil {
			return e, true
		}
	}
	return nil, false
}
