package bundle

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var (
	// eks_<instance>_<YYYY-MM-DD_HHMM>-UTC_<version>; the instance is empty on hybrid nodes.
	collectorName = regexp.MustCompile(`^eks_((?:m?i-[0-9a-f]+)?)_(\d{4}-\d{2}-\d{2}_\d{4})-UTC(?:_|$)`)
	// eks_<instance>_<anything>: the SSM runbook names archives after the execution id.
	instanceName  = regexp.MustCompile(`^eks_(m?i-[0-9a-f]+)_`)
	instanceID    = regexp.MustCompile(`^m?i-[0-9a-f]{8,32}$`)
	journalShort  = regexp.MustCompile(`^[A-Z][a-z]{2} [ 0-3]?\d \d{2}:\d{2}:\d{2}(?:\.\d+)? (\S+) \S`)
	journalISO    = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}) (\S+) \S`)
	settingsHost  = regexp.MustCompile(`"hostname"\s*:\s*"([^"]+)"`)
	nmaSaveName   = regexp.MustCompile(`^(.+)-logs$`) // /var/log/support/<nodeName>-logs.tar.gz
	hostnameFiles = regexp.MustCompile(`(?:^|/)hostname[^/]*$`)
)

// Node name sources, most trusted first: kubelet's journal prefix is the node's own hostname,
// which EKS uses as the node name; syslog often has only the short name.
const (
	hostKubelet = iota
	hostContainerd
	hostJournal
	hostNodeadm
	hostDocker
	hostArchiveName
	hostFile
	hostSettings
	hostMessages
	hostSources
)

// metaScan collects bundle facts from the heads of files as they stream by.
type metaScan struct {
	dotSlash     bool     // some member name started with "./"
	rawNames     []string // cleaned member names of the bundle itself, before the top folder was stripped
	hosts        [hostSources]string
	instanceFile string
}

func (s *metaScan) setHost(src int, h string) {
	if s.hosts[src] == "" && h != "" {
		s.hosts[src] = h
	}
}

// scan reads what it can from the first bytes of a text file.
func (s *metaScan) scan(f *File, head []byte) {
	switch {
	case strings.HasSuffix(f.Path, "system/instance-id.txt"):
		if id := firstLine(head); instanceID.MatchString(id) {
			s.instanceFile = id
		}
		return
	case hostnameFiles.MatchString(f.Path):
		s.setHost(hostFile, firstLine(head))
		return
	case path.Base(f.Path) == "settings.json":
		if m := settingsHost.FindSubmatch(head); m != nil {
			s.setHost(hostSettings, string(m[1]))
		}
		return
	}
	if !f.Log {
		return
	}
	src := -1
	switch f.LogType {
	case TypeKubelet:
		src = hostKubelet
	case TypeContainerd:
		src = hostContainerd
	case TypeJournal:
		src = hostJournal
	case TypeNodeadm:
		src = hostNodeadm
	case TypeDocker:
		src = hostDocker
	case TypeMessages:
		src = hostMessages
	}
	if src >= 0 && s.hosts[src] == "" {
		s.setHost(src, journalHost(head))
	}
}

func firstLine(b []byte) string {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	return strings.TrimSpace(string(b))
}

// journalHost returns the hostname field of the first journal or syslog entry that has a real
// one: early-boot entries say "localhost" until the hostname is set.
func journalHost(head []byte) string {
	for len(head) > 0 {
		i := bytes.IndexByte(head, '\n')
		if i < 0 {
			return "" // a cut line may hold a cut hostname
		}
		line := string(head[:i])
		head = head[i+1:]
		for _, re := range []*regexp.Regexp{journalShort, journalISO} {
			if m := re.FindStringSubmatch(line); m != nil {
				switch m[1] {
				case "localhost", "localhost.localdomain", "(none)":
				default:
					return m[1]
				}
			}
		}
	}
	return ""
}

// detectLayout tells the producer of a bundle from its member names (reference §1).
func detectLayout(rawNames []string, strip string, dotSlash, folder bool, files []File) string {
	has := make(map[string]bool, len(files))
	sectioned := false
	nma := false
	for _, f := range files {
		has[f.Path] = true
		top, rest, ok := strings.Cut(f.Path, "/")
		if !ok {
			continue
		}
		switch top {
		case "kernel", "kubelet", "containerd", "system", "var_log", "ipamd", "networking", "nodeadm", "storage":
			sectioned = true
		}
		if top == "system" && strings.HasPrefix(rest, "pressure_") ||
			top == "networking" && (strings.HasPrefix(rest, "nftables-") || rest == "get_api_server.txt") ||
			top == "automode" || top == "bottlerocket" && strings.HasPrefix(rest, "logdog/") {
			nma = true
		}
	}
	raw := false
	for _, n := range rawNames {
		if n == "bottlerocket-logs/journalctl.log" {
			raw = true
			break
		}
	}
	switch {
	case raw || has["journalctl.log"] && (strip == "bottlerocket-logs" || has["os-release"] || has["logdog.errors"] || has["kube-status"]):
		return LayoutLogdog
	case sectioned:
		switch {
		case dotSlash, strings.HasPrefix(strip, "eks_"), has["system/script-params.txt"]:
			return LayoutCollector
		case nma || !folder:
			return LayoutNMA
		}
		return LayoutFolder
	case folder:
		return LayoutFolder
	}
	return LayoutUnknown
}

// describe fills the bundle's identity: instance, node, capture time and id.
func (e *extractor) describe(abs string, info os.FileInfo, kind sourceKind) {
	m := e.m
	name := baseNoExt(abs)
	names := []string{name, m.TopFolder}

	m.InstanceID = e.opt.InstanceID
	for _, n := range names {
		if m.InstanceID == "" {
			if sm := instanceName.FindStringSubmatch(n); sm != nil {
				m.InstanceID = sm[1]
			}
		}
	}
	if m.InstanceID == "" {
		m.InstanceID = e.meta.instanceFile
	}
	if m.InstanceID == "" {
		m.InstanceID = "unknown"
	}

	m.CaptureTimeSource = "none"
	for _, n := range names {
		if sm := collectorName.FindStringSubmatch(n); sm != nil {
			if t, err := time.Parse("2006-01-02_1504", sm[2]); err == nil {
				m.CaptureTime, m.CaptureTimeSource = t.UTC(), "archive-name"
				break
			}
		}
	}
	if m.CaptureTime.IsZero() {
		// Members stamped in the future (a node with a wrong clock, a crafted archive) would
		// pull every year inference forward; ignore them.
		horizon := time.Now().Add(48 * time.Hour)
		for _, f := range m.Files {
			if f.ModTime.After(m.CaptureTime) && f.ModTime.Before(horizon) {
				m.CaptureTime = f.ModTime
			}
		}
		if !m.CaptureTime.IsZero() {
			m.CaptureTimeSource = "newest-member-mtime"
		}
	}

	if sm := nmaSaveName.FindStringSubmatch(name); sm != nil && name != "bottlerocket-logs" && kind != kindFolder {
		e.meta.setHost(hostArchiveName, sm[1])
	}
	for _, h := range e.meta.hosts {
		if h != "" {
			m.NodeName = h
			break
		}
	}

	size := info.Size()
	if kind == kindFolder {
		size = 0
		for _, f := range m.Files {
			size += f.Size
		}
	}
	m.ID = bundleID(filepath.Base(abs), size, m.CaptureTime)
}

// bundleID names a bundle by its capture time and a hash of its source's name and size, so that
// importing the same archive again finds the bundle it made before.
func bundleID(base string, size int64, capture time.Time) string {
	stamp := "00000000T0000Z"
	if !capture.IsZero() {
		stamp = capture.UTC().Format("20060102T1504Z")
	}
	sum := sha256.Sum256([]byte(base + "\x00" + strconv.FormatInt(size, 10)))
	return stamp + "-" + hex.EncodeToString(sum[:4])
}

// Identity is the store identity of an archive known before it is opened.
type Identity struct{ ID, InstanceID string }

// IdentityFromName returns the id (and instance) Extract will give the archive at path, of size
// bytes, when its name alone decides them: the log collector's eks_<instance>_<YYYY-MM-DD_HHMM>-UTC_…
// names carry both the instance and the capture time. instance, when not empty, overrides the
// name's, as Options.InstanceID does. ok is false for every other name: the capture time then
// comes from the members, and only an import can tell.
func IdentityFromName(path string, size int64, instance string) (Identity, bool) {
	sm := collectorName.FindStringSubmatch(baseNoExt(path))
	if sm == nil {
		return Identity{}, false
	}
	t, err := time.Parse("2006-01-02_1504", sm[2])
	if err != nil {
		return Identity{}, false
	}
	if instance == "" {
		instance = sm[1]
	}
	if instance == "" {
		return Identity{}, false // a hybrid node's: the instance comes from system/instance-id.txt
	}
	return Identity{ID: bundleID(filepath.Base(path), size, t.UTC()), InstanceID: instance}, true
}
