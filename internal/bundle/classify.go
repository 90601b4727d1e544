package bundle

import (
	"path"
	"regexp"
	"strings"
)

// Log types returned by Classify. Searches filter on these names, so they are part of the
// user-facing vocabulary (the SOP's logTypes parameter).
const (
	TypeKubelet      = "kubelet"
	TypeContainerd   = "containerd"
	TypeDocker       = "docker"
	TypeDmesg        = "dmesg"  // kernel ring buffer: raw [seconds] or --ctime
	TypeKernel       = "kernel" // other kernel facts: uname, modinfo, crash artifacts
	TypeMessages     = "messages"
	TypeJournal      = "journal" // a whole mixed journal (logdog journalctl.log)
	TypeSystem       = "system"
	TypeSecurity     = "security"
	TypeNetworking   = "networking"
	TypeStorage      = "storage"
	TypeIPAMD        = "ipamd"
	TypeAWSNode      = "aws-node"
	TypeCoreDNS      = "coredns"
	TypeKubeProxy    = "kube-proxy"
	TypePods         = "pods"
	TypeNodeadm      = "nodeadm"
	TypeConfig       = "config"
	TypeGPU          = "gpu"
	TypeCNI          = "cni"
	TypeSandboxImage = "sandbox-image"
	TypeCloudInit    = "cloud-init"
	TypeOther        = "other"
)

// rule maps a path below a section folder to a log type. Pattern syntax is path.Match, plus
// "**" alone or as the last element to match any remainder.
type rule struct {
	pattern string
	logType string
	log     bool
}

// sections holds the collector/NMA folder names (reference §2.2, §3) and what lives in them.
// Rules are tried in order; the last rule of a section is its catch-all.
var sections = map[string][]rule{
	"kernel": {
		{"dmesg*", TypeDmesg, true},
		{"**", TypeKernel, false},
	},
	"modinfo": {{"**", TypeKernel, false}},
	"system":  {{"**", TypeSystem, false}},
	"docker": {
		{"*.log", TypeDocker, true},
		{"docker", TypeDocker, true}, // /var/log/docker copied on non-systemd hosts
		{"**", TypeDocker, false},
	},
	"containerd": {
		{"containerd-log.txt", TypeContainerd, true},
		{"containerd-config.txt", TypeConfig, false},
		{"containerd*.stacks.log", TypeContainerd, false}, // goroutine dump, not events
		{"soci-snapshotter/*-log.txt", TypeContainerd, true},
		{"soci-snapshotter/config.toml", TypeConfig, false},
		{"**", TypeContainerd, false},
	},
	"sandbox-image": {
		{"*log*", TypeSandboxImage, true},
		{"**", TypeSandboxImage, false},
	},
	"kubelet": {
		{"kubelet.log", TypeKubelet, true},
		{"svc.log", TypeKubelet, false}, // kubectl get svc output despite the name
		{"config.json", TypeConfig, false},
		{"config.json.d/**", TypeConfig, false},
		{"kubelet-config.json", TypeConfig, false},
		{"kubeconfig.yaml", TypeConfig, false},
		{"*_service.txt", TypeConfig, false},
		{"**", TypeKubelet, false},
	},
	"nodeadm": {
		{"udev-net-manager*", TypeNetworking, true},
		{"*.log", TypeNodeadm, true},
		{"**", TypeNodeadm, false},
	},
	"ipamd": {{"**", TypeIPAMD, false}}, // introspection JSON, Prometheus text, checkpoints
	"networking": {
		{"configure-multicard-interfaces.txt", TypeNetworking, true}, // a journal dump
		{"*.log", TypeNetworking, true},
		{"**", TypeNetworking, false},
	},
	"storage": {{"**", TypeStorage, false}},
	"sysctls": {{"**", TypeConfig, false}},
	"cni": {
		{"cni-configuration-variables*", TypeCNI, false},
		{"**", TypeConfig, false}, // copy of /etc/cni/net.d
	},
	"gpu":          {{"**", TypeGPU, false}},
	"automode":     {{"**", TypeSystem, false}},
	"bottlerocket": {{"**", TypeSystem, false}},
	"var_log": {
		{"messages", TypeMessages, true},
		{"syslog", TypeMessages, true},
		{"secure", TypeSecurity, true},
		{"audit/**", TypeSecurity, true},
		{"audit.log", TypeSecurity, true},
		{"dmesg", TypeDmesg, true},
		{"cron", TypeSystem, true},
		{"boot.log", TypeSystem, true},
		{"unattended-upgrades/**", TypeSystem, true},
		{"cloud-init.log", TypeCloudInit, true},
		{"cloud-init-output.log", TypeCloudInit, true},
		{"user-data.log", TypeCloudInit, true},
		{"kube-proxy.log", TypeKubeProxy, true},
		{"aws-routed-eni/**", TypeIPAMD, true},
		{"*_*_*.log", TypePods, true}, // a pod log whose name was cut to 255 chars
		{"pods/**", TypePods, true},
		{"containers/**", TypePods, true},
		{"**", TypeOther, true},
	},
}

// logdogFiles are the flat request outputs of Bottlerocket logdog (reference §4).
var logdogFiles = map[string]rule{
	"journalctl.log":                 {"", TypeJournal, true},
	"journalctl.errors":              {"", TypeJournal, true},
	"journalctl-boots":               {"", TypeSystem, false},
	"dmesg":                          {"", TypeDmesg, true},
	"kube-status":                    {"", TypeKubelet, false},
	"ipamd.log":                      {"", TypeIPAMD, true},
	"plugin.log":                     {"", TypeIPAMD, true},
	"containerd-config":              {"", TypeConfig, false},
	"containerd-config-host":         {"", TypeConfig, false},
	"settings.json":                  {"", TypeConfig, false},
	"docker-daemon.json":             {"", TypeConfig, false},
	"ecs-config.json":                {"", TypeConfig, false},
	"df":                             {"", TypeStorage, false},
	"df-inodes":                      {"", TypeStorage, false},
	"proc-mounts":                    {"", TypeStorage, false},
	"iptables-filter":                {"", TypeNetworking, false},
	"iptables-nat":                   {"", TypeNetworking, false},
	"ip6tables-filter":               {"", TypeNetworking, false},
	"ip6tables-nat":                  {"", TypeNetworking, false},
	"os-release":                     {"", TypeSystem, false},
	"signpost":                       {"", TypeSystem, false},
	"systemd-analyze-blame":          {"", TypeSystem, false},
	"systemd-analyze-critical-chain": {"", TypeSystem, false},
	"systemd-analyze-plot.svg":       {"", TypeSystem, false},
	"logdog.errors":                  {"", TypeSystem, false},
	"docker-info":                    {"", TypeDocker, false},
	"ecs-agent-state.json":           {"", TypeOther, false},
	"ecs-tasks":                      {"", TypeOther, false},
}

// basenameRules classify files found outside any known folder, e.g. a folder a user filled by
// hand. They key on the rotation-stripped base name.
var basenameRules = []rule{
	{"kubelet*.log", TypeKubelet, true},
	{"containerd*.log", TypeContainerd, true},
	{"containerd-log.txt", TypeContainerd, true},
	{"docker*.log", TypeDocker, true},
	{"messages", TypeMessages, true},
	{"syslog", TypeMessages, true},
	{"dmesg*", TypeDmesg, true},
	{"journal*.log", TypeJournal, true},
	{"ipamd*.log", TypeIPAMD, true},
	{"kube-proxy*.log", TypeKubeProxy, true},
	{"cloud-init*.log", TypeCloudInit, true},
	{"nodeadm*.log", TypeNodeadm, true},
	{"secure", TypeSecurity, true},
	{"audit.log", TypeSecurity, true},
	{"*.log", TypeOther, true},
}

var (
	// kubelet's CRI rotation: 0.log.20261119-101010
	rotCRI = regexp.MustCompile(`\.\d{8}-\d{6}$`)
	// logrotate dateext: messages-20261119
	rotDate = regexp.MustCompile(`-\d{8}$`)
	// logrotate numbered: ipamd.log.1
	rotNum = regexp.MustCompile(`\.\d{1,3}$`)
	// lumberjack (VPC CNI): ipamd-2022-03-20T17-48-56.540.log
	rotLumberjack = regexp.MustCompile(`-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}(?:\.\d{3})?(\.[A-Za-z]+)?$`)
)

// compressedExts are stripped before typing: the type of a rotated, compressed log is the type
// of the live one.
var compressedExts = []string{".gz", ".xz", ".bz2", ".zst"}

// StripRotation removes rotation and compression suffixes (".1", "-20261119", ".gz",
// ".20261119-101010", lumberjack's "-2022-03-20T17-48-56.540") from a base name, so that a
// rotated file has the type of the live one.
func StripRotation(name string) string {
	for {
		before := name
		for _, ext := range compressedExts {
			name = strings.TrimSuffix(name, ext)
		}
		if loc := rotLumberjack.FindStringSubmatchIndex(name); loc != nil && loc[0] > 0 {
			ext := ""
			if loc[2] >= 0 {
				ext = name[loc[2]:loc[3]]
			}
			name = name[:loc[0]] + ext
		}
		for _, re := range []*regexp.Regexp{rotCRI, rotDate, rotNum} {
			if loc := re.FindStringIndex(name); loc != nil && loc[0] > 0 {
				name = name[:loc[0]]
			}
		}
		if name == before {
			return name
		}
	}
}

// isArchiveName reports names of archives nested in a bundle (NMA embeds logdog's tarball).
func isArchiveName(name string) bool {
	n := strings.ToLower(name)
	return strings.HasSuffix(n, ".tar.gz") || strings.HasSuffix(n, ".tgz") || strings.HasSuffix(n, ".tar")
}

// Classify says what a bundle file is from its path alone: its log type and whether it is a log
// with per-line events (false for command output, configs and JSON documents). It understands
// the layouts of the EKS log collector and the node monitoring agent (section folders such as
// kubelet/ and var_log/), Bottlerocket logdog (flat names, also nested under
// bottlerocket/logdog/), /var/log-style trees and loose files. Rotation suffixes do not change
// the result. Unknown files are TypeOther.
func Classify(p string) (logType string, isLog bool) {
	p = cleanForMatch(p)
	comps := strings.Split(p, "/")
	name := StripRotation(comps[len(comps)-1])
	comps[len(comps)-1] = name

	if isArchiveName(p) {
		return TypeOther, false
	}
	if info, ok := ParsePodLogPath(p); ok {
		return podLogType(info), true
	}
	for _, c := range comps[:len(comps)-1] {
		if c == "kdump" || c == "pstore" {
			// Crash artifacts; the kernel log saved at crash time is a dmesg.
			if strings.Contains(name, "dmesg") {
				return TypeDmesg, true
			}
			return TypeKernel, false
		}
	}
	for i, c := range comps {
		if c == "bottlerocket-logs" && i < len(comps)-1 {
			return classifyLogdog(comps[i+1:])
		}
		if c == "bottlerocket" && i+3 < len(comps) && comps[i+1] == "logdog" {
			// An NMA bundle's nested logdog archive unpacked under a folder of another name.
			return classifyLogdog(comps[i+3:])
		}
	}
	for i, c := range comps[:len(comps)-1] {
		sec := c
		rest := comps[i+1:]
		if c == "var" && i+1 < len(comps)-1 && comps[i+1] == "log" {
			sec, rest = "var_log", comps[i+2:]
		}
		if rules, ok := sections[sec]; ok {
			if r, ok := matchRules(rules, strings.Join(rest, "/")); ok {
				return r.logType, r.log
			}
		}
	}
	if len(comps) == 1 {
		if r, ok := logdogFiles[name]; ok {
			return r.logType, r.log
		}
	}
	if r, ok := matchRules(basenameRules, name); ok {
		return r.logType, r.log
	}
	return TypeOther, false
}

func classifyLogdog(rest []string) (string, bool) {
	if len(rest) == 1 {
		if r, ok := logdogFiles[rest[0]]; ok {
			return r.logType, r.log
		}
	}
	// logdog's glob requests keep the source path (var/log/..., var/lib/...).
	if len(rest) > 2 && rest[0] == "var" && rest[1] == "log" {
		if r, ok := matchRules(sections["var_log"], strings.Join(rest[2:], "/")); ok {
			return r.logType, r.log
		}
	}
	if r, ok := matchRules(basenameRules, rest[len(rest)-1]); ok {
		return r.logType, r.log
	}
	return TypeOther, false
}

func matchRules(rules []rule, rest string) (rule, bool) {
	for _, r := range rules {
		if matchPattern(r.pattern, rest) {
			return r, true
		}
	}
	return rule{}, false
}

func matchPattern(pattern, p string) bool {
	if pattern == "**" {
		return true
	}
	if prefix, ok := strings.CutSuffix(pattern, "/**"); ok {
		i := strings.Index(p, "/")
		if i < 0 {
			return false
		}
		m, _ := path.Match(prefix, p[:i])
		return m
	}
	m, _ := path.Match(pattern, p)
	return m
}

// cleanForMatch turns a member or stored path into the slash form Classify matches on.
func cleanForMatch(p string) string {
	p = strings.ReplaceAll(p, `\`, "/")
	for {
		q := strings.TrimPrefix(strings.TrimPrefix(p, "./"), "/")
		if q == p {
			break
		}
		p = q
	}
	return path.Clean(p)
}
