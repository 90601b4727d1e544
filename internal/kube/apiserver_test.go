package kube_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nodediag/nodediag/internal/kube"
	"github.com/nodediag/nodediag/internal/kube/kubetest"
)

// apiServer speaks the API server's wire protocol on loopback for what the client calls over
// HTTP: legacy discovery of the core group, pods get and list, and the pod log subresource
// with its real query parameters, which the fake clientset cannot show.
type apiServer struct {
	pods     map[string]*corev1.Pod
	logLines []string // every line of every container's log, each ending in "\n"
	reject   bool     // answer 401 to everything, as for an expired token

	mu          sync.Mutex
	logQueries  []url.Values
	listQueries []url.Values
}

func (s *apiServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.reject {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_ = json.NewEncoder(w).Encode(metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: "Failure", Reason: metav1.StatusReasonUnauthorized, Code: 401, Message: "Unauthorized"})
		return
	}
	send := func(v any) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	p := r.URL.Path
	switch {
	case p == "/api":
		send(metav1.APIVersions{TypeMeta: metav1.TypeMeta{Kind: "APIVersions"}, Versions: []string{"v1"}})
	case p == "/apis":
		send(metav1.APIGroupList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"}})
	case p == "/api/v1":
		l := kubetest.Discovery()[0]
		l.Kind = "APIResourceList"
		send(l)
	case p == "/api/v1/namespaces/shop/pods":
		s.mu.Lock()
		s.listQueries = append(s.listQueries, r.URL.Query())
		s.mu.Unlock()
		five := int64(5)
		list := corev1.PodList{TypeMeta: metav1.TypeMeta{Kind: "PodList", APIVersion: "v1"}, ListMeta: metav1.ListMeta{Continue: "page-2", RemainingItemCount: &five}}
		for _, pod := range s.pods {
			list.Items = append(list.Items, *pod)
		}
		send(list)
	case strings.HasPrefix(p, "/api/v1/namespaces/shop/pods/"):
		name, sub, _ := strings.Cut(strings.TrimPrefix(p, "/api/v1/namespaces/shop/pods/"), "/")
		pod, ok := s.pods[name]
		if !ok {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_ = json.NewEncoder(w).Encode(metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: "Failure", Reason: metav1.StatusReasonNotFound, Code: 404, Message: fmt.Sprintf("pods %q not found", name)})
			return
		}
		if sub == "" {
			send(pod)
			return
		}
		q := r.URL.Query()
		s.mu.Lock()
		s.logQueries = append(s.logQueries, q)
		s.mu.Unlock()
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte(serveLog(s.logLines, q)))
	default:
		http.NotFound(w, r)
	}
}

// serveLog applies tailLines then limitBytes as the kubelet does.
func serveLog(lines []string, q url.Values) string {
	if n, err := strconv.Atoi(q.Get("tailLines")); err == nil && n < len(lines) {
		lines = lines[len(lines)-n:]
	}
	text := strings.Join(lines, "")
	if n, err := strconv.Atoi(q.Get("limitBytes")); err == nil && n < len(text) {
		text = text[:n]
	}
	return text
}

// kubeconfig writes a kubeconfig whose one context points at server.
func kubeconfig(t *testing.T, server string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config")
	kc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: test
  cluster: {server: %q}
users:
- name: u
  user: {token: "t"}
contexts:
- name: test
  context: {cluster: test, user: u}
current-context: test
`, server)
	if err := os.WriteFile(path, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// logLines builds n lines of 10 bytes each, so byte limits translate into line counts.
func logLines(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("line %04d\n", i)
	}
	return out
}

func serverClient(t *testing.T, s *apiServer) (*kube.Client, string) {
	t.Helper()
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	c, err := kube.NewClusters(kubeconfig(t, srv.URL)).Client(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	return c, srv.URL
}

func TestPodLogs(t *testing.T) {
	c := newCluster()
	fresh := c.healthy.DeepCopy()
	fresh.Name = "fresh-1"
	lines := logLines(300)
	const lineLen = 10
	tests := []struct {
		name      string
		req       kube.LogsRequest
		wantQuery map[string]string // "" value: parameter absent
		wantText  string
		truncated bool
		wantErr   string
	}{
		{name: "defaults pick the crash-looping container",
			req:       kube.LogsRequest{Pod: "api-1"},
			wantQuery: map[string]string{"container": "api", "tailLines": strconv.Itoa(kube.DefaultTailLines), "limitBytes": strconv.Itoa(kube.DefaultLogBytes + 1), "previous": "", "sinceSeconds": ""},
			wantText:  strings.Join(lines[len(lines)-kube.DefaultTailLines:], "")},
		{name: "previous since a minute",
			req:       kube.LogsRequest{Pod: "api-1", Previous: true, SinceSeconds: 60, TailLines: 20},
			wantQuery: map[string]string{"previous": "true", "sinceSeconds": "60", "tailLines": "20"},
			wantText:  strings.Join(lines[len(lines)-20:], "")},
		{name: "byte limit cuts at the last whole line",
			req:       kube.LogsRequest{Pod: "api-1", LimitBytes: 55},
			wantQuery: map[string]string{"limitBytes": "56"},
			wantText:  strings.Join(lines[len(lines)-kube.DefaultTailLines:][:55/lineLen], ""), truncated: true},
		{name: "a log exactly at the limit is whole",
			req:       kube.LogsRequest{Pod: "api-1", TailLines: 3, LimitBytes: 3 * lineLen},
			wantQuery: map[string]string{"limitBytes": strconv.Itoa(3*lineLen + 1)},
			wantText:  strings.Join(lines[len(lines)-3:], "")},
		{name: "byte limit capped at 1 MiB, tail beyond the log",
			req:       kube.LogsRequest{Pod: "api-1", LimitBytes: 5 << 20, TailLines: 1000},
			wantQuery: map[string]string{"limitBytes": strconv.Itoa(kube.MaxLogBytes + 1), "tailLines": "1000"},
			wantText:  strings.Join(lines, "")},
		{name: "named container", req: kube.LogsRequest{Pod: "fresh-1", Container: "proxy"},
			wantQuery: map[string]string{"container": "proxy"}, wantText: strings.Join(lines[len(lines)-kube.DefaultTailLines:], "")},
		{name: "no previous instance", req: kube.LogsRequest{Pod: "fresh-1", Container: "web", Previous: true},
			wantErr: "no previous terminated instance of container web in pod shop/fresh-1; restartCount 0"},
		{name: "unknown container", req: kube.LogsRequest{Pod: "api-1", Container: "nope"}, wantErr: `no container "nope"`},
		{name: "missing pod", req: kube.LogsRequest{Pod: "absent"}, wantErr: "get pod shop/absent"},
		{name: "negative tail", req: kube.LogsRequest{Pod: "api-1", TailLines: -1}, wantErr: "tailLines -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &apiServer{pods: map[string]*corev1.Pod{"api-1": c.crashing, "fresh-1": fresh}, logLines: lines}
			client, _ := serverClient(t, s)
			tt.req.Namespace = "shop"
			res, err := client.PodLogs(context.Background(), tt.req)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(s.logQueries) != 1 {
				t.Fatalf("%d log requests, want 1", len(s.logQueries))
			}
			for k, want := range tt.wantQuery {
				if got := s.logQueries[0].Get(k); got != want {
					t.Errorf("query %s=%q, want %q (query %s)", k, got, want, s.logQueries[0].Encode())
				}
			}
			if res.Text != tt.wantText || res.Truncated != tt.truncated || res.Lines != strings.Count(tt.wantText, "\n") {
				t.Errorf("text %d bytes, %d lines, truncated %t; want %d bytes, %d lines, truncated %t",
					len(res.Text), res.Lines, res.Truncated, len(tt.wantText), strings.Count(tt.wantText, "\n"), tt.truncated)
			}
			if res.Previous != tt.req.Previous || res.Container != s.logQueries[0].Get("container") {
				t.Errorf("result says container %q previous %t; asked %q previous %t", res.Container, res.Previous, s.logQueries[0].Get("container"), tt.req.Previous)
			}
		})
	}
}

// TestListOverTheWire checks what the fakes cannot: the page size sent, and the continue token
// and remaining count read back.
func TestListOverTheWire(t *testing.T) {
	c := newCluster()
	tests := []struct {
		limit     int64
		wantLimit string
	}{{0, strconv.Itoa(kube.DefaultListLimit)}, {7, "7"}, {100000, strconv.Itoa(kube.MaxListLimit)}}
	for _, tt := range tests {
		s := &apiServer{pods: map[string]*corev1.Pod{"api-1": c.crashing}}
		client, _ := serverClient(t, s)
		res, err := client.ListResources(context.Background(), kube.ListRequest{Kind: "po", Namespace: "shop", Limit: tt.limit, Continue: "page-1"})
		if err != nil {
			t.Fatal(err)
		}
		q := s.listQueries[0]
		if q.Get("limit") != tt.wantLimit || q.Get("continue") != "page-1" {
			t.Errorf("limit %d: query %s, want limit=%s continue=page-1", tt.limit, q.Encode(), tt.wantLimit)
		}
		// The server holds 5 more than the one pod it sent.
		if res.Continue != "page-2" || res.Total == nil || *res.Total != 6 || len(res.Items) != 1 {
			t.Errorf("limit %d: continue %q total %v items %d; want page-2, 6, 1", tt.limit, res.Continue, res.Total, len(res.Items))
		}
	}
}

func TestUnreachable(t *testing.T) {
	c := newCluster()
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	rejecting := httptest.NewServer(&apiServer{reject: true})
	defer rejecting.Close()

	tests := []struct {
		name, server, want string
		call               func(*kube.Client) error
	}{
		{"list on a closed port", closedURL, "check the kubeconfig context, VPN", func(k *kube.Client) error {
			_, err := k.ListResources(context.Background(), kube.ListRequest{Kind: "pods"})
			return err
		}},
		{"logs on a closed port", closedURL, "check the kubeconfig context, VPN", func(k *kube.Client) error {
			_, err := k.PodLogs(context.Background(), kube.LogsRequest{Namespace: "shop", Pod: c.crashing.Name})
			return err
		}},
		{"nodes with rejected credentials", rejecting.URL, "rejected the credentials", func(k *kube.Client) error {
			_, err := k.NodeConditions(context.Background())
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := kube.NewClusters(kubeconfig(t, tt.server)).Client(context.Background(), "test")
			if err != nil {
				t.Fatal(err)
			}
			err = tt.call(k)
			if !errors.Is(err, kube.ErrUnreachable) || !strings.Contains(err.Error(), tt.server) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v: want ErrUnreachable naming %s and %q", err, tt.server, tt.want)
			}
		})
	}
}
