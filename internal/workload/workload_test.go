package workload

import "testing"

func TestInfer(t *testing.T) {
	for _, c := range []struct{ pod, kind, name string }{
		{"checkout-7d9f8b6c4d-x2x9k", Deployment, "checkout"},
		{"etl-worker-6b8d5f7c9-kq4zt", Deployment, "etl-worker"},
		{"coredns-6b9575c64c-8xk2p", Deployment, "coredns"},
		// A hash outside the safe alphabet, as a hand-named ReplicaSet has: still a hash,
		// because it holds a digit.
		{"billing-6d5c4b3a2-k9l8j", Deployment, "billing"},
		{"ledger-0", StatefulSet, "ledger"},
		{"kafka-broker-12", StatefulSet, "kafka-broker"},
		{"aws-node-7fqz2", DaemonSetJob, "aws-node"},
		{"backup-28846575-x8k2p", CronJob, "backup"},
		// The word before the suffix has vowels: not a hash, so the pod is a DaemonSet's or Job's.
		{"log-shipper-zz2bq", DaemonSetJob, "log-shipper"},
		{"report-server-x2x9k", DaemonSetJob, "report-server"},
		// A suffix with a vowel or of another length is no generated name.
		{"debug-shell", Pod, "debug-shell"},
		{"nginx", Pod, "nginx"},
		{"web-abcde", Pod, "web-abcde"},
		{"-x2x9k", Pod, "-x2x9k"},
		{"web-", Pod, "web-"},
	} {
		got := Infer(c.pod)
		if got.Kind != c.kind || got.Name != c.name || !got.Inferred {
			t.Errorf("Infer(%q) = %+v, want %s/%s inferred", c.pod, got, c.kind, c.name)
		}
	}
}

func TestFromReference(t *testing.T) {
	for _, c := range []struct{ kind, name, wantKind, wantName string }{
		{"ReplicaSet", "checkout-7d9f8b6c4d", Deployment, "checkout"},
		{"ReplicaSet", "handmade", "ReplicaSet", "handmade"}, // no hash: a ReplicaSet of its own
		{"Job", "backup-28846575", CronJob, "backup"},
		{"Job", "migrate", "Job", "migrate"},
		{"DaemonSet", "aws-node", "DaemonSet", "aws-node"},
		{"StatefulSet", "ledger", StatefulSet, "ledger"},
	} {
		got := FromReference(c.kind, c.name)
		if got.Kind != c.wantKind || got.Name != c.wantName || got.Inferred {
			t.Errorf("FromReference(%s, %s) = %+v, want %s/%s from Kubernetes", c.kind, c.name, got, c.wantKind, c.wantName)
		}
	}
}
