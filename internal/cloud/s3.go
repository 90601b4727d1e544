package cloud

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Object is an S3 object: a collected bundle.
type Object struct {
	// Region is the bucket's region when it is not the instance's (S3 said so in a redirect).
	Region       string
	Bucket       string
	Key          string
	ETag         string
	Size         int64
	LastModified time.Time
}

// BundlePrefix is the key prefix of the archives the automation uploads (the log collector names
// them eks_<instance>_<time>_<version>.tar.gz; AWS's sample names them eks_<instance>_<execution>.tar.gz).
const BundlePrefix = "eks_"

// bundleKeyRE matches a bundle's file name loosely, since AWS does not document the key.
var bundleKeyRE = regexp.MustCompile(`^eks_(i-[0-9a-f]+)?_.*\.tar\.gz$`)

// instanceInKeyRE finds the instance id a bundle name carries.
var instanceInKeyRE = regexp.MustCompile(`^eks_(i-[0-9a-f]+)_`)

// FindBundle finds the archive the automation uploaded for instanceID in Options.Bucket: a key named
// like a bundle, modified at or after notBefore (the execution's start), not naming another instance.
// Keys that contain the execution id win, then keys that contain the instance id, then the newest.
func (a *AWS) FindBundle(ctx context.Context, region, instanceID, executionID string, notBefore time.Time) (Object, error) {
	obj, err := a.findBundle(ctx, region, instanceID, executionID, notBefore)
	if other := redirectRegion(err); other != "" && other != region {
		// The automation uploads across regions (the CLI on the node follows S3's redirect); the
		// bucket's own region answers the listing.
		obj, err = a.findBundle(ctx, other, instanceID, executionID, notBefore)
		obj.Region = other
	}
	return obj, err
}

// redirectRegion is the bucket region S3 named when it refused a request sent to another region.
func redirectRegion(err error) string {
	var re *awshttp.ResponseError
	if err == nil || !errors.As(err, &re) || re.HTTPResponse() == nil {
		return ""
	}
	return re.HTTPResponse().Header.Get("x-amz-bucket-region")
}

func (a *AWS) findBundle(ctx context.Context, region, instanceID, executionID string, notBefore time.Time) (Object, error) {
	if a.opts.Bucket == "" {
		return Object{}, fmt.Errorf("%w: pass --bucket NAME or set the bucket in nodediag's config", ErrNoBucket)
	}
	c, err := a.region(ctx, region)
	if err != nil {
		return Object{}, err
	}
	// S3 keeps LastModified to the second; SSM's start time has milliseconds.
	notBefore = notBefore.Truncate(time.Second)
	pick := bundlePicker{bucket: a.opts.Bucket, instanceID: instanceID, executionID: executionID, notBefore: notBefore, score: -1}
	// The key is not documented: look at the bucket's root first, where the collector's own SSM
	// document and AWS's sample put it, then anywhere in the bucket (a prefix a runbook version or
	// a bucket policy imposes), a bounded number of pages.
	for _, pass := range []struct {
		prefix   string
		maxPages int
	}{{BundlePrefix, 0}, {"", fallbackPages}} {
		if err := a.scanBundles(ctx, c.s3, pass.prefix, pass.maxPages, &pick); err != nil {
			return Object{}, err
		}
		if pick.score >= 0 {
			break
		}
	}
	best, bestScore := pick.best, pick.score
	if bestScore < 0 {
		return Object{}, fmt.Errorf("%w: no s3://%s/%s*.tar.gz for %s modified since %s: the automation may have uploaded elsewhere "+
			"(check its outputs) or the instance role may lack s3:PutObject on the bucket",
			ErrBundleMissing, a.opts.Bucket, BundlePrefix, orAny(instanceID), notBefore.UTC().Format(time.RFC3339))
	}
	return best, nil
}

// fallbackPages bounds the whole-bucket search for a bundle outside the root: 20,000 keys.
const fallbackPages = 20

// bundlePicker keeps the best bundle key seen so far.
type bundlePicker struct {
	bucket, instanceID, executionID string
	notBefore                       time.Time
	best                            Object
	score                           int
}

// consider scores a listed object: keys that contain the execution id win, then keys that contain
// the instance id, then the newest.
func (p *bundlePicker) consider(o s3types.Object) {
	key := aws.ToString(o.Key)
	name := path.Base(key)
	if !bundleKeyRE.MatchString(name) {
		return
	}
	if m := instanceInKeyRE.FindStringSubmatch(name); m != nil && p.instanceID != "" && m[1] != p.instanceID {
		return
	}
	mod := aws.ToTime(o.LastModified).UTC()
	if mod.Before(p.notBefore) {
		return
	}
	score := 0
	if p.executionID != "" && strings.Contains(key, p.executionID) {
		score += 2
	}
	if p.instanceID != "" && strings.Contains(key, p.instanceID) {
		score++
	}
	if score > p.score || (score == p.score && mod.After(p.best.LastModified)) {
		p.score = score
		p.best = Object{Bucket: p.bucket, Key: key, ETag: aws.ToString(o.ETag), Size: aws.ToInt64(o.Size), LastModified: mod}
	}
}

// scanBundles lists keys under prefix (at most maxPages pages; 0 for all) into the picker.
func (a *AWS) scanBundles(ctx context.Context, client *s3.Client, prefix string, maxPages int, pick *bundlePicker) error {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(a.opts.Bucket)}
	if prefix != "" {
		in.Prefix = aws.String(prefix)
	}
	p := s3.NewListObjectsV2Paginator(client, in)
	for pages := 0; p.HasMorePages() && (maxPages == 0 || pages < maxPages); pages++ {
		page, err := p.NextPage(ctx)
		if err != nil {
			return a.s3Error("s3:ListBucket", err)
		}
		for _, o := range page.Contents {
			pick.consider(o)
		}
	}
	return nil
}

// orAny names an empty instance id.
func orAny(id string) string {
	if id == "" {
		return "any instance"
	}
	return id
}

// s3Error classifies an S3 error, recognising a missing bucket.
func (a *AWS) s3Error(action string, err error) error {
	switch apiCode(err) {
	case "NoSuchBucket":
		return fmt.Errorf("%w: s3://%s does not exist: create it or pass the right --bucket: %w", ErrBucketNotFound, a.opts.Bucket, err)
	case "PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException":
		// S3 answers from the wrong region like this; FindBundle and Download follow the region S3
		// names, so this is a redirect that named none.
		return fmt.Errorf("%w: s3://%s is in another region than the instance and S3 did not say which: %w",
			ErrBucketNotFound, a.opts.Bucket, err)
	}
	return classify(action, err)
}

// downloadAttempts bounds how often one Download call resumes after the body breaks off.
const downloadAttempts = 4

// Download streams obj to path. Bytes go to path+".part" and obj's ETag to path+".part.etag"; a
// later call (after an interruption or a crash) resumes with a Range request conditioned on the ETag
// (If-Match), and starts again from zero when the ETag changed or the server ignores the Range. The
// finished file is renamed to path, so path is either absent or complete. progress, when not nil, is
// called with the bytes written so far and the object's size as bytes arrive.
func (a *AWS) Download(ctx context.Context, region string, obj Object, dst string, progress func(done, total int64)) error {
	if obj.Region != "" {
		region = obj.Region // the bucket's own region, as FindBundle learnt it
	}
	c, err := a.region(ctx, region)
	if err != nil {
		return err
	}
	if obj.Bucket == "" {
		obj.Bucket = a.opts.Bucket
	}
	if obj.Bucket == "" || obj.Key == "" {
		return fmt.Errorf("download: object s3://%s/%s: want a bucket and a key, as FindBundle returns", obj.Bucket, obj.Key)
	}
	d := &download{a: a, s3: c.s3, obj: obj, part: dst + ".part", tag: dst + ".part.etag", progress: progress}
	for attempt := 1; ; attempt++ {
		resumable, err := d.attempt(ctx)
		if err == nil {
			break
		}
		if !resumable || ctx.Err() != nil {
			return err
		}
		if attempt == downloadAttempts {
			return fmt.Errorf("download s3://%s/%s: gave up after %d attempts, %s kept for the next try: %w",
				obj.Bucket, obj.Key, downloadAttempts, d.part, err)
		}
		// The body broke off: the next attempt resumes from what is on disk.
	}
	if err := os.Rename(d.part, dst); err != nil {
		return fmt.Errorf("download s3://%s/%s: move the finished file into place: %w", obj.Bucket, obj.Key, err)
	}
	_ = os.Remove(d.tag)
	return nil
}

// download is one Download call's state across its attempts.
type download struct {
	a         *AWS
	s3        *s3.Client
	obj       Object
	part, tag string
	progress  func(done, total int64)
}

// attempt fetches the rest of the object into the .part file. resumable is true when the error
// came while reading the body, so that another attempt can continue where this one stopped.
func (d *download) attempt(ctx context.Context) (resumable bool, err error) {
	offset := d.resumeOffset()
	if d.obj.Size > 0 && offset >= d.obj.Size {
		// The .part is whole (a crash came between the last byte and the rename). Asking for its last
		// byte again with If-Match proves the object is still the same one without a second download,
		// where a Range starting at the end would be refused as unsatisfiable.
		offset = d.obj.Size - 1
	}
	in := &s3.GetObjectInput{Bucket: aws.String(d.obj.Bucket), Key: aws.String(d.obj.Key)}
	if offset > 0 {
		in.Range = aws.String(fmt.Sprintf("bytes=%d-", offset))
		in.IfMatch = aws.String(d.obj.ETag)
	}
	out, err := d.s3.GetObject(ctx, in)
	if code := apiCode(err); err != nil && offset > 0 && (code == "PreconditionFailed" || code == "InvalidRange") {
		// The object changed since the .part was written: those bytes belong to another archive.
		offset = 0
		out, err = d.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(d.obj.Bucket), Key: aws.String(d.obj.Key)})
	}
	if err != nil {
		if apiCode(err) == "NoSuchKey" {
			return false, fmt.Errorf("%w: s3://%s/%s is gone: run collect again: %w", ErrBundleMissing, d.obj.Bucket, d.obj.Key, err)
		}
		return false, d.a.s3Error("s3:GetObject", err)
	}
	defer out.Body.Close()
	if offset > 0 && aws.ToString(out.ContentRange) == "" {
		// A 200 instead of a 206: the server sent the whole object, so write it from the start.
		offset = 0
	}
	etag := aws.ToString(out.ETag)
	if etag == "" {
		etag = d.obj.ETag
	}
	d.obj.ETag = etag
	total := d.obj.Size
	if cl := aws.ToInt64(out.ContentLength); cl > 0 || total == 0 {
		total = offset + cl
	}
	f, err := d.openPart(offset, etag)
	if err != nil {
		return false, err
	}
	w := &progressWriter{w: f, done: offset, total: total, fn: d.progress}
	if d.progress != nil {
		d.progress(offset, total)
	}
	_, copyErr := io.Copy(w, contextReader{ctx, out.Body})
	syncErr := f.Sync()
	closeErr := f.Close()
	if copyErr != nil {
		return ctx.Err() == nil, fmt.Errorf("download s3://%s/%s: at byte %d: %w", d.obj.Bucket, d.obj.Key, w.done, copyErr)
	}
	if err := errors.Join(syncErr, closeErr); err != nil {
		return false, fmt.Errorf("download s3://%s/%s: write %s: %w", d.obj.Bucket, d.obj.Key, d.part, err)
	}
	if total > 0 && w.done != total {
		return true, fmt.Errorf("download s3://%s/%s: got %d of %d bytes: %w", d.obj.Bucket, d.obj.Key, w.done, total, io.ErrUnexpectedEOF)
	}
	return false, nil
}

// resumeOffset is how many bytes of the .part can be kept: all of them when the .part was written
// from the same ETag, none otherwise.
func (d *download) resumeOffset() int64 {
	if d.obj.ETag == "" {
		return 0
	}
	tag, err := os.ReadFile(d.tag)
	if err != nil || string(tag) != d.obj.ETag {
		return 0
	}
	st, err := os.Stat(d.part)
	if err != nil {
		return 0
	}
	return st.Size()
}

// openPart opens the .part file for writing at offset (truncating to it) and records etag beside it.
func (d *download) openPart(offset int64, etag string) (*os.File, error) {
	if err := os.WriteFile(d.tag, []byte(etag), 0o644); err != nil {
		return nil, fmt.Errorf("download: record the ETag in %s: %w", d.tag, err)
	}
	f, err := os.OpenFile(d.part, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("download: open %s: %w", d.part, err)
	}
	if err := f.Truncate(offset); err != nil {
		f.Close()
		return nil, fmt.Errorf("download: truncate %s to %d bytes: %w", d.part, offset, err)
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("download: seek %s to %d: %w", d.part, offset, err)
	}
	return f, nil
}

// progressWriter counts bytes and reports them.
type progressWriter struct {
	w           io.Writer
	done, total int64
	fn          func(done, total int64)
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.done += int64(n)
	if p.fn != nil && n > 0 {
		p.fn(p.done, p.total)
	}
	return n, err
}

// contextReader stops a body copy when ctx is cancelled, even if the connection keeps delivering.
type contextReader struct {
	ctx context.Context
	r   io.Reader
}

func (c contextReader) Read(b []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(b)
}
