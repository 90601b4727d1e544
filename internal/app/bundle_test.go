package app_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/nodediag/nodediag/internal/app"
	"github.com/nodediag/nodediag/internal/store"
)

// TestBundleOfNode: a pod's bundle is its node's, found by instance id or by node name, and
// never another node's, even when the store holds only that one.
func TestBundleOfNode(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "store"), nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := st.Import(context.Background(), exampleArchive, store.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m := res.Entry.Manifest
	if m.NodeName == "" {
		t.Fatal("the example bundle names no node: the test needs one")
	}
	for _, tc := range []struct {
		name, instance, node string
		found                bool
	}{
		{"by instance", m.InstanceID, "", true},
		{"by node name, the instance unknown", "i-0123456789abcdef0", m.NodeName, true},
		{"by node name alone", "", m.NodeName, true},
		{"another node", "i-0123456789abcdef0", "ip-10-9-9-9.ec2.internal", false},
		{"nothing known", "", "", false},
	} {
		e, ok := app.BundleOfNode(st, tc.instance, tc.node)
		if ok != tc.found || (ok && e.Manifest.ID != m.ID) {
			t.Errorf("%s: found %v (%v), want %v", tc.name, ok, e, tc.found)
		}
	}
	if _, ok := app.BundleOfNode(nil, m.InstanceID, ""); ok {
		t.Error("no store, yet a bundle")
	}
}
