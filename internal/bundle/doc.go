// Package bundle imports EKS worker-node log bundles safely and says what each file is.
//
// A bundle arrives from outside (an S3 download, a file a user attached to a ticket), so every
// byte of it is treated as hostile: members are written only through an os.Root opened on the
// destination, links and device files are never materialised, and size, count and
// compression-ratio limits stop a bundle from filling the disk. What could be read before a
// fault is kept, because a half-uploaded bundle still holds the evidence an on-call engineer
// needs.
//
// Extraction is a single streaming pass: each member is written to disk and, at the same time,
// handed (decompressed) to the caller's OnFile hook, so that indexing costs little more than
// `tar xzf`. Classify and ParsePodLogPath map bundle paths of the EKS log collector, the EKS
// node monitoring agent and Bottlerocket logdog to log types, without reading file contents.
package bundle
