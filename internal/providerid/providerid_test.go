package providerid

import "testing"

func TestInstanceID(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"aws:///us-west-2a/i-0123456789abcdef0", "i-0123456789abcdef0"},
		{"aws://us-west-2a/i-0abc", "i-0abc"},
		{"aws:///us-west-2a/", ""},
		{"aws:///us-west-2a/i-", ""},
		{"aws:///us-west-2a/node-1", ""},
		{"gce://project/zone/instance", ""},
		{"", ""},
	} {
		if got := InstanceID(tc.in); got != tc.want {
			t.Errorf("InstanceID(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
