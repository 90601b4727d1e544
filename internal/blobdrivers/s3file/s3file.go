// Package s3file registers the two bucket drivers the capture agent needs — s3://, where the
// agent publishes snapshots on EKS, and file://, for a store on a mounted folder and for tests —
// with gocloud.dev/blob. nodediag-agent imports it alone: the gs:// and azblob:// drivers of
// internal/blobdrivers bring the Google Cloud and Azure SDKs, whose package initialisation is
// resident memory on every node (docs/performance.md, the capture agent).
package s3file

import (
	_ "gocloud.dev/blob/fileblob" // file://
	_ "gocloud.dev/blob/s3blob"   // s3://
)
