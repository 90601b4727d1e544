package kube

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// contextsKubeconfig holds the context spellings found in the field: a plain one (current),
// an `aws eks update-kubeconfig` ARN, two eksctl users of one cluster, and two ARNs of
// different clusters that share a short name in two regions.
const contextsKubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: dev-cluster
  cluster: {server: "https://dev.example:443"}
- name: arn:aws:eks:us-west-2:111122223333:cluster/prod
  cluster: {server: "https://prod.example:443"}
- name: staging.us-east-1.eksctl.io
  cluster: {server: "https://staging.example:443"}
- name: arn:aws:eks:eu-west-1:111122223333:cluster/shared
  cluster: {server: "https://shared-eu.example:443"}
- name: arn:aws:eks:us-east-1:111122223333:cluster/shared
  cluster: {server: "https://shared-us.example:443"}
users:
- name: u
  user: {token: "t"}
contexts:
- name: dev
  context: {cluster: dev-cluster, user: u}
- name: arn:aws:eks:us-west-2:111122223333:cluster/prod
  context: {cluster: "arn:aws:eks:us-west-2:111122223333:cluster/prod", user: u}
- name: bob@staging.us-east-1.eksctl.io
  context: {cluster: staging.us-east-1.eksctl.io, user: u}
- name: alice@staging.us-east-1.eksctl.io
  context: {cluster: staging.us-east-1.eksctl.io, user: u}
- name: ops-eu
  context: {cluster: "arn:aws:eks:eu-west-1:111122223333:cluster/shared", user: u}
- name: ops-us
  context: {cluster: "arn:aws:eks:us-east-1:111122223333:cluster/shared", user: u}
current-context: dev
`

func writeKubeconfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestResolveContext(t *testing.T) {
	cfg, err := clientcmd.Load([]byte(contextsKubeconfig))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, cluster, want string
		errHas              []string
	}{
		{"empty: current context", "", "dev", nil},
		{"context name", "dev", "dev", nil},
		{"cluster entry name", "dev-cluster", "dev", nil},
		{"EKS ARN", "prod", "arn:aws:eks:us-west-2:111122223333:cluster/prod", nil},
		{"the ARN itself is a context name", "arn:aws:eks:us-west-2:111122223333:cluster/prod", "arn:aws:eks:us-west-2:111122223333:cluster/prod", nil},
		{"eksctl: two users of one cluster, first by name", "staging", "alice@staging.us-east-1.eksctl.io", nil},
		{"eksctl cluster entry", "staging.us-east-1.eksctl.io", "alice@staging.us-east-1.eksctl.io", nil},
		{"ambiguous across regions", "shared", "", []string{"ambiguous", "ops-eu", "ops-us"}},
		{"an ARN suffix is not a name", "rod", "", []string{`cluster "rod"`, "dev (cluster dev-cluster)"}},
		{"missing lists the contexts", "qa", "", []string{"bob@staging.us-east-1.eksctl.io (cluster staging.us-east-1.eksctl.io)", "ops-us"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ResolveContext(cfg, tt.cluster)
			if tt.errHas != nil {
				if !errors.Is(err, ErrNoContext) {
					t.Fatalf("got %q, %v; want ErrNoContext", got, err)
				}
				for _, s := range tt.errHas {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q lacks %q", err, s)
					}
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ResolveContext(%q) = %q, %v; want %q", tt.cluster, got, err, tt.want)
			}
		})
	}
	// Among contexts of one cluster, the current one wins.
	cfg.CurrentContext = "bob@staging.us-east-1.eksctl.io"
	if got, err := ResolveContext(cfg, "staging"); err != nil || got != cfg.CurrentContext {
		t.Errorf("with bob current: %q, %v", got, err)
	}
	cfg.CurrentContext = ""
	if _, err := ResolveContext(cfg, ""); !errors.Is(err, ErrNoContext) {
		t.Errorf("no current context: %v", err)
	}
}

func TestNamesCluster(t *testing.T) {
	tests := []struct {
		name, cluster string
		want          bool
	}{
		{"arn:aws:eks:us-west-2:1:cluster/prod", "prod", true},
		{"arn:aws:eks:us-west-2:1:cluster/prod", "rod", false},
		{"arn:aws:eks:us-west-2:1:cluster/prod-2", "prod", false},
		{"alice@prod.us-west-2.eksctl.io", "prod", true},
		{"prod.us-west-2.eksctl.io", "prod", true},
		{"alice@prod.us-west-2.eksctl.io", "us-west-2", false},
		{"alice@prod", "prod", false},
		{"prod", "prod", false}, // plain names are matched by equality, not here
	}
	for _, tt := range tests {
		if got := namesCluster(tt.name, tt.cluster); got != tt.want {
			t.Errorf("namesCluster(%q, %q) = %t, want %t", tt.name, tt.cluster, got, tt.want)
		}
	}
}

func TestClustersClient(t *testing.T) {
	cs := NewClusters(writeKubeconfig(t, contextsKubeconfig))
	ctx := context.Background()
	prod, err := cs.Client(ctx, "prod")
	if err != nil {
		t.Fatal(err)
	}
	if prod.Host() != "https://prod.example:443" {
		t.Errorf("prod host %q", prod.Host())
	}
	// Cached per resolved context: the short name and the context name share one client, also
	// when asked concurrently.
	var wg sync.WaitGroup
	got := make([]*Client, 16)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := "prod"
			if i%2 == 1 {
				name = "arn:aws:eks:us-west-2:111122223333:cluster/prod"
			}
			got[i], _ = cs.Client(ctx, name)
		}()
	}
	wg.Wait()
	for i, c := range got {
		if c != prod {
			t.Errorf("call %d got another client", i)
		}
	}
	if dev, err := cs.Client(ctx, ""); err != nil || dev == prod || dev.Host() != "https://dev.example:443" {
		t.Errorf("current context: %v, %v", dev, err)
	}
	if _, err := cs.Client(ctx, "shared"); !errors.Is(err, ErrNoContext) {
		t.Errorf("ambiguous: %v", err)
	}
	if _, err := NewClusters(filepath.Join(t.TempDir(), "absent")).Client(ctx, ""); err == nil {
		t.Error("an explicit kubeconfig that does not exist was accepted")
	}
}

func TestClustersInCluster(t *testing.T) {
	// No kubeconfig anywhere: the in-cluster config decides.
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "none"))
	t.Setenv("HOME", t.TempDir())
	tests := []struct {
		name     string
		inPod    func() (*rest.Config, error)
		wantHost string
		wantErr  string
	}{
		{"in a pod", func() (*rest.Config, error) { return &rest.Config{Host: "https://10.100.0.1:443"}, nil }, "https://10.100.0.1:443", ""},
		{"not in a pod", func() (*rest.Config, error) { return nil, rest.ErrNotInCluster }, "", "no kubeconfig context"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := NewClusters("")
			cs.inCluster = tt.inPod
			c, err := cs.Client(context.Background(), "prod")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, rest.ErrNotInCluster) {
					t.Fatalf("err %v, want %q wrapping ErrNotInCluster", err, tt.wantErr)
				}
				return
			}
			if err != nil || c.Host() != tt.wantHost {
				t.Fatalf("client %v, %v; want host %s", c, err, tt.wantHost)
			}
		})
	}
}

func TestClustersFrom(t *testing.T) {
	want := NewClientFrom(nil)
	cs := NewClustersFrom(func(name string) (*Client, error) {
		if name != "fake" {
			return nil, errors.New("only fake")
		}
		return want, nil
	})
	if c, err := cs.Client(context.Background(), "fake"); err != nil || c != want {
		t.Errorf("fake: %v, %v", c, err)
	}
	if _, err := cs.Client(context.Background(), "other"); err == nil {
		t.Error("the function's error was lost")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := cs.Client(ctx, "fake"); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled context: %v", err)
	}
}
