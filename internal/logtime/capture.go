package logtime

import (
	"path"
	"strings"
	"time"
)

// CaptureFromArchiveName reads the collection time that eks-log-collector.sh writes into its
// archive name, "eks_<instance-id>_<YYYY-MM-DD>_<HHMM>-UTC_<version>.tar.gz" (the instance id
// is empty on hybrid nodes or when IMDS failed: "eks__2022-…"). A leading directory, the
// extracted folder's name (no extension) and a Windows-style path are accepted. The script
// takes the time with `date --utc`, so it is UTC to the minute. Any other name (the SSM
// runbook's "eks_<id>_<execution-id>.tar.gz", a logdog or NMA archive) gives false.
func CaptureFromArchiveName(name string) (time.Time, bool) {
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	rest, ok := strings.CutPrefix(name, "eks_")
	if !ok {
		return time.Time{}, false
	}
	us := strings.IndexByte(rest, '_')
	if us < 0 || !instanceID(rest[:us]) {
		return time.Time{}, false
	}
	b := []byte(rest[us+1:])
	// "2022-12-19_1639-UTC" then end, "_<version>" or an extension.
	const layoutLen = len("2022-12-19_1639-UTC")
	if len(b) < layoutLen || b[4] != '-' || b[7] != '-' || b[10] != '_' || string(b[15:19]) != "-UTC" {
		return time.Time{}, false
	}
	if len(b) > layoutLen && b[layoutLen] != '_' && b[layoutLen] != '.' {
		return time.Time{}, false
	}
	y, ok1 := num(b, 0, 4)
	mo, ok2 := num(b, 5, 2)
	d, ok3 := num(b, 8, 2)
	h, ok4 := num(b, 11, 2)
	mi, ok5 := num(b, 13, 2)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || y < 1970 || !validDay(y, time.Month(mo), d) || !validClock(h, mi, 0) {
		return time.Time{}, false
	}
	return time.Date(y, time.Month(mo), d, h, mi, 0, 0, time.UTC), true
}

// instanceID accepts what can stand between "eks_" and the date: an EC2 or SSM managed-instance
// id, a redacted placeholder ("i-XXXXXXXX"), or nothing. The date check that follows is what
// tells the collector's names apart from others.
func instanceID(s string) bool {
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-') {
			return false
		}
	}
	return true
}
