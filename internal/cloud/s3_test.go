package cloud

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nodediag/nodediag/internal/cloud/awsfake"
)

func TestFindBundle(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 11, 20, 10, 30, 0, 0, time.UTC)
	const exec = "5f3c2b1a-0000-4000-8000-00000000abcd"
	for _, tc := range []struct {
		name        string
		objects     map[string]time.Duration // key → LastModified after start
		bucket      string
		pageSize    int
		faults      []awsfake.Fault
		want        string
		wantErr     error
		errContains []string
		wantRegion  string
	}{
		{name: "execution id wins over newer", objects: map[string]time.Duration{
			"eks_" + nodeID + "_" + exec + ".tar.gz":               5 * time.Minute,
			"eks_" + nodeID + "_2026-11-20_1040-UTC_0.7.9.tar.gz":  10 * time.Minute,
			"eks_" + otherID + "_2026-11-20_1045-UTC_0.7.9.tar.gz": 15 * time.Minute,
		}, want: "eks_" + nodeID + "_" + exec + ".tar.gz"},
		{name: "newest of the instance's, other instances and old ones skipped", objects: map[string]time.Duration{
			"eks_" + nodeID + "_2026-11-20_1032-UTC_0.7.9.tar.gz":  2 * time.Minute,
			"eks_" + nodeID + "_2026-11-20_1036-UTC_0.7.9.tar.gz":  6 * time.Minute,
			"eks_" + nodeID + "_2026-11-19_0900-UTC_0.7.9.tar.gz":  -25 * time.Hour,
			"eks_" + otherID + "_2026-11-20_1050-UTC_0.7.9.tar.gz": 20 * time.Minute,
			"eks_" + nodeID + "_notes.txt":                         7 * time.Minute,
		}, want: "eks_" + nodeID + "_2026-11-20_1036-UTC_0.7.9.tar.gz"},
		{name: "found on a later page", pageSize: 2, objects: map[string]time.Duration{
			"eks_i-00000000000000002_a.tar.gz": time.Minute, "eks_i-00000000000000003_a.tar.gz": time.Minute,
			"eks_i-00000000000000004_a.tar.gz": time.Minute, "eks_" + nodeID + "_" + exec + ".tar.gz": time.Minute,
		}, want: "eks_" + nodeID + "_" + exec + ".tar.gz"},
		{name: "under a folder when the root has none", objects: map[string]time.Duration{
			"AWSSupport-CollectEKSInstanceLogs/" + exec + "/eks_" + nodeID + "_" + exec + ".tar.gz": 3 * time.Minute,
			"other/eks_" + otherID + "_x.tar.gz":                                                    4 * time.Minute,
			"other/readme.txt":                                                                      5 * time.Minute,
		}, want: "AWSSupport-CollectEKSInstanceLogs/" + exec + "/eks_" + nodeID + "_" + exec + ".tar.gz"},
		{name: "missing after success", objects: map[string]time.Duration{
			"eks_" + nodeID + "_2026-11-19_0900-UTC_0.7.9.tar.gz": -time.Hour,
		}, wantErr: ErrBundleMissing, errContains: []string{"s3://" + bucket + "/eks_", nodeID, "2026-11-20T10:30:00Z"}},
		{name: "no such bucket", bucket: "gone-bucket", wantErr: ErrBucketNotFound, errContains: []string{"gone-bucket", "--bucket"}},
		{name: "bucket in another region that S3 names", faults: []awsfake.Fault{{Action: "ListObjectsV2", Times: 1, Status: 301, Code: "PermanentRedirect",
			Message: "The bucket you are attempting to access must be addressed using the specified endpoint.", BucketRegion: "eu-west-1"}},
			objects: map[string]time.Duration{"eks_" + nodeID + "_" + exec + ".tar.gz": time.Minute}, want: "eks_" + nodeID + "_" + exec + ".tar.gz", wantRegion: "eu-west-1"},
		{name: "bucket in another region", faults: []awsfake.Fault{{Action: "ListObjectsV2", Status: 301, Code: "PermanentRedirect",
			Message: "The bucket you are attempting to access must be addressed using the specified endpoint."}},
			wantErr: ErrBucketNotFound, errContains: []string{"another region"}},
		{name: "access denied", faults: []awsfake.Fault{{Action: "ListObjectsV2", Status: 403, Code: "AccessDenied", Message: "Access Denied"}},
			wantErr: ErrAccessDenied, errContains: []string{"s3:ListBucket"}},
		{name: "slow down then listed", faults: []awsfake.Fault{{Action: "ListObjectsV2", Times: 1, Status: 503, Code: "SlowDown", Message: "Please reduce your request rate."}},
			objects: map[string]time.Duration{"eks_" + nodeID + "_" + exec + ".tar.gz": time.Minute}, want: "eks_" + nodeID + "_" + exec + ".tar.gz"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newAccount(t)
			if tc.pageSize > 0 {
				f.PageSize = tc.pageSize
			}
			etags := map[string]string{}
			for k, d := range tc.objects {
				etags[k] = f.PutObject(bucket, k, []byte(k), start.Add(d))
			}
			for _, fl := range tc.faults {
				f.Inject(fl)
			}
			b := bucket
			if tc.bucket != "" {
				b = tc.bucket
			}
			got, err := newAWS(f, Options{Bucket: b}).FindBundle(ctx, "us-east-1", nodeID, exec, start)
			checkErr(t, err, tc.wantErr, tc.errContains)
			if tc.wantErr != nil {
				return
			}
			want := Object{Region: tc.wantRegion, Bucket: bucket, Key: tc.want, ETag: etags[tc.want], Size: int64(len(tc.want)), LastModified: start.Add(tc.objects[tc.want])}
			if got != want {
				t.Errorf("got %+v\nwant %+v", got, want)
			}
			// The root's eks_ prefix first; the whole bucket only when that found nothing.
			for i, r := range f.RequestsFor("ListObjectsV2") {
				wantPrefix := "eks_"
				if !strings.HasPrefix(tc.want, "eks_") && i == len(f.RequestsFor("ListObjectsV2"))-1 {
					wantPrefix = ""
				}
				if r.Path != "/"+bucket || r.Query.Get("prefix") != wantPrefix {
					t.Errorf("list request %d %s?%s: want path-style /%s with prefix %q", i, r.Path, r.Query.Encode(), bucket, wantPrefix)
				}
			}
		})
	}
}

// archive is deterministic pseudo-random content, as incompressible as a real .tar.gz.
func archive(n int) []byte {
	r := rand.New(rand.NewPCG(7, uint64(n)))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestDownload(t *testing.T) {
	ctx := context.Background()
	const size = 300_000
	const key = "eks_" + nodeID + "_x.tar.gz"
	data := archive(size)
	changed := archive(size + 1)
	for _, tc := range []struct {
		name string
		// part and partTag are a previous attempt's leftovers.
		part    []byte
		partTag string // "current" is the object's ETag
		replace bool   // the object changes after FindBundle, before Download
		faults  []awsfake.Fault
		want    []byte
		ranges  []string // Range header of each GetObject, in order
		ifMatch []bool   // whether each GetObject carried If-Match
		wantErr error
	}{
		{name: "whole", want: data, ranges: []string{""}, ifMatch: []bool{false}},
		{name: "cut mid-body then resumed", faults: []awsfake.Fault{{Action: "GetObject", Times: 1, CutAfter: 100_000}},
			want: data, ranges: []string{"", "bytes=100000-"}, ifMatch: []bool{false, true}},
		{name: "cut twice", faults: []awsfake.Fault{{Action: "GetObject", Times: 1, CutAfter: 70_000}, {Action: "GetObject", Times: 1, CutAfter: 50_000}},
			want: data, ranges: []string{"", "bytes=70000-", "bytes=120000-"}, ifMatch: []bool{false, true, true}},
		{name: "part from an earlier run resumed", part: data[:123_456], partTag: "current",
			want: data, ranges: []string{"bytes=123456-"}, ifMatch: []bool{true}},
		{name: "whole part from a crash before the rename", part: data, partTag: "current",
			want: data, ranges: []string{"bytes=299999-"}, ifMatch: []bool{true}},
		{name: "part of another ETag restarts", part: changed[:200_000], partTag: `"0123456789abcdef0123456789abcdef"`,
			want: data, ranges: []string{""}, ifMatch: []bool{false}},
		{name: "object replaced since: If-Match fails, restart", part: data[:50_000], partTag: "current", replace: true,
			want: changed, ranges: []string{"bytes=50000-", ""}, ifMatch: []bool{true, false}},
		{name: "server ignores Range", part: data[:90_000], partTag: "current", faults: []awsfake.Fault{{Action: "GetObject", Times: 1, IgnoreRange: true}},
			want: data, ranges: []string{"bytes=90000-"}, ifMatch: []bool{true}},
		{name: "access denied", faults: []awsfake.Fault{{Action: "GetObject", Status: 403, Code: "AccessDenied", Message: "Access Denied"}},
			ranges: []string{""}, ifMatch: []bool{false}, wantErr: ErrAccessDenied},
		{name: "throttled then served", faults: []awsfake.Fault{{Action: "GetObject", Times: 1, Status: 503, Code: "SlowDown", Message: "Please reduce your request rate."}},
			want: data, ranges: []string{"", ""}, ifMatch: []bool{false, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newAccount(t)
			mod := time.Date(2026, 11, 20, 10, 40, 0, 0, time.UTC)
			etag := f.PutObject(bucket, key, data, mod)
			a := newAWS(f, Options{Bucket: bucket})
			obj, err := a.FindBundle(ctx, "us-east-1", nodeID, "", mod.Add(-time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			dst := filepath.Join(t.TempDir(), "bundle.tar.gz")
			if tc.part != nil {
				tag := tc.partTag
				if tag == "current" {
					tag = etag
				}
				writeFile(t, dst+".part", tc.part)
				writeFile(t, dst+".part.etag", []byte(tag))
			}
			if tc.replace {
				f.PutObject(bucket, key, changed, mod.Add(time.Minute))
			}
			for _, fl := range tc.faults {
				f.Inject(fl)
			}
			var last, lastTotal int64
			err = a.Download(ctx, "us-east-1", obj, dst, func(done, total int64) {
				if done < last && done != 0 {
					t.Errorf("progress went back from %d to %d", last, done)
				}
				last, lastTotal = done, total
			})
			var ranges []string
			var ifMatch []bool
			for _, r := range f.RequestsFor("GetObject") {
				ranges = append(ranges, r.Header.Get("Range"))
				ifMatch = append(ifMatch, r.Header.Get("If-Match") != "")
				if r.Path != "/"+bucket+"/"+key {
					t.Errorf("GetObject path %s, want path-style /%s/%s", r.Path, bucket, key)
				}
			}
			if fmt.Sprint(ranges) != fmt.Sprint(tc.ranges) || fmt.Sprint(ifMatch) != fmt.Sprint(tc.ifMatch) {
				t.Errorf("GetObject ranges %q if-match %v, want %q %v", ranges, ifMatch, tc.ranges, tc.ifMatch)
			}
			if tc.wantErr != nil {
				checkErr(t, err, tc.wantErr, nil)
				if _, err := os.Stat(dst); !os.IsNotExist(err) {
					t.Errorf("%s exists after a failed download", dst)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(dst)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tc.want) {
				t.Errorf("downloaded %d bytes, not identical to the object's %d", len(got), len(tc.want))
			}
			if last != int64(len(tc.want)) || lastTotal != int64(len(tc.want)) {
				t.Errorf("last progress %d/%d, want %d/%d", last, lastTotal, len(tc.want), len(tc.want))
			}
			for _, leftover := range []string{dst + ".part", dst + ".part.etag"} {
				if _, err := os.Stat(leftover); !os.IsNotExist(err) {
					t.Errorf("%s left behind", filepath.Base(leftover))
				}
			}
		})
	}
}

func TestDownloadCancelledKeepsPart(t *testing.T) {
	f := newAccount(t)
	data := archive(1 << 20)
	const key = "eks_" + nodeID + "_c.tar.gz"
	etag := f.PutObject(bucket, key, data, time.Now())
	a := newAWS(f, Options{Bucket: bucket})
	obj := Object{Bucket: bucket, Key: key, ETag: etag, Size: int64(len(data))}
	dst := filepath.Join(t.TempDir(), "bundle.tar.gz")
	ctx, cancel := context.WithCancel(context.Background())
	// Cancel as soon as the first bytes are on disk: the call must stop, leave no final file, and
	// keep the .part for the next call to resume.
	err := a.Download(ctx, "us-east-1", obj, dst, func(done, _ int64) {
		if done > 0 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if _, err := os.Stat(dst); !os.IsNotExist(err) {
		t.Fatalf("%s exists after a cancelled download", dst)
	}
	st, err := os.Stat(dst + ".part")
	if err != nil || st.Size() == 0 || st.Size() >= int64(len(data)) {
		t.Fatalf("part file after cancel: %v, %v; want some but not all bytes", st, err)
	}
	kept := st.Size()
	if err := a.Download(context.Background(), "us-east-1", obj, dst, nil); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(dst)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("resumed download differs from the object (err %v)", err)
	}
	reqs := f.RequestsFor("GetObject")
	if want := fmt.Sprintf("bytes=%d-", kept); reqs[len(reqs)-1].Header.Get("Range") != want {
		t.Errorf("resume asked %q, want %q", reqs[len(reqs)-1].Header.Get("Range"), want)
	}
}

func TestDownloadGivesUpAfterRepeatedCuts(t *testing.T) {
	f := newAccount(t)
	data := archive(100_000)
	const key = "eks_" + nodeID + "_g.tar.gz"
	etag := f.PutObject(bucket, key, data, time.Now())
	f.Inject(awsfake.Fault{Action: "GetObject", CutAfter: 1000})
	a := newAWS(f, Options{Bucket: bucket})
	dst := filepath.Join(t.TempDir(), "bundle.tar.gz")
	err := a.Download(context.Background(), "us-east-1", Object{Bucket: bucket, Key: key, ETag: etag, Size: int64(len(data))}, dst, nil)
	if err == nil || !strings.Contains(err.Error(), "gave up") {
		t.Fatalf("error %v, want a give-up after %d attempts", err, downloadAttempts)
	}
	if n := len(f.RequestsFor("GetObject")); n != downloadAttempts {
		t.Errorf("%d GetObject requests, want %d", n, downloadAttempts)
	}
	if st, err := os.Stat(dst + ".part"); err != nil || st.Size() != int64(downloadAttempts*1000) {
		t.Errorf("part file %v, %v: want the %d bytes received kept for the next call", st, err, downloadAttempts*1000)
	}
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
