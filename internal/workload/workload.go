// Package workload names the owner of a pod — its Deployment, StatefulSet, DaemonSet or Job —
// from the pod's name alone. A node log bundle names pods, never their owners, and a question
// across nodes ("is this crash loop on other nodes too?") is about the workload: the replicas
// of one Deployment have a different pod name on every node.
//
// The controllers name their pods by fixed patterns, which is what Infer reads:
//
//   - a ReplicaSet (a Deployment's) pod: <deployment>-<pod-template-hash>-<5 chars>, the hash
//     6 to 10 characters and the suffix 5, both in the alphabet Kubernetes encodes names with
//     (rand.SafeEncodeString: no vowels, no 0, 1 or 3, so names spell no words);
//   - a StatefulSet pod: <statefulset>-<ordinal>;
//   - a DaemonSet or Job pod: <name>-<5 chars>; the two patterns are the same, so the kind
//     says both; a CronJob's Job is named <cronjob>-<scheduled Unix minute>, so its pods are
//     <cronjob>-<8+ digits>-<5 chars>;
//   - anything else is a bare pod, its own workload.
//
// Every answer of Infer is marked Inferred: a name is evidence of the pattern, not of the owner
// (a bare pod may be called "web-0"). FromReference reads the pod's controller reference, when
// the Kubernetes API gave it, and is not.
package workload

import "strings"

// Kinds of owners.
const (
	Deployment   = "Deployment"
	StatefulSet  = "StatefulSet"
	DaemonSetJob = "DaemonSet/Job" // the two name their pods alike: <name>-<5 chars>
	CronJob      = "CronJob"       // a CronJob's Job is <cronjob>-<scheduled minute>, its pod that and -<5 chars>
	Pod          = "Pod"           // a bare pod: no controller pattern in its name
)

// Owner is the workload a pod belongs to.
type Owner struct {
	Kind string `json:"kind" yaml:"kind"`
	Name string `json:"name" yaml:"name"`
	// Inferred says Kind and Name were read from the pod's name, not from its ownerReferences.
	Inferred bool `json:"inferred" yaml:"inferred"`
}

// String is "Kind/Name".
func (o Owner) String() string { return o.Kind + "/" + o.Name }

// safe is Kubernetes' alphabet for generated name parts (k8s.io/apimachinery/pkg/util/rand
// SafeEncodeString).
const safe = "bcdfghjklmnpqrstvwxz2456789"

// Infer names the workload of the pod from its name.
func Infer(pod string) Owner {
	head, last, ok := cutLast(pod)
	if !ok {
		return Owner{Kind: Pod, Name: pod, Inferred: true}
	}
	if digits(last) {
		return Owner{Kind: StatefulSet, Name: head, Inferred: true}
	}
	if len(last) != 5 || !generated(last) {
		return Owner{Kind: Pod, Name: pod, Inferred: true}
	}
	name, hash, ok := cutLast(head)
	if ok && len(hash) >= 8 && digits(hash) {
		// Unix minutes (8 digits until 2160); a template hash of digits alone is (7/27)^8 rare.
		return Owner{Kind: CronJob, Name: name, Inferred: true}
	}
	if ok && len(hash) >= 6 && len(hash) <= 10 && templateHash(hash) {
		return Owner{Kind: Deployment, Name: name, Inferred: true}
	}
	return Owner{Kind: DaemonSetJob, Name: head, Inferred: true}
}

// cutLast splits "a-b-c" into "a-b" and "c"; both parts must be non-empty.
func cutLast(s string) (head, last string, ok bool) {
	i := strings.LastIndexByte(s, '-')
	if i <= 0 || i == len(s)-1 {
		return "", "", false
	}
	return s[:i], s[i+1:], true
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// generated tells whether every character of s is in the safe alphabet.
func generated(s string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(safe, s[i]) < 0 {
			return false
		}
	}
	return true
}

// templateHash tells whether s reads as a pod-template-hash: in the safe alphabet, or — as
// hand-written manifests and older clusters name ReplicaSets — lowercase letters and digits
// with at least one digit, which a word in a workload's name ("worker", "server") lacks.
func templateHash(s string) bool {
	if generated(s) {
		return true
	}
	digit := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digit = true
		case c < 'a' || c > 'z':
			return false
		}
	}
	return digit
}

// FromReference names the workload of a pod from its controller ownerReference (kind and
// name). A ReplicaSet is its Deployment's, named <deployment>-<pod-template-hash>; a Job named
// <cronjob>-<scheduled minute> is its CronJob's. Anything else is the owner as given.
func FromReference(kind, name string) Owner {
	switch kind {
	case "ReplicaSet":
		if head, hash, ok := cutLast(name); ok && len(hash) >= 6 && len(hash) <= 10 && templateHash(hash) {
			return Owner{Kind: Deployment, Name: head}
		}
	case "Job":
		if head, minute, ok := cutLast(name); ok && len(minute) >= 8 && digits(minute) {
			return Owner{Kind: CronJob, Name: head}
		}
	}
	return Owner{Kind: kind, Name: name}
}
