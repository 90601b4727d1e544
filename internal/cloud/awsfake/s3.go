package awsfake

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// S3 REST/XML shapes.
type (
	s3Contents struct {
		Key          string `xml:"Key"`
		LastModified string `xml:"LastModified"`
		ETag         string `xml:"ETag"`
		Size         int64  `xml:"Size"`
		StorageClass string `xml:"StorageClass"`
	}
	s3ListResult struct {
		XMLName               xml.Name     `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListBucketResult"`
		Name                  string       `xml:"Name"`
		Prefix                string       `xml:"Prefix"`
		KeyCount              int          `xml:"KeyCount"`
		MaxKeys               int          `xml:"MaxKeys"`
		IsTruncated           bool         `xml:"IsTruncated"`
		ContinuationToken     string       `xml:"ContinuationToken,omitempty"`
		NextContinuationToken string       `xml:"NextContinuationToken,omitempty"`
		Contents              []s3Contents `xml:"Contents"`
	}
	s3ErrorResult struct {
		XMLName   xml.Name `xml:"Error"`
		Code      string   `xml:"Code"`
		Message   string   `xml:"Message"`
		Resource  string   `xml:"Resource,omitempty"`
		RequestID string   `xml:"RequestId"`
	}
)

// serveS3 answers path-style S3: GET /bucket?list-type=2 (ListObjectsV2) and GET /bucket/key (GetObject).
func (a *Account) serveS3(w http.ResponseWriter, r *http.Request, region string) {
	p := strings.TrimPrefix(r.URL.Path, "/")
	bucket, key, _ := strings.Cut(p, "/")
	action := "Unsupported"
	switch {
	case r.Method == http.MethodGet && key == "" && r.URL.Query().Get("list-type") == "2":
		action = "ListObjectsV2"
	case r.Method == http.MethodGet && key != "":
		action = "GetObject"
	}
	a.record("s3", action, region, r, nil)
	f := a.fault(action)
	if f != nil && f.Code != "" {
		if f.BucketRegion != "" {
			w.Header().Set("x-amz-bucket-region", f.BucketRegion)
		}
		s3Error(w, r, statusOr(f.Status, http.StatusBadRequest), f.Code, f.Message)
		return
	}
	a.mu.Lock()
	objects, ok := a.buckets[bucket]
	a.mu.Unlock()
	if action == "Unsupported" {
		s3Error(w, r, http.StatusNotImplemented, "NotImplemented", "the fake serves only ListObjectsV2 and GetObject")
		return
	}
	if !ok {
		s3Error(w, r, http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
		return
	}
	if action == "ListObjectsV2" {
		a.list(w, r, bucket, objects)
		return
	}
	a.mu.Lock()
	o, ok := objects[key]
	var obj Object
	if ok {
		obj = *o
	}
	a.mu.Unlock()
	if !ok {
		s3Error(w, r, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
		return
	}
	a.get(w, r, obj, f)
}

// list writes one ListObjectsV2 page; the continuation token is the last key of the previous page.
func (a *Account) list(w http.ResponseWriter, r *http.Request, bucket string, objects map[string]*Object) {
	q := r.URL.Query()
	prefix, after := q.Get("prefix"), q.Get("continuation-token")
	max := a.PageSize
	if m, err := strconv.Atoi(q.Get("max-keys")); err == nil && m > 0 && m < max {
		max = m
	}
	a.mu.Lock()
	var keys []string
	for k := range objects {
		if strings.HasPrefix(k, prefix) && k > after {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	res := s3ListResult{Name: bucket, Prefix: prefix, MaxKeys: max, ContinuationToken: after}
	for i, k := range keys {
		if i == max {
			res.IsTruncated = true
			res.NextContinuationToken = keys[i-1]
			break
		}
		o := objects[k]
		res.Contents = append(res.Contents, s3Contents{Key: k, LastModified: o.LastModified.UTC().Format("2006-01-02T15:04:05.000Z"),
			ETag: o.ETag, Size: int64(len(o.Data)), StorageClass: "STANDARD"})
	}
	a.mu.Unlock()
	res.KeyCount = len(res.Contents)
	writeXML(w, http.StatusOK, res)
}

// get writes an object, honouring Range ("bytes=N-" and "bytes=N-M") and If-Match, and the
// CutAfter and IgnoreRange faults.
func (a *Account) get(w http.ResponseWriter, r *http.Request, o Object, f *Fault) {
	if m := r.Header.Get("If-Match"); m != "" && m != o.ETag && strings.Trim(m, `"`) != strings.Trim(o.ETag, `"`) {
		s3Error(w, r, http.StatusPreconditionFailed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
		return
	}
	size := int64(len(o.Data))
	start, end, status := int64(0), size-1, http.StatusOK
	if rg := r.Header.Get("Range"); rg != "" && (f == nil || !f.IgnoreRange) {
		s, e, ok := parseRange(rg, size)
		if !ok {
			s3Error(w, r, http.StatusRequestedRangeNotSatisfiable, "InvalidRange", "The requested range is not satisfiable")
			return
		}
		start, end, status = s, e, http.StatusPartialContent
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end, size))
	}
	body := o.Data[start : end+1]
	h := w.Header()
	h.Set("ETag", o.ETag)
	h.Set("Last-Modified", o.LastModified.UTC().Format(http.TimeFormat))
	h.Set("Accept-Ranges", "bytes")
	h.Set("Content-Type", "application/x-gzip")
	h.Set("Content-Length", strconv.FormatInt(int64(len(body)), 10))
	w.WriteHeader(status)
	if f != nil && f.CutAfter > 0 && f.CutAfter < int64(len(body)) {
		_, _ = w.Write(body[:f.CutAfter])
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		// Abort the connection mid-body, as a dropped network link would.
		panic(http.ErrAbortHandler)
	}
	_, _ = w.Write(body)
}

// parseRange parses a single-range "bytes=N-" or "bytes=N-M" header against size.
func parseRange(h string, size int64) (start, end int64, ok bool) {
	spec, found := strings.CutPrefix(h, "bytes=")
	if !found || strings.Contains(spec, ",") {
		return 0, 0, false
	}
	from, to, _ := strings.Cut(spec, "-")
	start, err := strconv.ParseInt(from, 10, 64)
	if err != nil || start < 0 || start >= size {
		return 0, 0, false
	}
	end = size - 1
	if to != "" {
		e, err := strconv.ParseInt(to, 10, 64)
		if err != nil || e < start {
			return 0, 0, false
		}
		if e < end {
			end = e
		}
	}
	return start, end, true
}

// s3Error writes S3's error document.
func s3Error(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	writeXML(w, status, s3ErrorResult{Code: code, Message: message, Resource: r.URL.Path, RequestID: "req-" + strconv.FormatInt(time.Now().UnixNano()%1e6, 10)})
}
