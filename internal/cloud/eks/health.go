package eks

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	awseks "github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// SSMNotRegistered is the SSM status of an instance DescribeInstanceInformation does not know:
// no agent, no instance profile allowing SSM, or no route to the SSM endpoints.
const SSMNotRegistered = "not registered"

// ssmBatch is how many instance ids one DescribeInstanceInformation call filters on; the API
// accepts at most 50 values in the InstanceIds filter.
const ssmBatch = 50

// ClusterHealth is the AWS-side health of one EKS cluster. A part that could not be read is named in
// Gaps and left empty, so a partial answer is still an answer.
type ClusterHealth struct {
	Region     string      `json:"region"`
	Cluster    ClusterInfo `json:"cluster"`
	NodeGroups []NodeGroup `json:"nodeGroups"`
	Instances  []Instance  `json:"instances"`
	Unhealthy  []Problem   `json:"unhealthy"`
	Gaps       []string    `json:"gaps,omitempty"`
}

// ClusterInfo is what DescribeCluster says about the control plane.
type ClusterInfo struct {
	Name            string   `json:"name"`
	ARN             string   `json:"arn"`
	Status          string   `json:"status"`
	Version         string   `json:"version"`
	PlatformVersion string   `json:"platformVersion"`
	Endpoint        string   `json:"endpoint"`
	HealthIssues    []Issue  `json:"healthIssues,omitempty"`
	EnabledLogTypes []string `json:"enabledLogTypes"`
}

// Issue is one health issue EKS reports on a cluster or node group.
type Issue struct {
	Code        string   `json:"code"`
	Message     string   `json:"message"`
	ResourceIDs []string `json:"resourceIds,omitempty"`
}

// NodeGroup is one managed node group as DescribeNodegroup reports it.
type NodeGroup struct {
	Name          string   `json:"name"`
	Status        string   `json:"status"`
	CapacityType  string   `json:"capacityType"`
	InstanceTypes []string `json:"instanceTypes"`
	DesiredSize   int32    `json:"desiredSize"`
	MinSize       int32    `json:"minSize"`
	MaxSize       int32    `json:"maxSize"`
	HealthIssues  []Issue  `json:"healthIssues,omitempty"`
}

// Instance is one EC2 worker of the cluster with its SSM reachability.
type Instance struct {
	ID               string    `json:"instanceId"`
	PrivateDNSName   string    `json:"privateDnsName"`
	State            string    `json:"state"`
	AvailabilityZone string    `json:"availabilityZone"`
	InstanceType     string    `json:"instanceType"`
	NodeGroup        string    `json:"nodeGroup,omitempty"`
	LaunchTime       time.Time `json:"launchTime"`
	// SSMPingStatus is Online, ConnectionLost or Inactive from SSM, SSMNotRegistered when SSM does
	// not know the instance, or "" when SSM could not be asked (see Gaps).
	SSMPingStatus string    `json:"ssmPingStatus"`
	SSMLastPing   time.Time `json:"ssmLastPing,omitzero"`
}

// Problem is one unhealthy part: Subject is "cluster", "nodegroup/NAME" or "instance/ID".
type Problem struct {
	Subject string `json:"subject"`
	Why     string `json:"why"`
}

// ClusterHealth reads the cluster, its managed node groups, its EC2 instances and their SSM status.
// Only a failing DescribeCluster is an error (without it there is no cluster to speak of); any later
// call that fails is recorded in Gaps and the rest is still returned.
func (c *Client) ClusterHealth(ctx context.Context, clusterName string) (*ClusterHealth, error) {
	if clusterName == "" {
		return nil, fmt.Errorf("cluster health: empty cluster name: pass the EKS cluster's name as shown by aws eks list-clusters")
	}
	if err := c.checkCredentials("eks:DescribeCluster"); err != nil {
		return nil, err
	}
	cl, err := c.describeCluster(ctx, clusterName)
	if err != nil {
		return nil, err
	}
	h := &ClusterHealth{Region: c.region, Cluster: clusterInfo(cl), NodeGroups: []NodeGroup{}, Instances: []Instance{}, Unhealthy: []Problem{}}

	groups, gaps := c.nodeGroups(ctx, clusterName)
	h.NodeGroups = append(h.NodeGroups, groups...)
	h.Gaps = append(h.Gaps, gaps...)

	instances, gaps := c.clusterInstances(ctx, clusterName)
	h.Instances = append(h.Instances, instances...)
	h.Gaps = append(h.Gaps, gaps...)
	if ctx.Err() != nil {
		return nil, fmt.Errorf("cluster health of %s: %w", clusterName, ctx.Err())
	}

	if len(h.Instances) > 0 {
		if err := c.ssmStatus(ctx, h.Instances); err != nil {
			h.Gaps = append(h.Gaps, fmt.Sprintf("SSM ping status unknown, so whether collect can reach each instance is unknown: %v", err))
		}
	}
	h.Unhealthy = problems(h)
	return h, nil
}

// describeCluster reads the cluster; a cluster that does not exist gets the region named and, when
// the caller may list clusters, the names that do exist, because the usual mistake is the region.
func (c *Client) describeCluster(ctx context.Context, name string) (*ekstypes.Cluster, error) {
	out, err := c.eks.DescribeCluster(ctx, &awseks.DescribeClusterInput{Name: aws.String(name)})
	if err != nil {
		if apiCode(err) == "ResourceNotFoundException" {
			return nil, fmt.Errorf("%w: no cluster %q in region %s%s: pass the region the cluster is in (AWS_REGION or the region option): %w",
				ErrClusterNotFound, name, c.region, c.clustersHint(ctx), err)
		}
		return nil, c.explain("eks:DescribeCluster", err)
	}
	if out.Cluster == nil {
		return nil, fmt.Errorf("eks:DescribeCluster %s in region %s: the answer holds no cluster", name, c.region)
	}
	return out.Cluster, nil
}

// clustersHint lists the region's clusters for a not-found message, best effort: a caller without
// eks:ListClusters still gets the not-found error, only without the list.
func (c *Client) clustersHint(ctx context.Context) string {
	out, err := c.eks.ListClusters(ctx, &awseks.ListClustersInput{MaxResults: aws.Int32(20)})
	if err != nil {
		return ""
	}
	if len(out.Clusters) == 0 {
		return " (the region has no clusters)"
	}
	return " (clusters there: " + strings.Join(out.Clusters, ", ") + ")"
}

func clusterInfo(cl *ekstypes.Cluster) ClusterInfo {
	info := ClusterInfo{
		Name:            aws.ToString(cl.Name),
		ARN:             aws.ToString(cl.Arn),
		Status:          string(cl.Status),
		Version:         aws.ToString(cl.Version),
		PlatformVersion: aws.ToString(cl.PlatformVersion),
		Endpoint:        aws.ToString(cl.Endpoint),
		EnabledLogTypes: enabledLogTypes(cl),
	}
	if cl.Health != nil {
		for _, is := range cl.Health.Issues {
			info.HealthIssues = append(info.HealthIssues, Issue{Code: string(is.Code), Message: aws.ToString(is.Message), ResourceIDs: is.ResourceIds})
		}
	}
	return info
}

// enabledLogTypes are the control-plane log types with logging on, sorted; EKS reports enabled and
// disabled types as separate LogSetup entries.
func enabledLogTypes(cl *ekstypes.Cluster) []string {
	types := []string{}
	if cl.Logging == nil {
		return types
	}
	for _, setup := range cl.Logging.ClusterLogging {
		if !aws.ToBool(setup.Enabled) {
			continue
		}
		for _, t := range setup.Types {
			types = append(types, string(t))
		}
	}
	sort.Strings(types)
	return types
}

// nodeGroups lists and describes the managed node groups. A cluster of self-managed nodes or
// Karpenter has none, which is not a gap: its instances are still found by tag.
func (c *Client) nodeGroups(ctx context.Context, cluster string) ([]NodeGroup, []string) {
	var names []string
	p := awseks.NewListNodegroupsPaginator(c.eks, &awseks.ListNodegroupsInput{ClusterName: aws.String(cluster)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, []string{fmt.Sprintf("node groups not listed: %v", c.explain("eks:ListNodegroups", err))}
		}
		names = append(names, page.Nodegroups...)
	}
	sort.Strings(names)
	var groups []NodeGroup
	var gaps []string
	for _, name := range names {
		out, err := c.eks.DescribeNodegroup(ctx, &awseks.DescribeNodegroupInput{ClusterName: aws.String(cluster), NodegroupName: aws.String(name)})
		if err != nil {
			gaps = append(gaps, fmt.Sprintf("node group %s not described: %v", name, c.explain("eks:DescribeNodegroup", err)))
			continue
		}
		if out.Nodegroup != nil {
			groups = append(groups, nodeGroup(out.Nodegroup))
		}
	}
	return groups, gaps
}

func nodeGroup(ng *ekstypes.Nodegroup) NodeGroup {
	g := NodeGroup{
		Name:          aws.ToString(ng.NodegroupName),
		Status:        string(ng.Status),
		CapacityType:  string(ng.CapacityType),
		InstanceTypes: ng.InstanceTypes,
	}
	if g.InstanceTypes == nil {
		g.InstanceTypes = []string{}
	}
	if sc := ng.ScalingConfig; sc != nil {
		g.DesiredSize, g.MinSize, g.MaxSize = aws.ToInt32(sc.DesiredSize), aws.ToInt32(sc.MinSize), aws.ToInt32(sc.MaxSize)
	}
	if ng.Health != nil {
		for _, is := range ng.Health.Issues {
			g.HealthIssues = append(g.HealthIssues, Issue{Code: string(is.Code), Message: aws.ToString(is.Message), ResourceIDs: is.ResourceIds})
		}
	}
	return g
}

// liveStates leaves out terminated instances: EC2 keeps listing them for about an hour after a
// scale-in, and a node that is gone on purpose is not an unhealthy node.
var liveStates = []string{"pending", "running", "shutting-down", "stopping", "stopped"}

// clusterInstances finds the cluster's EC2 instances by either tag a worker carries:
// kubernetes.io/cluster/NAME (every bootstrap and Karpenter) or eks:cluster-name=NAME (managed node
// groups). EC2 filters cannot OR two different tags, so it is two listings merged by instance id.
func (c *Client) clusterInstances(ctx context.Context, cluster string) ([]Instance, []string) {
	filters := [][]ec2types.Filter{
		{{Name: aws.String("tag-key"), Values: []string{"kubernetes.io/cluster/" + cluster}}},
		{{Name: aws.String("tag:eks:cluster-name"), Values: []string{cluster}}},
	}
	byID := map[string]Instance{}
	var gaps []string
	for _, f := range filters {
		f = append(f, ec2types.Filter{Name: aws.String("instance-state-name"), Values: liveStates})
		p := ec2.NewDescribeInstancesPaginator(c.ec2, &ec2.DescribeInstancesInput{Filters: f})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				gaps = append(gaps, fmt.Sprintf("instances with filter %s=%s not listed: %v",
					aws.ToString(f[0].Name), f[0].Values[0], c.explain("ec2:DescribeInstances", err)))
				break
			}
			for _, r := range page.Reservations {
				for _, in := range r.Instances {
					inst := instance(in)
					byID[inst.ID] = inst
				}
			}
		}
	}
	out := make([]Instance, 0, len(byID))
	for _, in := range byID {
		out = append(out, in)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, gaps
}

func instance(in ec2types.Instance) Instance {
	inst := Instance{
		ID:             aws.ToString(in.InstanceId),
		PrivateDNSName: aws.ToString(in.PrivateDnsName),
		InstanceType:   string(in.InstanceType),
		LaunchTime:     aws.ToTime(in.LaunchTime).UTC(),
	}
	if in.State != nil {
		inst.State = string(in.State.Name)
	}
	if in.Placement != nil {
		inst.AvailabilityZone = aws.ToString(in.Placement.AvailabilityZone)
	}
	for _, t := range in.Tags {
		if aws.ToString(t.Key) == "eks:nodegroup-name" {
			inst.NodeGroup = aws.ToString(t.Value)
		}
	}
	return inst
}

// ssmStatus fills SSMPingStatus and SSMLastPing in place, asking about at most ssmBatch ids per
// call. An instance SSM does not return is SSMNotRegistered. On an error the instances not yet
// answered keep "" so that unknown is never shown as unregistered.
func (c *Client) ssmStatus(ctx context.Context, instances []Instance) error {
	byID := make(map[string]*Instance, len(instances))
	ids := make([]string, 0, len(instances))
	for i := range instances {
		byID[instances[i].ID] = &instances[i]
		ids = append(ids, instances[i].ID)
	}
	for start := 0; start < len(ids); start += ssmBatch {
		batch := ids[start:min(start+ssmBatch, len(ids))]
		seen := map[string]bool{}
		p := ssm.NewDescribeInstanceInformationPaginator(c.ssm, &ssm.DescribeInstanceInformationInput{
			Filters:    []ssmtypes.InstanceInformationStringFilter{{Key: aws.String("InstanceIds"), Values: batch}},
			MaxResults: aws.Int32(ssmBatch),
		})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return c.explain("ssm:DescribeInstanceInformation", err)
			}
			for _, info := range page.InstanceInformationList {
				in := byID[aws.ToString(info.InstanceId)]
				if in == nil {
					continue
				}
				seen[in.ID] = true
				in.SSMPingStatus = string(info.PingStatus)
				in.SSMLastPing = aws.ToTime(info.LastPingDateTime).UTC()
			}
		}
		for _, id := range batch {
			if !seen[id] {
				byID[id].SSMPingStatus = SSMNotRegistered
			}
		}
	}
	return nil
}

// problems lists what is unhealthy, cluster first, then node groups and instances in their order.
func problems(h *ClusterHealth) []Problem {
	out := []Problem{}
	if h.Cluster.Status != string(ekstypes.ClusterStatusActive) {
		out = append(out, Problem{Subject: "cluster", Why: "status " + h.Cluster.Status + ", not ACTIVE"})
	}
	for _, is := range h.Cluster.HealthIssues {
		out = append(out, Problem{Subject: "cluster", Why: issueText(is)})
	}
	for _, g := range h.NodeGroups {
		subject := "nodegroup/" + g.Name
		if g.Status == string(ekstypes.NodegroupStatusDegraded) || g.Status == string(ekstypes.NodegroupStatusCreateFailed) ||
			g.Status == string(ekstypes.NodegroupStatusDeleteFailed) {
			out = append(out, Problem{Subject: subject, Why: "status " + g.Status})
		}
		for _, is := range g.HealthIssues {
			out = append(out, Problem{Subject: subject, Why: issueText(is)})
		}
	}
	for _, in := range h.Instances {
		subject := "instance/" + in.ID
		switch in.State {
		case string(ec2types.InstanceStateNameRunning):
		case string(ec2types.InstanceStateNamePending):
			out = append(out, Problem{Subject: subject, Why: "EC2 state pending: still starting, not yet a node"})
			continue
		default:
			out = append(out, Problem{Subject: subject, Why: "EC2 state " + in.State + ", not running: it runs no pods and collect cannot reach it"})
			continue
		}
		switch in.SSMPingStatus {
		case "", string(ssmtypes.PingStatusOnline):
		case SSMNotRegistered:
			out = append(out, Problem{Subject: subject, Why: "not registered with SSM: collect cannot work on it (check the SSM agent and the node role's AmazonSSMManagedInstanceCore policy)"})
		default:
			why := "SSM ping status " + in.SSMPingStatus
			if !in.SSMLastPing.IsZero() {
				why += " since its last ping at " + in.SSMLastPing.Format(time.RFC3339)
			}
			out = append(out, Problem{Subject: subject, Why: why + ": collect cannot work on it until the SSM agent is back online"})
		}
	}
	return out
}

func issueText(is Issue) string {
	s := is.Code + ": " + is.Message
	if len(is.ResourceIDs) > 0 {
		s += " (" + strings.Join(is.ResourceIDs, ", ") + ")"
	}
	return s
}

// Instance finds an instance by EC2 instance id or by private DNS name, the two names a Kubernetes
// node goes by (spec.providerID ends in the id; on EKS the node name is usually the DNS name), so a
// caller can join node conditions to the AWS view. Matching is case-insensitive because DNS names are.
func (h *ClusterHealth) Instance(key string) (Instance, bool) {
	if key == "" {
		return Instance{}, false
	}
	for _, in := range h.Instances {
		if strings.EqualFold(in.ID, key) || (in.PrivateDNSName != "" && strings.EqualFold(in.PrivateDNSName, key)) {
			return in, true
		}
	}
	return Instance{}, false
}
