// Package kube reads what the Kubernetes API knows about a crash-looping pod — its status, events,
// previous container logs and node — read-only, through client-go.
package kube

import (
	_ "k8s.io/api/core/v1"
	_ "k8s.io/apimachinery/pkg/apis/meta/v1"
	_ "k8s.io/client-go/kubernetes"
	_ "k8s.io/client-go/kubernetes/fake"
	_ "k8s.io/client-go/tools/clientcmd"
)
