package mcpserver

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/nodediag/nodediag/internal/collect"
	"github.com/nodediag/nodediag/internal/kube"
	"github.com/nodediag/nodediag/internal/store"
	"github.com/nodediag/nodediag/internal/tartest"
)

// exampleFiles reads members of the example archive by name.
func exampleFiles(t *testing.T, names ...string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, m := range tartest.Members(t, exampleArchive) {
		for _, n := range names {
			if strings.TrimPrefix(m.Name, "./") == n {
				out[n] = m.Data
			}
		}
	}
	return out
}

// TestCollectKube: collect(method=kube) on a server allowed to use nodes/proxy finds the node of
// the instance, gathers its journals and syslog through a loopback API server speaking the node
// log query, and answers with an indexed bundle in which the example's OOM kills are found.
func TestCollectKube(t *testing.T) {
	f := newFixture(t)
	files := exampleFiles(t, "kubelet/kubelet.log", "containerd/containerd-log.txt", "var_log/messages")
	const nodeName = "ip-10-0-37-142.us-west-2.compute.internal"
	node := corev1.Node{TypeMeta: metav1.TypeMeta{Kind: "Node", APIVersion: "v1"}, ObjectMeta: metav1.ObjectMeta{Name: nodeName},
		Spec: corev1.NodeSpec{ProviderID: "aws:///us-west-2a/" + f.instance}}
	var queries []string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxy := "/api/v1/nodes/" + nodeName + "/proxy/logs/"
		w.Header().Set("Content-Type", "application/json")
		switch p := r.URL.Path; {
		case p == "/api/v1/nodes":
			_ = json.NewEncoder(w).Encode(corev1.NodeList{TypeMeta: metav1.TypeMeta{Kind: "NodeList", APIVersion: "v1"}, Items: []corev1.Node{node}})
		case p == "/api/v1/nodes/"+nodeName:
			_ = json.NewEncoder(w).Encode(node)
		case p == proxy:
			q := r.URL.Query().Get("query")
			queries = append(queries, q)
			w.Header().Set("Content-Type", "text/plain")
			switch q {
			case "kubelet":
				w.Write(files["kubelet/kubelet.log"])
			case "containerd":
				w.Write(files["containerd/containerd-log.txt"])
			default:
				w.Write([]byte("\noptions present and query resolved to log files for [" + q + "]\ntry without specifying options\n"))
			}
		case p == proxy+"messages":
			w.Header().Set("Content-Type", "text/plain")
			w.Write(files["var_log/messages"])
		case p == "/api/v1/pods":
			_ = json.NewEncoder(w).Encode(corev1.PodList{TypeMeta: metav1.TypeMeta{Kind: "PodList", APIVersion: "v1"}})
		default:
			http.Error(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}`, http.StatusNotFound)
		}
	}))
	t.Cleanup(api.Close)
	client, err := kube.NewClientForConfig(&rest.Config{Host: api.URL})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(t.TempDir(), "store"), nil)
	if err != nil {
		t.Fatal(err)
	}
	col, err := collect.New(st, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	clusters := fakeClusters{name: "prod", client: client}

	refused := &fixture{cs: connect(t, Options{Store: st, Collector: col, Clusters: clusters})}
	if msg := refused.call(t, "collect", map[string]any{"method": "kube", "instanceId": f.instance}, nil, true); !strings.Contains(msg, "--allow-node-proxy") {
		t.Errorf("method kube without --allow-node-proxy: %q", msg)
	}

	f.cs = connect(t, Options{Store: st, Collector: col, Clusters: clusters, AllowNodeProxy: true})
	var co CollectOut
	f.call(t, "collect", map[string]any{"method": "kube", "instanceId": f.instance, "clusterName": "prod"}, &co, false)
	if co.Execution == nil || co.Execution.State != collect.StateCompleted || co.Execution.BundleID == "" || co.Execution.Method != collect.MethodKube {
		t.Fatalf("collect method kube: %+v, want a completed kube collection with a bundle", co.Execution)
	}
	if co.Execution.InstanceID != f.instance || co.Execution.NodeName != nodeName {
		t.Errorf("collected instance %q node %q, want %s on %s", co.Execution.InstanceID, co.Execution.NodeName, f.instance, nodeName)
	}
	if !strings.Contains(strings.Join(queries, ","), "kubelet") || !strings.Contains(strings.Join(queries, ","), "containerd") {
		t.Errorf("node log queries %v, want kubelet and containerd", queries)
	}
	var s SearchOut
	f.call(t, "search", map[string]any{"bundleId": co.Execution.BundleID, "query": "Memory cgroup out of memory"}, &s, false)
	if s.Total == 0 {
		t.Error("the gathered bundle holds no kernel OOM line from /var/log/messages")
	}
	var d DiagnoseOut
	f.call(t, "diagnose_crashloop", map[string]any{"bundleId": co.Execution.BundleID, "namespace": f.truth.Namespace, "pod": f.truth.Pod}, &d, false)
	if d.Class != f.truth.RootCause {
		t.Errorf("diagnosis of the gathered bundle: %q, want %s: %s", d.Class, f.truth.RootCause, d.RootCause)
	}
	if msg := f.call(t, "collect", map[string]any{"method": "kube", "instanceId": "i-0fedcba9876543210"}, nil, true); !strings.Contains(msg, "nodeName") {
		t.Errorf("kube collect of an instance no node names: %q", msg)
	}
}
