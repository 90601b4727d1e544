// Package chart tests the Helm chart in charts/nodediag: it renders the chart with Helm's own
// loader and template engine (no cluster, no helm binary), decodes every object strictly with
// client-go's scheme, and holds what it renders to the README's permission list, to the image's
// paths and port, and to the flags serve really has.
package chart

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/lint"
	"helm.sh/helm/v4/pkg/chart/v2/lint/support"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/engine"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"

	"github.com/nodediag/nodediag/internal/agentcmd"
	"github.com/nodediag/nodediag/internal/cli"
	"github.com/nodediag/nodediag/internal/image"
	"github.com/nodediag/nodediag/internal/mcpserver"
)

var update = flag.Bool("update", false, "rewrite testdata/default.golden.yaml from the chart")

const (
	chartDir  = "../../charts/nodediag"
	readme    = "../../README.md"
	release   = "nodediag"
	namespace = "diag"
	// A fixed token for renderings that are compared byte for byte: the chart otherwise makes a
	// random one.
	fixedToken = "0123456789abcdef0123456789abcdef"
)

// strict decodes the kinds client-go knows and fails on any field those types lack.
var strict = serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict).UniversalDeserializer()

// serviceMonitor is the part of monitoring.coreos.com/v1 ServiceMonitor the chart writes; client-go
// has no type for it, and decoding with DisallowUnknownFields catches a misspelled field.
type serviceMonitor struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        metav1.ObjectMeta `json:"metadata"`
	Spec            struct {
		Selector  metav1.LabelSelector `json:"selector"`
		Endpoints []struct {
			Port          string `json:"port"`
			Path          string `json:"path"`
			Interval      string `json:"interval"`
			Authorization *struct {
				Type        string                   `json:"type"`
				Credentials corev1.SecretKeySelector `json:"credentials"`
			} `json:"authorization"`
		} `json:"endpoints"`
	} `json:"spec"`
}

// rendering is one rendering of the chart, each object decoded.
type rendering struct {
	vals     map[string]any
	text     string // the manifests, in the order helm would print them
	notes    string
	objects  []runtime.Object
	monitors []serviceMonitor
}

func loadChart(t *testing.T) *chartv2.Chart {
	t.Helper()
	c, err := loader.Load(chartDir)
	if err != nil {
		t.Fatalf("loading the chart: %v", err)
	}
	return c
}

// renderChart renders the chart with vals over values.yaml, as `helm template` would, or returns
// the error the chart's templates fail with.
func renderChart(t *testing.T, vals map[string]any) (*rendering, error) {
	t.Helper()
	c := loadChart(t)
	top, err := util.ToRenderValues(c, vals, common.ReleaseOptions{Name: release, Namespace: namespace, IsInstall: true, Revision: 1}, nil)
	if err != nil {
		return nil, err
	}
	// Strict: a template reading a value values.yaml does not have is an error, not "".
	out, err := engine.Engine{Strict: true}.Render(c, top)
	if err != nil {
		return nil, err
	}
	r := &rendering{vals: vals}
	names := make([]string, 0, len(out))
	for name := range out {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		switch {
		case strings.HasSuffix(name, "NOTES.txt"):
			r.notes = out[name]
			continue
		case !strings.HasSuffix(name, ".yaml"):
			continue
		}
		for _, doc := range strings.Split(out[name], "\n---") {
			if !hasContent(doc) {
				continue
			}
			r.text += "---\n# Source: " + name + "\n" + strings.TrimLeft(doc, "\n") + "\n"
			r.decode(t, name, doc)
		}
	}
	return r, nil
}

// hasContent says whether a YAML document holds more than blank lines and comments.
func hasContent(doc string) bool {
	for _, l := range strings.Split(doc, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			return true
		}
	}
	return false
}

func (r *rendering) decode(t *testing.T, name, doc string) {
	t.Helper()
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
		t.Fatalf("%s: not YAML: %v\n%s", name, err, doc)
	}
	if tm.APIVersion == "monitoring.coreos.com/v1" && tm.Kind == "ServiceMonitor" {
		js, err := yaml.YAMLToJSON([]byte(doc))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		dec := json.NewDecoder(bytes.NewReader(js))
		dec.DisallowUnknownFields()
		var sm serviceMonitor
		if err := dec.Decode(&sm); err != nil {
			t.Fatalf("%s: ServiceMonitor: %v\n%s", name, err, doc)
		}
		r.monitors = append(r.monitors, sm)
		return
	}
	obj, _, err := strict.Decode([]byte(doc), nil, nil)
	if err != nil {
		t.Fatalf("%s: strict decoding: %v\n%s", name, err, doc)
	}
	r.objects = append(r.objects, obj)
}

func mustRender(t *testing.T, vals map[string]any) *rendering {
	t.Helper()
	r, err := renderChart(t, vals)
	if err != nil {
		t.Fatalf("rendering with %v: %v", vals, err)
	}
	return r
}

func find[T runtime.Object](r *rendering) []T {
	var out []T
	for _, o := range r.objects {
		if v, ok := o.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

func one[T runtime.Object](t *testing.T, r *rendering) T {
	t.Helper()
	all := find[T](r)
	if len(all) != 1 {
		var zero T
		t.Fatalf("want one %T, rendered %d", zero, len(all))
	}
	return all[0]
}

func kinds(r *rendering) []string {
	var k []string
	for _, o := range r.objects {
		k = append(k, o.GetObjectKind().GroupVersionKind().Kind)
	}
	for range r.monitors {
		k = append(k, "ServiceMonitor")
	}
	sort.Strings(k)
	return k
}

// permission is one verb on one resource: a core one by its name, another group's as
// group/resource.
type permission struct{ verb, resource string }

// readmePermissions reads the README's Kubernetes permission bullet: each clause (between ';' or
// '. ') names its verbs in backquotes before " on " and, right after it, its resources as a run of
// backquoted names joined by commas and "and"; a clause whose run is followed by "only" is
// conditional. "the kinds you want" end the run: they are rbac.extraResources.
func readmePermissions(t *testing.T) (always, optional []permission) {
	t.Helper()
	return readmeBullet(t, "- **Kubernetes**")
}

// readmeBullet reads the permissions of the README's bullet that starts with prefix.
func readmeBullet(t *testing.T, prefix string) (always, optional []permission) {
	t.Helper()
	raw, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	var bullet string
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, prefix) {
			bullet = l
			continue
		}
		if bullet != "" {
			if !strings.HasPrefix(l, "  ") {
				break
			}
			bullet += " " + strings.TrimSpace(l)
		}
	}
	if bullet == "" {
		t.Fatalf("README has no %q permission bullet", prefix)
	}
	quoted := regexp.MustCompile("`([^`]+)`")
	run := regexp.MustCompile("^\\s*(?:`[^`]+`(?:,\\s*|\\s+and\\s+)?)+")
	for _, clause := range regexp.MustCompile(`;|\. `).Split(bullet, -1) {
		before, after, ok := strings.Cut(clause, " on ")
		if !ok {
			continue
		}
		names := run.FindString(after)
		conditional := strings.HasPrefix(strings.TrimSpace(after[len(names):]), "only ")
		var verbs, resources []string
		for _, m := range quoted.FindAllStringSubmatch(before, -1) {
			verbs = append(verbs, m[1])
		}
		for _, m := range quoted.FindAllStringSubmatch(names, -1) {
			resources = append(resources, m[1])
		}
		for _, v := range verbs {
			for _, res := range resources {
				if conditional {
					optional = append(optional, permission{v, res})
				} else {
					always = append(always, permission{v, res})
				}
			}
		}
	}
	if len(always) == 0 {
		t.Fatalf("no permissions read from the README's bullet: %s", bullet)
	}
	return always, optional
}

// granted flattens a ClusterRole's rules into verb/resource pairs of the core group, and the
// others into "group/resource".
func granted(cr *rbacv1.ClusterRole) []permission {
	var out []permission
	for _, rule := range cr.Rules {
		for _, g := range rule.APIGroups {
			for _, res := range rule.Resources {
				if g != "" {
					res = g + "/" + res
				}
				for _, v := range rule.Verbs {
					out = append(out, permission{v, res})
				}
			}
		}
	}
	return out
}

func sortPerms(p []permission) []permission {
	p = slices.Clone(p)
	slices.SortFunc(p, func(a, b permission) int {
		return strings.Compare(a.resource+" "+a.verb, b.resource+" "+b.verb)
	})
	return slices.Compact(p)
}

// optionOf is the value that grants each of the README's conditional permissions.
var optionOf = map[permission]func(v values) bool{
	{"list", "secrets"}:    func(v values) bool { return v.bool("rbac", "listSecrets") },
	{"get", "nodes/proxy"}: func(v values) bool { return v.bool("collect", "allowNodeProxy") },
}

// values reads the effective values of a rendering: values.yaml with the test's on top.
type values map[string]any

func effective(t *testing.T, vals map[string]any) values {
	t.Helper()
	c := loadChart(t)
	merged, err := util.CoalesceValues(c, vals)
	if err != nil {
		t.Fatal(err)
	}
	return values(merged)
}

func (v values) get(path ...string) any {
	var cur any = map[string]any(v)
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}

func (v values) bool(path ...string) bool { b, _ := v.get(path...).(bool); return b }

func (v values) str(path ...string) string { s, _ := v.get(path...).(string); return s }

// checkAll holds every rendering to what must be true whatever the values.
func checkAll(t *testing.T, r *rendering) {
	t.Helper()
	v := effective(t, r.vals)
	checkRBAC(t, r, v)
	checkPod(t, r, v)
	checkServeFlags(t, r)
}

// serverOnly leaves out the capture agent's objects (TestAgent checks those).
func serverOnly[T metav1.Object](all []T) []T {
	var out []T
	for _, o := range all {
		if o.GetLabels()["app.kubernetes.io/component"] != "agent" {
			out = append(out, o)
		}
	}
	return out
}

func checkRBAC(t *testing.T, r *rendering, v values) {
	t.Helper()
	for _, cr := range find[*rbacv1.ClusterRole](r) {
		for _, p := range granted(cr) {
			if p.resource == "secrets" && p.verb != "list" {
				t.Errorf("ClusterRole %s grants %s on secrets: only list is ever allowed", cr.Name, p.verb)
			}
		}
	}
	roles := serverOnly(find[*rbacv1.ClusterRole](r))
	for _, cr := range roles {
		for _, p := range granted(cr) {
			if p.resource == "secrets" && p.verb != "list" {
				t.Errorf("ClusterRole grants %s on secrets: only list is ever allowed", p.verb)
			}
			if p.verb == "*" || p.resource == "*" {
				t.Errorf("ClusterRole grants a wildcard: %+v", p)
			}
		}
	}
	if v.bool("serve", "noKube") {
		if len(roles) != 0 {
			t.Errorf("serve.noKube: want no ClusterRole, rendered %d", len(roles))
		}
		return
	}
	if len(roles) != 1 {
		t.Fatalf("want one ClusterRole, rendered %d", len(roles))
	}
	always, optional := readmePermissions(t)
	want := slices.Clone(always)
	for _, p := range optional {
		if optionOf[p](v) {
			want = append(want, p)
		}
	}
	extras, _ := v.get("rbac", "extraResources").([]any)
	for _, e := range extras {
		e := e.(map[string]any)
		for _, g := range e["apiGroups"].([]any) {
			for _, res := range e["resources"].([]any) {
				name := res.(string)
				if g.(string) != "" {
					name = g.(string) + "/" + name
				}
				want = append(want, permission{"get", name}, permission{"list", name})
			}
		}
	}
	if got, want := sortPerms(granted(roles[0])), sortPerms(want); !slices.Equal(got, want) {
		t.Errorf("ClusterRole grants\n%v\nwant, from the README and rbac.extraResources,\n%v", got, want)
	}
	crbs, sas := serverOnly(find[*rbacv1.ClusterRoleBinding](r)), serverOnly(find[*corev1.ServiceAccount](r))
	if len(crbs) != 1 || len(sas) != 1 {
		t.Fatalf("want one ClusterRoleBinding and one ServiceAccount for the server, rendered %d and %d", len(crbs), len(sas))
	}
	crb, sa := crbs[0], sas[0]
	if crb.RoleRef.Name != roles[0].Name || len(crb.Subjects) != 1 || crb.Subjects[0].Name != sa.Name || crb.Subjects[0].Namespace != namespace {
		t.Errorf("ClusterRoleBinding %+v does not bind ClusterRole %s to ServiceAccount %s/%s", crb, roles[0].Name, namespace, sa.Name)
	}
}

func checkPod(t *testing.T, r *rendering, v values) {
	t.Helper()
	d := one[*appsv1.Deployment](t, r)
	pod := d.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("want one container, got %d", len(pod.Containers))
	}
	c := pod.Containers[0]

	checkContainerSecurity(t, c.SecurityContext)
	if psc := pod.SecurityContext; psc == nil || psc.FSGroup == nil || *psc.FSGroup != image.UID {
		t.Errorf("pod securityContext %+v: want fsGroup %d, so the server can read its token and write its store", psc, image.UID)
	}

	var port *corev1.ContainerPort
	for i := range c.Ports {
		if c.Ports[i].Name == "http" {
			port = &c.Ports[i]
		}
	}
	if port == nil || port.ContainerPort != atoi(t, image.Port) {
		t.Fatalf("container ports %+v: want http on the image's port %s", c.Ports, image.Port)
	}
	for name, p := range map[string]*corev1.Probe{"startup": c.StartupProbe, "liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/healthz" || p.HTTPGet.Port.String() != port.Name {
			t.Errorf("%s probe %+v: want GET /healthz on port %s", name, p, port.Name)
		}
	}

	if len(c.Args) < len(image.Cmd) || !slices.Equal(c.Args[:len(image.Cmd)], image.Cmd) {
		t.Errorf("args %q: want them to start as the image's command %q (serve on the port, with the token file)", c.Args, image.Cmd)
	}

	mounts := map[string]corev1.VolumeMount{}
	for _, m := range c.VolumeMounts {
		mounts[m.Name] = m
	}
	vols := map[string]corev1.Volume{}
	for _, vol := range pod.Volumes {
		vols[vol.Name] = vol
	}
	tok, store := mounts["token"], mounts["store"]
	if tok.MountPath != filepath.Dir(image.TokenFile) || !tok.ReadOnly {
		t.Errorf("token mount %+v: want %s, read-only", tok, filepath.Dir(image.TokenFile))
	}
	secret := vols["token"].Secret
	if secret == nil || len(secret.Items) != 1 || secret.Items[0].Path != filepath.Base(image.TokenFile) || secret.Items[0].Key != v.str("auth", "secretKey") {
		t.Errorf("token volume %+v: want the Secret's key %s as %s", secret, v.str("auth", "secretKey"), filepath.Base(image.TokenFile))
	} else {
		wantSecret := v.str("auth", "existingSecret")
		if wantSecret == "" {
			wantSecret = one[*corev1.Secret](t, r).Name
		}
		if secret.SecretName != wantSecret {
			t.Errorf("token volume reads Secret %s, want %s", secret.SecretName, wantSecret)
		}
	}
	if store.MountPath != image.StateDir || store.ReadOnly {
		t.Errorf("store mount %+v: want %s, writable: the image's store", store, image.StateDir)
	}
	sv := vols["store"]
	if v.bool("persistence", "enabled") {
		claim := v.str("persistence", "existingClaim")
		if claim == "" {
			claim = one[*corev1.PersistentVolumeClaim](t, r).Name
		}
		if sv.PersistentVolumeClaim == nil || sv.PersistentVolumeClaim.ClaimName != claim {
			t.Errorf("store volume %+v: want the claim %s", sv, claim)
		}
		if d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
			t.Errorf("with a claim the strategy is %q: want Recreate, so two pods never wait on one ReadWriteOnce volume", d.Spec.Strategy.Type)
		}
	} else {
		if sv.EmptyDir == nil {
			t.Errorf("store volume %+v: want an emptyDir", sv)
		}
		if n := len(find[*corev1.PersistentVolumeClaim](r)); n != 0 {
			t.Errorf("persistence off: rendered %d PersistentVolumeClaims", n)
		}
	}

	svc := one[*corev1.Service](t, r)
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].TargetPort.String() != port.Name {
		t.Errorf("Service ports %+v: want one, to the container's %s port", svc.Spec.Ports, port.Name)
	}
	for k, val := range svc.Spec.Selector {
		if d.Spec.Template.Labels[k] != val {
			t.Errorf("Service selects %s=%s, which the pod does not have", k, val)
		}
	}
	if sas := serverOnly(find[*corev1.ServiceAccount](r)); len(sas) != 1 || d.Spec.Template.Spec.ServiceAccountName != sas[0].Name {
		t.Errorf("pod runs as ServiceAccount %s, not the chart's", d.Spec.Template.Spec.ServiceAccountName)
	}
	if auto := pod.AutomountServiceAccountToken; auto == nil || *auto == v.bool("serve", "noKube") {
		t.Errorf("automountServiceAccountToken %v with serve.noKube %v: want a token exactly when serve talks to the cluster", auto, v.bool("serve", "noKube"))
	}
}

// checkContainerSecurity holds a container to the image's user and a locked-down context.
func checkContainerSecurity(t *testing.T, sc *corev1.SecurityContext) {
	t.Helper()
	switch {
	case sc == nil:
		t.Fatal("container has no securityContext")
	case sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot:
		t.Error("securityContext: want runAsNonRoot")
	case sc.RunAsUser == nil || *sc.RunAsUser != image.UID:
		t.Errorf("securityContext.runAsUser: want the image's %d", image.UID)
	case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
		t.Error("securityContext: want allowPrivilegeEscalation false")
	case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
		t.Error("securityContext: want readOnlyRootFilesystem")
	case sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) != 0:
		t.Errorf("securityContext.capabilities %+v: want drop ALL, add none", sc.Capabilities)
	case sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault:
		t.Error("securityContext: want seccompProfile RuntimeDefault")
	}
}

func atoi(t *testing.T, s string) int32 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		t.Fatal(err)
	}
	return int32(n)
}

// args is the container's arguments.
func args(t *testing.T, r *rendering) []string {
	t.Helper()
	return one[*appsv1.Deployment](t, r).Spec.Template.Spec.Containers[0].Args
}

// checkServeFlags parses the container's arguments with nodediag's own command line: each flag the
// chart writes must be one serve has, with a value of its type.
func checkServeFlags(t *testing.T, r *rendering) {
	t.Helper()
	a := args(t, r)
	var out, errb bytes.Buffer
	// --help parses every flag first and stops before serving.
	if code := cli.Main(context.Background(), append(slices.Clone(a), "--help"), &out, &errb); code != 0 {
		t.Errorf("nodediag %s: exit %d: %s", strings.Join(a, " "), code, errb.String())
	}
}

func TestDefaultValues(t *testing.T) {
	r := mustRender(t, nil)
	checkAll(t, r)
	want := []string{"ClusterRole", "ClusterRoleBinding", "Deployment", "Secret", "Service", "ServiceAccount"}
	if got := kinds(r); !slices.Equal(got, want) {
		t.Errorf("kinds %v, want %v", got, want)
	}
	// No token in the values: the chart makes one the server accepts.
	tok := one[*corev1.Secret](t, r).StringData["token"]
	if len(tok) < mcpserver.MinTokenBytes {
		t.Errorf("generated token %q: want at least %d bytes", tok, mcpserver.MinTokenBytes)
	}
	if again := one[*corev1.Secret](t, mustRender(t, nil)).StringData["token"]; again == tok {
		t.Error("two installs got the same generated token")
	}
	if slices.Contains(args(t, r), "--allow-node-proxy") {
		t.Error("--allow-node-proxy by default")
	}
	// Neither IRSA nor Pod Identity shows in the values: the notes say how to give AWS credentials.
	if !strings.Contains(r.notes, "Pod Identity") || !strings.Contains(r.notes, "eks.amazonaws.com/role-arn") {
		t.Errorf("NOTES.txt does not say how to give the pod AWS credentials:\n%s", r.notes)
	}
	img := one[*appsv1.Deployment](t, r).Spec.Template.Spec.Containers[0].Image
	if want := "nodediag:" + loadChart(t).Metadata.AppVersion; img != want {
		t.Errorf("image %s, want %s: the tag defaults to the chart's appVersion", img, want)
	}
}

// TestGolden compares the default rendering, with a fixed token, with testdata/default.golden.yaml
// (go test ./internal/chart -update rewrites it: read the diff before committing it).
func TestGolden(t *testing.T) {
	r := mustRender(t, map[string]any{"auth": map[string]any{"token": fixedToken}})
	golden := filepath.Join("testdata", "default.golden.yaml")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(r.text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (go test ./internal/chart -update writes it)", err)
	}
	if r.text != string(want) {
		t.Errorf("the rendering differs from %s (rerun with -update and read the diff):\n%s", golden, r.text)
	}
}

func TestOptions(t *testing.T) {
	for _, tc := range []struct {
		name  string
		vals  string
		check func(t *testing.T, r *rendering)
	}{{
		name: "existingSecret",
		vals: "auth: {existingSecret: team-tokens, secretKey: tokens}",
		check: func(t *testing.T, r *rendering) {
			if n := len(find[*corev1.Secret](r)); n != 0 {
				t.Errorf("with existingSecret the chart made %d Secrets", n)
			}
		},
	}, {
		name: "allowNodeProxy",
		vals: "collect: {allowNodeProxy: true}",
		check: func(t *testing.T, r *rendering) {
			if !slices.Contains(args(t, r), "--allow-node-proxy") {
				t.Errorf("args %q lack --allow-node-proxy", args(t, r))
			}
		},
	}, {
		name: "listSecrets",
		vals: "rbac: {listSecrets: true}",
	}, {
		name: "extraResources",
		vals: "rbac: {extraResources: [{apiGroups: [networking.k8s.io], resources: [ingresses]}]}",
	}, {
		name: "noKube",
		vals: "serve: {noKube: true}",
		check: func(t *testing.T, r *rendering) {
			if !slices.Contains(args(t, r), "--no-kube") {
				t.Errorf("args %q lack --no-kube", args(t, r))
			}
		},
	}, {
		name: "persistence",
		vals: "persistence: {enabled: true, storageClass: gp3, size: 50Gi}",
		check: func(t *testing.T, r *rendering) {
			pvc := one[*corev1.PersistentVolumeClaim](t, r)
			if sc := pvc.Spec.StorageClassName; sc == nil || *sc != "gp3" {
				t.Errorf("storageClassName %v, want gp3", sc)
			}
			if q := pvc.Spec.Resources.Requests[corev1.ResourceStorage]; q.String() != "50Gi" {
				t.Errorf("size %s, want 50Gi", q.String())
			}
		},
	}, {
		name: "existingClaim",
		vals: "persistence: {enabled: true, existingClaim: bundles}",
	}, {
		name: "IRSA",
		vals: "serviceAccount: {annotations: {eks.amazonaws.com/role-arn: 'arn:aws:iam::111122223333:role/nodediag'}}",
		check: func(t *testing.T, r *rendering) {
			sa := one[*corev1.ServiceAccount](t, r)
			if got := sa.Annotations["eks.amazonaws.com/role-arn"]; got != "arn:aws:iam::111122223333:role/nodediag" {
				t.Errorf("role-arn annotation %q", got)
			}
			if strings.Contains(r.notes, "Pod Identity") {
				t.Error("NOTES asks for AWS credentials that the annotation gives")
			}
		},
	}, {
		name: "serve flags",
		vals: `serve: {bucket: my-eks-logs, roleArn: 'arn:aws:iam::111122223333:role/collect', region: us-west-2,
			searchRegions: [us-east-1, eu-west-1], allowedClusters: [prod, staging], approveCollect: true,
			rateLimit: 0, rateBurst: 10, noAws: true, readOnly: true, toolsets: [logs], allowedOrigins: ['https://app.example.com'],
			extraArgs: [--call-timeout=2m]}`,
		check: func(t *testing.T, r *rendering) {
			a := args(t, r)
			for _, want := range []string{"--bucket=my-eks-logs", "--allowed-clusters=prod,staging", "--approve-collect",
				"--rate-limit=0", "--rate-burst=10", "--search-regions=us-east-1,eu-west-1", "--call-timeout=2m"} {
				if !slices.Contains(a, want) {
					t.Errorf("args %q lack %s", a, want)
				}
			}
		},
	}, {
		name: "bucket store",
		vals: "store: {url: 's3://nodediag-store?prefix=prod/', syncInterval: 30s}",
		check: func(t *testing.T, r *rendering) {
			a := args(t, r)
			for _, want := range []string{"--store=s3://nodediag-store?prefix=prod/", "--cache=" + image.StateDir + "/mirror", "--sync-interval=30s"} {
				if !slices.Contains(a, want) {
					t.Errorf("args %q lack %s", a, want)
				}
			}
			if n := len(find[*batchv1.Job](r)); n != 0 {
				t.Errorf("a bucket store alone made %d Jobs", n)
			}
		},
	}, {
		name:  "indexJob",
		vals:  "store: {url: 's3://nodediag-store'}\nindexJob: {enabled: true, source: 's3://raw?prefix=incoming/', completions: 8, parallelism: 3, jobsPerPod: 2}",
		check: checkIndexJob,
	}, {
		name: "networkPolicy",
		vals: "networkPolicy: {enabled: true, ingressFrom: [{namespaceSelector: {matchLabels: {team: sre}}}]}",
		check: func(t *testing.T, r *rendering) {
			np := one[*networkingv1.NetworkPolicy](t, r)
			d := one[*appsv1.Deployment](t, r)
			sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
			if err != nil || !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
				t.Errorf("NetworkPolicy selects %v, not the pod (%v)", np.Spec.PodSelector, err)
			}
			if len(np.Spec.Ingress) != 1 || len(np.Spec.Ingress[0].Ports) != 1 || np.Spec.Ingress[0].Ports[0].Port.String() != "http" ||
				len(np.Spec.Ingress[0].From) != 1 || np.Spec.Ingress[0].From[0].NamespaceSelector.MatchLabels["team"] != "sre" {
				t.Errorf("ingress %+v: want the http port from the team=sre namespaces", np.Spec.Ingress)
			}
			var dns, https bool
			for _, e := range np.Spec.Egress {
				for _, p := range e.Ports {
					dns = dns || p.Port.IntValue() == 53
					https = https || p.Port.IntValue() == 443
				}
			}
			if !dns || !https {
				t.Errorf("egress %+v: want DNS and HTTPS (API server, AWS)", np.Spec.Egress)
			}
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			var vals map[string]any
			if err := yaml.Unmarshal([]byte(tc.vals), &vals); err != nil {
				t.Fatal(err)
			}
			r := mustRender(t, vals)
			checkAll(t, r)
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

// TestReadmeOptions keeps the README's conditional Kubernetes permissions and the values that grant
// them in step: one the chart does not know would be granted never, or always.
// checkIndexJob holds the indexing Job to what `nodediag index-job` needs: one shard per
// completion index, its flags accepted by the command itself, its disk where --cache points, and
// the same locked-down pod as the server.
func checkIndexJob(t *testing.T, r *rendering) {
	t.Helper()
	j := one[*batchv1.Job](t, r)
	v := effective(t, r.vals)
	if j.Spec.CompletionMode == nil || *j.Spec.CompletionMode != batchv1.IndexedCompletion {
		t.Errorf("completionMode %v: want Indexed, which sets JOB_COMPLETION_INDEX", j.Spec.CompletionMode)
	}
	if j.Spec.Completions == nil || *j.Spec.Completions != 8 || j.Spec.Parallelism == nil || *j.Spec.Parallelism != 3 {
		t.Errorf("completions %v parallelism %v: want 8 and 3", j.Spec.Completions, j.Spec.Parallelism)
	}
	if j.Spec.BackoffLimitPerIndex == nil {
		t.Error("no backoffLimitPerIndex: one failing shard would fail the whole Job")
	}
	pod := j.Spec.Template.Spec
	if pod.RestartPolicy != corev1.RestartPolicyNever || len(pod.Containers) != 1 {
		t.Fatalf("pod: restartPolicy %s, %d containers", pod.RestartPolicy, len(pod.Containers))
	}
	c := pod.Containers[0]
	checkContainerSecurity(t, c.SecurityContext)
	if auto := pod.AutomountServiceAccountToken; auto == nil || *auto {
		t.Error("the indexing pod mounts a Kubernetes token it does not use")
	}
	want := fmt.Sprintf("--shards=%d", *j.Spec.Completions)
	if !slices.Contains(c.Args, want) || !slices.Contains(c.Args, "--store="+v.str("store", "url")) || !slices.Contains(c.Args, "--source="+v.str("indexJob", "source")) {
		t.Errorf("args %q: want %s, --store and --source from the values", c.Args, want)
	}
	var cache string
	for _, a := range c.Args {
		if s, ok := strings.CutPrefix(a, "--cache="); ok {
			cache = s
		}
	}
	mounted := false
	for _, m := range c.VolumeMounts {
		mounted = mounted || (m.MountPath == cache && !m.ReadOnly)
	}
	if cache == "" || !mounted {
		t.Errorf("--cache %q is not a writable mount (%+v): the root filesystem is read-only", cache, c.VolumeMounts)
	}
	var out, errb bytes.Buffer
	if code := cli.Main(context.Background(), append(slices.Clone(c.Args), "--help"), &out, &errb); code != 0 {
		t.Errorf("nodediag %s: exit %d: %s", strings.Join(c.Args, " "), code, errb.String())
	}
}

func TestReadmeOptions(t *testing.T) {
	_, optional := readmePermissions(t)
	var got []permission
	for _, p := range optional {
		if optionOf[p] == nil {
			t.Errorf("the README makes %s on %s conditional; no chart value grants it", p.verb, p.resource)
		}
		got = append(got, p)
	}
	if len(got) != len(optionOf) {
		t.Errorf("README's conditional permissions %v; the chart has values for %d", got, len(optionOf))
	}
}

// TestTokens serves the rendered token file with nodediag's own HTTP handler: each caller's token
// opens /metrics, and the ServiceMonitor's token is one of them.
func TestTokens(t *testing.T) {
	const alice, prom = "alice-0123456789abcdef0123456789", "prom-0123456789abcdef0123456789ab"
	r := mustRender(t, map[string]any{
		"auth":           map[string]any{"callers": map[string]any{"alice": alice, "prometheus": prom}},
		"serviceMonitor": map[string]any{"enabled": true},
	})
	checkAll(t, r)
	secret := one[*corev1.Secret](t, r)
	if len(r.monitors) != 1 || len(r.monitors[0].Spec.Endpoints) != 1 {
		t.Fatalf("want one ServiceMonitor with one endpoint, got %+v", r.monitors)
	}
	ep := r.monitors[0].Spec.Endpoints[0]
	if ep.Path != "/metrics" || ep.Port != "http" || ep.Authorization == nil || ep.Authorization.Type != "Bearer" {
		t.Fatalf("endpoint %+v: want /metrics on port http with a Bearer token", ep)
	}
	cred := ep.Authorization.Credentials
	if cred.Name != secret.Name {
		t.Fatalf("ServiceMonitor reads Secret %s, the chart made %s", cred.Name, secret.Name)
	}
	scrapeToken, ok := secret.StringData[cred.Key]
	if !ok {
		t.Fatalf("Secret %s has no key %s", secret.Name, cred.Key)
	}
	sel, err := metav1.LabelSelectorAsSelector(&r.monitors[0].Spec.Selector)
	if err != nil || !sel.Matches(labels.Set(one[*corev1.Service](t, r).Labels)) {
		t.Errorf("ServiceMonitor selects %v, not the Service (%v)", r.monitors[0].Spec.Selector, err)
	}

	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte(secret.StringData["token"]), 0o600); err != nil {
		t.Fatal(err)
	}
	h, err := mcpserver.NewHTTPHandler(mcp.NewServer(&mcp.Implementation{Name: "chart-test"}, nil),
		mcpserver.HTTPOptions{Addr: "0.0.0.0:" + image.Port, TokenFile: file})
	if err != nil {
		t.Fatalf("serve refuses the chart's token file: %v", err)
	}
	for tok, want := range map[string]int{alice: http.StatusOK, prom: http.StatusOK, scrapeToken: http.StatusOK, fixedToken: http.StatusUnauthorized} {
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		io.Copy(io.Discard, rec.Body)
		if rec.Code != want {
			t.Errorf("GET /metrics with token %.8s…: %d, want %d", tok, rec.Code, want)
		}
	}
}

// TestRefused: values that would break the server or widen its permissions stop the rendering.
func TestRefused(t *testing.T) {
	for name, tc := range map[string]struct{ vals, why string }{
		"get on secrets":             {"rbac: {extraResources: [{apiGroups: [''], resources: [secrets]}]}", "would grant get on secrets"},
		"wildcard kinds":             {"rbac: {extraResources: [{apiGroups: [''], resources: ['*']}]}", "would grant get on secrets"},
		"nodes/proxy without option": {"rbac: {extraResources: [{apiGroups: [''], resources: [nodes/proxy]}]}", "collect.allowNodeProxy"},
		"token and callers":          {"auth: {token: " + fixedToken + ", callers: {a: " + fixedToken + "x}}", "not both"},
		"scrape caller unknown":      {"auth: {callers: {a: " + fixedToken + "}}\nserviceMonitor: {enabled: true}", "is not one of auth.callers"},
		"scrape with existingSecret": {"auth: {existingSecret: s}\nserviceMonitor: {enabled: true}", "serviceMonitor.tokenSecret"},
		// values.schema.json: a misspelled value would otherwise be ignored without a word.
		"misspelled value":          {"serve: {bukcet: my-eks-logs}", "'bukcet' not allowed"},
		"short token":               {"auth: {token: tooshort}", "minLength"},
		"token with a colon":        {"auth: {token: 'a:0123456789abcdef0123'}", "does not match pattern"},
		"indexJob without a store":  {"indexJob: {enabled: true, source: 's3://raw'}", "set store.url"},
		"indexJob without a source": {"store: {url: 's3://s'}\nindexJob: {enabled: true}", "set indexJob.source"},
		"store not a bucket":        {"store: {url: /var/lib/x}", "does not match pattern"},
		"bad caller name":           {"auth: {callers: {'-x': " + fixedToken + "}}", "'-x' does not match pattern"},
	} {
		t.Run(name, func(t *testing.T) {
			var v map[string]any
			if err := yaml.Unmarshal([]byte(tc.vals), &v); err != nil {
				t.Fatal(err)
			}
			_, err := renderChart(t, v)
			if err == nil || !strings.Contains(err.Error(), tc.why) {
				t.Errorf("rendering with %s: %v; want an error saying %q", tc.vals, err, tc.why)
			}
		})
	}
}

// TestLint runs helm lint's checks (Chart.yaml, values, templates, deprecated APIs).
func TestLint(t *testing.T) {
	l := lint.RunAll(chartDir, nil, namespace)
	for _, m := range l.Messages {
		if m.Severity >= support.WarningSev {
			t.Error(m)
		}
	}
}

// agentHostPaths are the node folders the capture agent may mount, all read-only: the journals
// (persistent and volatile) and the pods' logs. Nothing else of the host.
var agentHostPaths = []string{"/var/log/journal", "/run/log/journal", "/var/log/pods"}

// TestAgent renders the capture agent's DaemonSet and holds it to what `nodediag agent` needs and
// no more: its flags accepted by the command itself, NODE_NAME from the downward API, the host's
// log folders mounted read-only and nothing else of the host, every capability dropped, requests
// and limits, and its own ClusterRole granting exactly the README's agent permissions.
func TestAgent(t *testing.T) {
	for _, tc := range []struct{ name, vals string }{
		{"bucket store", "store: {url: 's3://nodediag-store?prefix=prod/'}\nagent: {enabled: true, burst: 5, window: 45m}"},
		{"node store", "agent: {enabled: true, hostPathStore: /var/lib/nodediag-snapshots}"},
		{"gs bucket store", "store: {url: 'gs://nodediag-store'}\nagent: {enabled: true}"},
		{"host network", "store: {url: 's3://nodediag-store'}\nagent: {enabled: true, hostNetwork: true}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var vals map[string]any
			if err := yaml.Unmarshal([]byte(tc.vals), &vals); err != nil {
				t.Fatal(err)
			}
			r := mustRender(t, vals)
			checkAll(t, r) // the server's objects are as without the agent
			v := effective(t, vals)
			ds := one[*appsv1.DaemonSet](t, r)
			pod := ds.Spec.Template.Spec
			if len(pod.Containers) != 1 {
				t.Fatalf("want one container, got %d", len(pod.Containers))
			}
			c := pod.Containers[0]

			// It runs the image's nodediag-agent — or, for a store whose driver that binary
			// does not link, `nodediag agent` with the whole binary's resources — and the flags
			// are that command's own: --help parses them all and stops.
			var out, errb bytes.Buffer
			url := v.str("store", "url")
			full := strings.HasPrefix(url, "gs://") || strings.HasPrefix(url, "azblob://")
			res := v.get("agent", "resources")
			switch {
			case full:
				if !slices.Equal(c.Command, []string{image.Entrypoint, "agent"}) {
					t.Errorf("command %q for store %s, want the image's %s agent", c.Command, url, image.Entrypoint)
				}
				if code := cli.Main(context.Background(), append([]string{"agent"}, append(slices.Clone(c.Args), "--help")...), &out, &errb); code != 0 {
					t.Errorf("nodediag agent %s: exit %d: %s", strings.Join(c.Args, " "), code, errb.String())
				}
				res = v.get("agent", "fullResources")
			case !slices.Equal(c.Command, []string{image.AgentPath}):
				t.Errorf("command %q, want the image's %s", c.Command, image.AgentPath)
			default:
				if code := agentcmd.Main(context.Background(), append(slices.Clone(c.Args), "--help"), &out, &errb); code != 0 {
					t.Errorf("nodediag-agent %s: exit %d: %s", strings.Join(c.Args, " "), code, errb.String())
				}
			}
			wantMem := res.(map[string]any)["limits"].(map[string]any)["memory"]
			if got := c.Resources.Limits[corev1.ResourceMemory]; got.String() != wantMem {
				t.Errorf("memory limit %s, want %v from the values for this binary", got.String(), wantMem)
			}
			flags := map[string]string{}
			for _, a := range c.Args {
				if k, val, ok := strings.Cut(a, "="); ok {
					flags[k] = val
				}
			}
			if flags["--node"] != "$(NODE_NAME)" {
				t.Errorf("args %q: want --node=$(NODE_NAME)", c.Args)
			}
			nodeFromAPI := false
			for _, e := range c.Env {
				nodeFromAPI = nodeFromAPI || e.Name == "NODE_NAME" && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "spec.nodeName"
			}
			if !nodeFromAPI {
				t.Errorf("env %+v: want NODE_NAME from the downward API's spec.nodeName", c.Env)
			}
			if url := v.str("store", "url"); url != "" && flags["--store"] != url {
				t.Errorf("--store=%s, want store.url %s", flags["--store"], url)
			}
			if flags["--burst"] != fmt.Sprint(v.get("agent", "burst")) || flags["--window"] != v.str("agent", "window") {
				t.Errorf("--burst=%s --window=%s, want the values' %v and %s", flags["--burst"], flags["--window"], v.get("agent", "burst"), v.str("agent", "window"))
			}

			// The host: only the log folders, read-only; the snapshot store is the one writable
			// place, and never one of them.
			mounts := map[string]corev1.VolumeMount{}
			for _, m := range c.VolumeMounts {
				mounts[m.Name] = m
			}
			root := v.str("agent", "hostRoot")
			var hostPaths []string
			for _, vol := range pod.Volumes {
				m, mounted := mounts[vol.Name]
				if !mounted {
					t.Errorf("volume %s is not mounted", vol.Name)
					continue
				}
				if vol.HostPath == nil {
					continue
				}
				if vol.Name == "state" {
					if vol.HostPath.Path != v.str("agent", "hostPathStore") || slices.Contains(agentHostPaths, vol.HostPath.Path) {
						t.Errorf("the writable host folder %s is not agent.hostPathStore", vol.HostPath.Path)
					}
					continue
				}
				hostPaths = append(hostPaths, vol.HostPath.Path)
				if !m.ReadOnly {
					t.Errorf("host folder %s is mounted writable", vol.HostPath.Path)
				}
				if m.MountPath != root+vol.HostPath.Path {
					t.Errorf("host folder %s is mounted at %s, not under --host-root %s", vol.HostPath.Path, m.MountPath, root)
				}
			}
			slices.Sort(hostPaths)
			if want := slices.Sorted(slices.Values(agentHostPaths)); !slices.Equal(hostPaths, want) {
				t.Errorf("host folders %q, want exactly %q", hostPaths, want)
			}
			if flags["--host-root"] != root {
				t.Errorf("--host-root=%s, want agent.hostRoot %s", flags["--host-root"], root)
			}

			sc := c.SecurityContext
			if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
				sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) != 0 ||
				sc.Privileged != nil && *sc.Privileged {
				t.Errorf("securityContext %+v: want no privilege escalation, a read-only root, every capability dropped and none added", sc)
			}
			for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				if _, ok := c.Resources.Requests[res]; !ok {
					t.Errorf("no %s request", res)
				}
			}
			if _, ok := c.Resources.Limits[corev1.ResourceMemory]; !ok {
				t.Error("no memory limit")
			}
			// The host's network only when asked (for IMDS under a hop limit of 1), and then with
			// the cluster's DNS still first, so the API server's and the bucket's names resolve.
			if want := v.get("agent", "hostNetwork") == true; pod.HostNetwork != want ||
				want && pod.DNSPolicy != corev1.DNSClusterFirstWithHostNet {
				t.Errorf("hostNetwork %v, dnsPolicy %q; want hostNetwork %v (agent.hostNetwork) and ClusterFirstWithHostNet with it", pod.HostNetwork, pod.DNSPolicy, want)
			}
			grace := pod.TerminationGracePeriodSeconds
			deadline, err := time.ParseDuration(flags["--final-deadline"])
			if err != nil || grace == nil || deadline >= time.Duration(*grace)*time.Second {
				t.Errorf("--final-deadline=%s with terminationGracePeriodSeconds %v: the last snapshot must end before the kill", flags["--final-deadline"], grace)
			}

			// Its own service account and role: the README's agent permissions, exactly.
			var role *rbacv1.ClusterRole
			for _, cr := range find[*rbacv1.ClusterRole](r) {
				if cr.Labels["app.kubernetes.io/component"] == "agent" {
					role = cr
				}
			}
			if role == nil {
				t.Fatal("no ClusterRole for the agent")
			}
			always, _ := readmeBullet(t, "- **Kubernetes, capture agent**")
			if got, want := sortPerms(granted(role)), sortPerms(always); !slices.Equal(got, want) {
				t.Errorf("the agent's ClusterRole grants\n%v\nwant, from the README,\n%v", got, want)
			}
			for _, p := range granted(role) {
				if p.resource == "secrets" || p.verb == "*" || p.resource == "*" {
					t.Errorf("the agent's ClusterRole grants %s on %s", p.verb, p.resource)
				}
			}
			bound := false
			for _, crb := range find[*rbacv1.ClusterRoleBinding](r) {
				if crb.RoleRef.Name == role.Name {
					bound = len(crb.Subjects) == 1 && crb.Subjects[0].Name == pod.ServiceAccountName && crb.Subjects[0].Namespace == namespace
				}
			}
			if !bound || pod.ServiceAccountName == one[*appsv1.Deployment](t, r).Spec.Template.Spec.ServiceAccountName {
				t.Errorf("the agent runs as %s, which is not bound to its own role alone", pod.ServiceAccountName)
			}

			if url := v.str("store", "url"); !strings.Contains(r.notes, "capture agent") || url != "" && !strings.Contains(r.notes, url) ||
				url == "" && !strings.Contains(r.notes, "set store.url") {
				t.Errorf("NOTES do not say where the agent's snapshots go:\n%s", r.notes)
			}

			// The server's Service must not send MCP traffic to an agent pod.
			svc := one[*corev1.Service](t, r)
			if labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(ds.Spec.Template.Labels)) {
				t.Errorf("the server's Service selector %v selects the agent's pods %v", svc.Spec.Selector, ds.Spec.Template.Labels)
			}
		})
	}
}
