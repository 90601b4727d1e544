// Package logtime reads the timestamps of node log lines and turns them into UTC instants with
// an honest quality: exact, year-inferred, boot-anchored or none.
//
// Node bundles mix a dozen layouts, most of them lossy: journald's and rsyslog's default
// prefixes and klog headers have no year, journald short has one-second resolution, dmesg counts
// seconds since boot. The parsers here are allocation-free so that an indexer can stamp every
// hit line and every sidecar checkpoint without pressure on the garbage collector, and they
// never guess silently: a year comes from the bundle's capture time (with the December→January
// turn), a zone from Context.Location or from InferLocation, a dmesg second from a boot time
// anchored by one of the Boot* helpers. A line whose time cannot be read says None and carries
// the zero time rather than borrowing a neighbour's.
package logtime
