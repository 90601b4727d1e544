package cloud

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// Instance is what collection needs to know about an EC2 instance.
type Instance struct {
	ID             string
	Region         string
	State          string // EC2 state name: pending, running, stopping, stopped, shutting-down, terminated
	Cluster        string // EKS cluster from the instance's tags; empty when it is not an EKS node
	PrivateDNSName string // the Kubernetes node name on EKS
	AZ             string
	LaunchTime     time.Time
}

// instanceIDRE is EC2's id format: the old 8-digit and the current 17-digit form.
var instanceIDRE = regexp.MustCompile(`^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$`)

// runbookExampleID is the placeholder the K3 runbook's examples use; an agent that copies it
// needs telling where the real id is.
const runbookExampleID = "i-0abc123def456"

// ValidInstanceID checks id is an EC2 instance id: "i-" and 8 or 17 lowercase hex digits.
func ValidInstanceID(id string) error {
	if instanceIDRE.MatchString(id) {
		return nil
	}
	which := ""
	if id == runbookExampleID {
		which = " (that is the runbook's example, not a node's id)"
	}
	return fmt.Errorf("%w %q%s: want \"i-\" and 8 or 17 lowercase hex digits, like i-0a1b2c3d4e5f60718; a node's id "+
		"is the last part of its providerID (kubectl get node NODE -o jsonpath='{.spec.providerID}')", ErrInvalidInstanceID, id, which)
}

// FindInstance looks id up with ec2:DescribeInstances. With region set only that region is asked;
// otherwise the configured region and then Options.Regions, in order, until one has it.
func (a *AWS) FindInstance(ctx context.Context, id, region string) (Instance, error) {
	if err := ValidInstanceID(id); err != nil {
		return Instance{}, err
	}
	regions := a.searchOrder(region)
	if len(regions) == 0 {
		return Instance{}, fmt.Errorf("%w: cannot look for %s: set AWS_REGION, a region in the AWS profile, or pass --region", ErrNoRegion, id)
	}
	for _, r := range regions {
		inst, found, err := a.describeInstance(ctx, id, r)
		if err != nil {
			return Instance{}, err
		}
		if found {
			return inst, nil
		}
	}
	return Instance{}, fmt.Errorf("%w: %s is in none of the regions searched (%s): check the id, or pass --region",
		ErrInstanceNotFound, id, strings.Join(regions, ", "))
}

// searchOrder is the list of regions FindInstance asks, without repeats.
func (a *AWS) searchOrder(region string) []string {
	if region != "" {
		return []string{region}
	}
	var out []string
	seen := map[string]bool{}
	for _, r := range append([]string{a.cfg.Region}, a.opts.Regions...) {
		if r != "" && !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out
}

// describeInstance asks one region for id; found is false when the region does not have it.
func (a *AWS) describeInstance(ctx context.Context, id, region string) (Instance, bool, error) {
	c, err := a.region(ctx, region)
	if err != nil {
		return Instance{}, false, err
	}
	out, err := c.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		if apiCode(err) == "InvalidInstanceID.NotFound" {
			return Instance{}, false, nil
		}
		return Instance{}, false, classify("ec2:DescribeInstances in "+region, err)
	}
	for _, res := range out.Reservations {
		for _, in := range res.Instances {
			if aws.ToString(in.InstanceId) == id {
				return toInstance(in, region), true, nil
			}
		}
	}
	return Instance{}, false, nil
}

// toInstance converts the SDK's instance.
func toInstance(in types.Instance, region string) Instance {
	inst := Instance{
		ID:             aws.ToString(in.InstanceId),
		Region:         region,
		PrivateDNSName: aws.ToString(in.PrivateDnsName),
		Cluster:        clusterFromTags(in.Tags),
	}
	if in.State != nil {
		inst.State = string(in.State.Name)
	}
	if in.Placement != nil {
		inst.AZ = aws.ToString(in.Placement.AvailabilityZone)
	}
	if in.LaunchTime != nil {
		inst.LaunchTime = in.LaunchTime.UTC()
	}
	return inst
}

// clusterFromTags returns the EKS cluster an instance belongs to. Managed node groups set
// eks:cluster-name, Karpenter and eksctl set kubernetes.io/cluster/<name>, and aws:eks:cluster-name
// comes from EKS-owned launch templates; any one of them makes the instance an EKS node.
func clusterFromTags(tags []types.Tag) string {
	var fromPrefix string
	for _, t := range tags {
		k, v := aws.ToString(t.Key), aws.ToString(t.Value)
		switch {
		case (k == "eks:cluster-name" || k == "aws:eks:cluster-name") && v != "":
			return v
		case strings.HasPrefix(k, "kubernetes.io/cluster/") && len(k) > len("kubernetes.io/cluster/"):
			fromPrefix = strings.TrimPrefix(k, "kubernetes.io/cluster/")
		}
	}
	return fromPrefix
}

// NodegroupInstances lists the instances of an EKS managed node group in region ("" for the
// configured one), by the tags EKS puts on every instance it launches for the group,
// eks:cluster-name and eks:nodegroup-name. One paginated ec2:DescribeInstances answers it, with
// the state and tags collection checks anyway: the EKS and Auto Scaling APIs would need two more
// services' permissions and clients to reach the same instance ids, and then this call still.
// Terminated and shutting-down instances are left out; stopped ones are kept, so their rows say
// why they cannot be collected. No instance at all is ErrInstanceNotFound naming what was asked.
func (a *AWS) NodegroupInstances(ctx context.Context, cluster, nodegroup, region string) ([]Instance, error) {
	if region == "" {
		region = a.cfg.Region
	}
	c, err := a.region(ctx, region)
	if err != nil {
		return nil, err
	}
	in := &ec2.DescribeInstancesInput{Filters: []types.Filter{
		{Name: aws.String("tag:eks:cluster-name"), Values: []string{cluster}},
		{Name: aws.String("tag:eks:nodegroup-name"), Values: []string{nodegroup}},
		{Name: aws.String("instance-state-name"), Values: []string{"pending", "running", "stopping", "stopped"}},
	}}
	var out []Instance
	for p := ec2.NewDescribeInstancesPaginator(c.ec2, in); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, classify("ec2:DescribeInstances in "+region, err)
		}
		for _, res := range page.Reservations {
			for _, i := range res.Instances {
				out = append(out, toInstance(i, region))
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no instance in %s has the tags eks:cluster-name=%s and eks:nodegroup-name=%s: check the names "+
			"(aws eks list-nodegroups --cluster-name %s) and the region (--region)", ErrInstanceNotFound, region, cluster, nodegroup, cluster)
	}
	return out, nil
}
