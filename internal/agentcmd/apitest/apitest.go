// Package apitest is a Kubernetes API server for the capture agent's tests: one node and its pods,
// served to the agent's real client over HTTP — the typed core client's watch-list (or list and
// watch), the node get and events — so that a test runs the agent's command as it runs on a
// node, with a kubeconfig, rather than with a fake clientset.
package apitest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Node and ProviderID are the node the server serves.
const (
	Node       = "ip-10-0-1-23.us-west-2.compute.internal"
	Instance   = "i-0123456789abcdef0"
	ProviderID = "aws:///us-west-2a/" + Instance
)

// Server answers for Node and Pods, and records the pod queries.
type Server struct {
	Pods    []corev1.Pod
	mu      sync.Mutex
	queries []string
}

func (f *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	q := r.URL.Query()
	switch {
	case r.URL.Path == "/api/v1/nodes/"+Node:
		enc.Encode(&corev1.Node{TypeMeta: metav1.TypeMeta{Kind: "Node", APIVersion: "v1"}, ObjectMeta: metav1.ObjectMeta{Name: Node},
			Spec: corev1.NodeSpec{ProviderID: ProviderID}})
	case r.URL.Path == "/api/v1/pods":
		f.mu.Lock()
		f.queries = append(f.queries, r.URL.RawQuery)
		f.mu.Unlock()
		if q.Get("watch") != "true" {
			enc.Encode(&corev1.PodList{TypeMeta: metav1.TypeMeta{Kind: "PodList", APIVersion: "v1"}, ListMeta: metav1.ListMeta{ResourceVersion: "10"}, Items: f.Pods})
			return
		}
		if q.Get("sendInitialEvents") == "true" {
			for i := range f.Pods {
				enc.Encode(map[string]any{"type": "ADDED", "object": &f.Pods[i]})
			}
			enc.Encode(map[string]any{"type": "BOOKMARK", "object": &corev1.Pod{TypeMeta: metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"},
				ObjectMeta: metav1.ObjectMeta{ResourceVersion: "10", Annotations: map[string]string{metav1.InitialEventsAnnotationKey: "true"}}}})
		}
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	case strings.HasSuffix(r.URL.Path, "/events"):
		enc.Encode(&corev1.EventList{TypeMeta: metav1.TypeMeta{Kind: "EventList", APIVersion: "v1"}})
	default:
		http.NotFound(w, r)
	}
}

// PodQueries are the query strings of the pod lists and watches received so far.
func (f *Server) PodQueries() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.queries...)
}

// WriteKubeconfig writes a kubeconfig for the server at url to path.
func WriteKubeconfig(path, url string) error {
	kc := fmt.Sprintf("apiVersion: v1\nkind: Config\nclusters: [{name: fake, cluster: {server: %q}}]\n"+
		"users: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: fake, user: u}}]\ncurrent-context: c\n", url)
	return os.WriteFile(path, []byte(kc), 0o600)
}
