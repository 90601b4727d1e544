package kube

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/restmapper"

	"github.com/nodediag/nodediag/internal/editdist"
)

// Resource is a kind resolved through discovery: what to call the API with and how to name it.
type Resource struct {
	GVR        schema.GroupVersionResource
	Kind       string
	Namespaced bool
}

// APIVersion is "v1" for the core group, else "group/version".
func (r Resource) APIVersion() string { return r.GVR.GroupVersion().String() }

// RESTMapper is the discovery-backed mapper of the cluster's kinds to resources, read once and
// shared by every call.
func (c *Client) RESTMapper(ctx context.Context) (meta.RESTMapper, error) {
	if _, err := c.discover(ctx, false); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mapper, nil
}

// discover returns the cluster's groups and resources, read once; refresh reads them again (a
// kind not found may be a CRD installed since the first read).
func (c *Client) discover(ctx context.Context, refresh bool) ([]*restmapper.APIGroupResources, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.groups != nil && !refresh {
		return c.groups, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("discover API resources: %w", err)
	}
	groups, err := restmapper.GetAPIGroupResourcesWithContext(ctx, discovery.ToDiscoveryInterfaceWithContext(c.cs.Discovery()))
	if err != nil {
		return nil, c.apiErr("discover API resources", err)
	}
	// Built-in groups first, core before all: "events" must mean v1 Events, not
	// events.k8s.io, as it does for kubectl; the fake discovery's order is a map's.
	sort.SliceStable(groups, func(i, j int) bool {
		ri, rj := groupRank(groups[i].Group.Name), groupRank(groups[j].Group.Name)
		if ri != rj {
			return ri < rj
		}
		return groups[i].Group.Name < groups[j].Group.Name
	})
	c.groups = groups
	c.mapper = restmapper.NewDiscoveryRESTMapper(groups)
	return groups, nil
}

func groupRank(g string) int {
	switch {
	case g == "":
		return 0
	case !strings.Contains(g, "."):
		return 1 // apps, batch, autoscaling, policy
	case strings.HasSuffix(g, ".k8s.io"):
		return 2
	}
	return 3
}

// Resolve finds the resource a kind names: its Kind, plural, singular or a short name, any
// case ("Pod", "pods", "po"), in apiVersion when given ("v1", "apps/v1", or just a group such as
// "apps"), else in the group's preferred version. Unknown kinds get an error listing the
// nearest kinds the cluster serves.
func (c *Client) Resolve(ctx context.Context, kind, apiVersion string) (Resource, error) {
	kind = strings.TrimSpace(kind)
	if kind == "" {
		return Resource{}, fmt.Errorf("%w: kind is required (e.g. Pod, Deployment, Node, or a plural or short name such as pods, po)", ErrInput)
	}
	groups, err := c.discover(ctx, false)
	if err != nil {
		return Resource{}, err
	}
	r, ok := match(groups, kind, apiVersion)
	if !ok {
		if groups, err = c.discover(ctx, true); err != nil {
			return Resource{}, err
		}
		if r, ok = match(groups, kind, apiVersion); !ok {
			where := ""
			if apiVersion != "" {
				where = " in " + apiVersion
			}
			return Resource{}, fmt.Errorf("%w: the cluster serves no kind %q%s; close kinds: %s", ErrInput, kind, where, strings.Join(closeKinds(groups, kind), ", "))
		}
	}
	// The RESTMapper is the authority on scope; discovery's flag agrees with it on a real server.
	c.mu.Lock()
	mapper := c.mapper
	c.mu.Unlock()
	if m, err := mapper.RESTMapping(schema.GroupKind{Group: r.GVR.Group, Kind: r.Kind}, r.GVR.Version); err == nil {
		r.Namespaced = m.Scope.Name() == meta.RESTScopeNameNamespace
	}
	return r, nil
}

func match(groups []*restmapper.APIGroupResources, kind, apiVersion string) (Resource, bool) {
	want := strings.ToLower(kind)
	wantGroup, wantVersion, pinned := "", "", apiVersion != ""
	if pinned {
		if g, v, ok := strings.Cut(apiVersion, "/"); ok {
			wantGroup, wantVersion = g, v
		} else if strings.HasPrefix(apiVersion, "v") && !strings.Contains(apiVersion, ".") {
			wantVersion = apiVersion // "v1": the core group
		} else {
			wantGroup = apiVersion // "apps": any version of that group
		}
	}
	for _, g := range groups {
		if pinned && g.Group.Name != wantGroup {
			continue
		}
		versions := []string{g.Group.PreferredVersion.Version}
		if wantVersion != "" {
			versions = []string{wantVersion}
		} else {
			for _, v := range g.Group.Versions {
				if v.Version != versions[0] {
					versions = append(versions, v.Version)
				}
			}
		}
		for _, v := range versions {
			for _, res := range g.VersionedResources[v] {
				if strings.Contains(res.Name, "/") {
					continue // a subresource (pods/log), not a kind
				}
				if want == strings.ToLower(res.Kind) || want == res.Name || want == res.SingularName || slices.Contains(res.ShortNames, want) {
					return Resource{GVR: schema.GroupVersionResource{Group: g.Group.Name, Version: v, Resource: res.Name}, Kind: res.Kind, Namespaced: res.Namespaced}, true
				}
			}
		}
	}
	return Resource{}, false
}

// closeKinds names up to 8 kinds nearest to the asked one: sharing a prefix or substring first,
// then by edit distance, so a typo ("Deploymnet") or a partial ("deploy") finds its kind.
func closeKinds(groups []*restmapper.APIGroupResources, kind string) []string {
	want := strings.ToLower(kind)
	type cand struct {
		name string
		d    int
	}
	seen := map[string]bool{}
	var cs []cand
	for _, g := range groups {
		for v, list := range g.VersionedResources {
			for _, res := range list {
				if strings.Contains(res.Name, "/") {
					continue
				}
				name := res.Kind + " (" + schema.GroupVersion{Group: g.Group.Name, Version: v}.String() + ")"
				if g.Group.PreferredVersion.Version != v || seen[name] {
					continue
				}
				seen[name] = true
				k := strings.ToLower(res.Kind)
				d := editdist.Levenshtein(want, k)
				if strings.Contains(k, want) || strings.Contains(want, k) || strings.HasPrefix(res.Name, want) {
					d = 0
				}
				cs = append(cs, cand{name, d})
			}
		}
	}
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].d != cs[j].d {
			return cs[i].d < cs[j].d
		}
		return cs[i].name < cs[j].name
	})
	var out []string
	for _, c := range cs {
		if len(out) == 8 {
			break
		}
		out = append(out, c.name)
	}
	if len(out) == 0 {
		return []string{"none (discovery listed no resources)"}
	}
	return out
}
