package awsfake

import (
	"net/http"
	"testing"
)

func TestParseRange(t *testing.T) {
	for _, tc := range []struct {
		h          string
		start, end int64
		ok         bool
	}{
		{"bytes=0-", 0, 99, true},
		{"bytes=10-", 10, 99, true},
		{"bytes=10-19", 10, 19, true},
		{"bytes=90-500", 90, 99, true},
		{"bytes=100-", 0, 0, false},
		{"bytes=20-10", 0, 0, false},
		{"bytes=0-1,5-6", 0, 0, false},
		{"items=0-", 0, 0, false},
		{"bytes=-5", 0, 0, false},
	} {
		s, e, ok := parseRange(tc.h, 100)
		if ok != tc.ok || (ok && (s != tc.start || e != tc.end)) {
			t.Errorf("parseRange(%q) = %d, %d, %v; want %d, %d, %v", tc.h, s, e, ok, tc.start, tc.end, tc.ok)
		}
	}
}

func TestRegionOf(t *testing.T) {
	for _, tc := range []struct {
		auth, region, service string
	}{
		{"AWS4-HMAC-SHA256 Credential=AKID/20261120/eu-west-1/ssm/aws4_request, SignedHeaders=host, Signature=abc", "eu-west-1", "ssm"},
		{"AWS4-HMAC-SHA256 Credential=AKID/20261120/us-east-1/s3/aws4_request,SignedHeaders=host,Signature=abc", "us-east-1", "s3"},
		{"", "", ""},
		{"Bearer token", "", ""},
	} {
		r, _ := http.NewRequest(http.MethodGet, "http://x/", nil)
		r.Header.Set("Authorization", tc.auth)
		region, service := regionOf(r)
		if region != tc.region || service != tc.service {
			t.Errorf("regionOf(%q) = %q, %q; want %q, %q", tc.auth, region, service, tc.region, tc.service)
		}
	}
}

func TestFaultTimes(t *testing.T) {
	a := New()
	defer a.Close()
	a.Inject(Fault{Action: "GetObject", Times: 2, Code: "SlowDown"})
	a.Inject(Fault{Action: "GetObject", Code: "AccessDenied"})
	var got []string
	for range 4 {
		if f := a.fault("GetObject"); f != nil {
			got = append(got, f.Code)
		}
	}
	want := []string{"SlowDown", "SlowDown", "AccessDenied", "AccessDenied"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("faults hit %v, want %v", got, want)
		}
	}
	if f := a.fault("ListObjectsV2"); f != nil {
		t.Errorf("a GetObject fault hit ListObjectsV2: %+v", f)
	}
}
