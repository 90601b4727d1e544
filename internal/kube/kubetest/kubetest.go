// Package kubetest builds a kube.Client on client-go fakes — a typed clientset, a dynamic client
// and a discovery that lists the built-in kinds — holding the same objects, so that tests of
// the packages above kube (the MCP server, the CLI) read a cluster without one.
package kubetest

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/kubernetes/scheme"
	metadatafake "k8s.io/client-go/metadata/fake"

	"github.com/nodediag/nodediag/internal/kube"
)

// res is one discovery entry.
func res(name, singular, kind string, namespaced bool, short ...string) metav1.APIResource {
	return metav1.APIResource{Name: name, SingularName: singular, Kind: kind, Namespaced: namespaced, ShortNames: short,
		Verbs: metav1.Verbs{"get", "list", "watch"}}
}

// Discovery is what a real API server's discovery says of the kinds a crash diagnosis reads,
// with their plural, singular and short names as kubectl knows them. events.k8s.io is listed
// too, so that "events" resolving to core v1 is tested against a real ambiguity.
func Discovery() []*metav1.APIResourceList {
	return []*metav1.APIResourceList{
		{GroupVersion: "v1", APIResources: []metav1.APIResource{
			res("pods", "pod", "Pod", true, "po"),
			res("pods/log", "", "Pod", true),
			res("nodes", "node", "Node", false, "no"),
			res("events", "event", "Event", true, "ev"),
			res("secrets", "secret", "Secret", true),
			res("configmaps", "configmap", "ConfigMap", true, "cm"),
			res("services", "service", "Service", true, "svc"),
			res("namespaces", "namespace", "Namespace", false, "ns"),
			res("serviceaccounts", "serviceaccount", "ServiceAccount", true, "sa"),
			res("persistentvolumeclaims", "persistentvolumeclaim", "PersistentVolumeClaim", true, "pvc"),
		}},
		{GroupVersion: "apps/v1", APIResources: []metav1.APIResource{
			res("deployments", "deployment", "Deployment", true, "deploy"),
			res("replicasets", "replicaset", "ReplicaSet", true, "rs"),
			res("statefulsets", "statefulset", "StatefulSet", true, "sts"),
			res("daemonsets", "daemonset", "DaemonSet", true, "ds"),
		}},
		{GroupVersion: "batch/v1", APIResources: []metav1.APIResource{
			res("jobs", "job", "Job", true),
			res("cronjobs", "cronjob", "CronJob", true, "cj"),
		}},
		{GroupVersion: "events.k8s.io/v1", APIResources: []metav1.APIResource{
			res("events", "event", "Event", true, "ev"),
		}},
	}
}

// Fakes is a client on fakes and the fakes behind it, for reactors and for checking the
// actions a call made.
type Fakes struct {
	Client    *kube.Client
	Clientset *fake.Clientset
	Dynamic   *dynamicfake.FakeDynamicClient
	Metadata  *metadatafake.FakeMetadataClient // what Secrets are listed from
}

// New returns a client whose typed clientset and dynamic client both hold objects (typed API
// objects: *corev1.Pod, *appsv1.Deployment…) and whose discovery lists Discovery(). The fake
// clientset serves "fake logs" for any pod log.
func New(objects ...runtime.Object) *Fakes {
	typed := make([]runtime.Object, len(objects))
	dyn := make([]runtime.Object, len(objects))
	for i, o := range objects {
		// Each fake keeps its own tracker; copies keep one from seeing the other's writes.
		typed[i], dyn[i] = o.DeepCopyObject(), o.DeepCopyObject()
	}
	cs := fake.NewClientset(typed...)
	cs.Resources = Discovery()
	d := dynamicfake.NewSimpleDynamicClient(scheme.Scheme, dyn...)
	m := metadatafake.NewSimpleMetadataClient(metadataScheme(), metadataOnly(objects)...)
	return &Fakes{Client: kube.NewClientWith(cs, d).WithMetadata(m), Clientset: cs, Dynamic: d, Metadata: m}
}

// metadataScheme knows PartialObjectMetadata, the only type the metadata API answers with.
func metadataScheme() *runtime.Scheme {
	s := metadatafake.NewTestScheme()
	_ = metav1.AddMetaToScheme(s)
	return s
}

// metadataOnly is what the metadata API holds of the objects: their kind and metadata.
func metadataOnly(objects []runtime.Object) []runtime.Object {
	var out []runtime.Object
	for _, o := range objects {
		acc, err := meta.Accessor(o)
		if err != nil {
			continue
		}
		kinds, _, err := scheme.Scheme.ObjectKinds(o)
		if err != nil || len(kinds) == 0 {
			continue
		}
		pm := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Name: acc.GetName(), Namespace: acc.GetNamespace(),
			Labels: acc.GetLabels(), CreationTimestamp: acc.GetCreationTimestamp(), UID: acc.GetUID()}}
		pm.SetGroupVersionKind(kinds[0])
		out = append(out, pm)
	}
	return out
}
