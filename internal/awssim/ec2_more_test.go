package awssim

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

func TestEC2SecurityGroups(t *testing.T) {
	s, u := newTestSim(t, Options{})
	if err := s.AddResources(testAccount, testRegion, Resources{Instances: []Instance{{ID: "i-00000000000000001"}}}); err != nil {
		t.Fatal(err)
	}
	c := ec2.NewFromConfig(sdkConfig(u, testRegion, testKey, "secret", ""))
	sg, err := c.CreateSecurityGroup(ctx(t), &ec2.CreateSecurityGroupInput{GroupName: aws.String("web"), Description: aws.String("web"), VpcId: aws.String("vpc-1")})
	if err != nil {
		t.Fatal(err)
	}
	id := sg.GroupId
	if _, err := c.CreateSecurityGroup(ctx(t), &ec2.CreateSecurityGroupInput{GroupName: aws.String("web"), Description: aws.String("web"), VpcId: aws.String("vpc-1")}); errorCode(err) != "InvalidGroup.Duplicate" {
		t.Fatalf("duplicate group: %v", err)
	}
	open := []ec2types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22),
		IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}, Ipv6Ranges: []ec2types.Ipv6Range{{CidrIpv6: aws.String("::/0")}}}}
	auth, err := c.AuthorizeSecurityGroupIngress(ctx(t), &ec2.AuthorizeSecurityGroupIngressInput{GroupId: id, IpPermissions: open})
	if err != nil || len(auth.SecurityGroupRules) != 2 {
		t.Fatalf("authorize: %+v %v", auth, err)
	}
	if _, err := c.AuthorizeSecurityGroupIngress(ctx(t), &ec2.AuthorizeSecurityGroupIngressInput{GroupId: id, IpPermissions: open}); errorCode(err) != "InvalidPermission.Duplicate" {
		t.Fatalf("duplicate rule: %v", err)
	}
	found, err := c.DescribeSecurityGroups(ctx(t), &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{{Name: aws.String("ip-permission.cidr"), Values: []string{"0.0.0.0/0"}}}})
	if err != nil || len(found.SecurityGroups) != 1 || len(found.SecurityGroups[0].IpPermissions[0].Ipv6Ranges) != 1 {
		t.Fatalf("describe by cidr: %+v %v", found, err)
	}
	rules, err := c.DescribeSecurityGroupRules(ctx(t), &ec2.DescribeSecurityGroupRulesInput{Filters: []ec2types.Filter{{Name: aws.String("group-id"), Values: []string{aws.ToString(id)}}}})
	if err != nil || len(rules.SecurityGroupRules) != 3 {
		t.Fatalf("rules: %+v %v", rules, err)
	}
	var v6 string
	for _, r := range rules.SecurityGroupRules {
		if aws.ToString(r.CidrIpv6) == "::/0" {
			v6 = aws.ToString(r.SecurityGroupRuleId)
		}
	}
	if _, err := c.RevokeSecurityGroupIngress(ctx(t), &ec2.RevokeSecurityGroupIngressInput{GroupId: id, SecurityGroupRuleIds: []string{v6}}); err != nil {
		t.Fatal(err)
	}
	v4 := []ec2types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22), IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}
	if _, err := c.RevokeSecurityGroupIngress(ctx(t), &ec2.RevokeSecurityGroupIngressInput{GroupId: id, IpPermissions: v4}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RevokeSecurityGroupIngress(ctx(t), &ec2.RevokeSecurityGroupIngressInput{GroupId: id, IpPermissions: v4}); errorCode(err) != "InvalidPermission.NotFound" {
		t.Fatalf("revoke missing rule: %v", err)
	}
	if _, err := c.RevokeSecurityGroupEgress(ctx(t), &ec2.RevokeSecurityGroupEgressInput{GroupId: id, IpPermissions: []ec2types.IpPermission{{IpProtocol: aws.String("-1"), IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AuthorizeSecurityGroupEgress(ctx(t), &ec2.AuthorizeSecurityGroupEgressInput{GroupId: id, IpPermissions: v4}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ModifyInstanceAttribute(ctx(t), &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String("i-00000000000000001"), Groups: []string{aws.ToString(id)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteSecurityGroup(ctx(t), &ec2.DeleteSecurityGroupInput{GroupId: id}); errorCode(err) != "DependencyViolation" {
		t.Fatalf("delete in use: %v", err)
	}
	if _, err := c.DeleteSecurityGroup(ctx(t), &ec2.DeleteSecurityGroupInput{GroupId: aws.String("sg-0000000000000dead")}); errorCode(err) != "InvalidGroup.NotFound" {
		t.Fatalf("delete missing: %v", err)
	}
}

func TestEC2InstancesAndMetadata(t *testing.T) {
	clk := newFakeClock()
	s, u := newTestSim(t, Options{Now: clk.Now, SettleDelay: time.Minute})
	err := s.AddResources(testAccount, testRegion, Resources{
		Instances: []Instance{{ID: "i-00000000000000001", HTTPTokens: "optional"}, {ID: "i-00000000000000002", HTTPTokens: "required"}},
		Volumes:   []Volume{{ID: "vol-00000000000000001", Attachments: []VolumeAttachment{{InstanceID: "i-00000000000000001", Device: "/dev/xvda", DeleteOnTermination: true}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	c := ec2.NewFromConfig(sdkConfig(u, testRegion, testKey, "secret", ""))
	v1, err := c.DescribeInstances(ctx(t), &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Name: aws.String("metadata-options.http-tokens"), Values: []string{"optional"}}}})
	if err != nil || len(v1.Reservations) != 1 || aws.ToString(v1.Reservations[0].Instances[0].InstanceId) != "i-00000000000000001" {
		t.Fatalf("imdsv1 instances: %+v %v", v1, err)
	}
	if bdm := v1.Reservations[0].Instances[0].BlockDeviceMappings; len(bdm) != 1 || aws.ToString(bdm[0].Ebs.VolumeId) != "vol-00000000000000001" {
		t.Fatalf("block devices: %+v", bdm)
	}
	mo, err := c.ModifyInstanceMetadataOptions(ctx(t), &ec2.ModifyInstanceMetadataOptionsInput{InstanceId: aws.String("i-00000000000000001"), HttpTokens: ec2types.HttpTokensStateRequired})
	if err != nil || mo.InstanceMetadataOptions.State != ec2types.InstanceMetadataOptionsStatePending {
		t.Fatalf("modify metadata: %+v %v", mo, err)
	}
	clk.Advance(2 * time.Minute)
	got, _ := c.DescribeInstances(ctx(t), &ec2.DescribeInstancesInput{InstanceIds: []string{"i-00000000000000001"}})
	md := got.Reservations[0].Instances[0].MetadataOptions
	if md.HttpTokens != ec2types.HttpTokensStateRequired || md.State != ec2types.InstanceMetadataOptionsStateApplied {
		t.Fatalf("metadata after settle: %+v", md)
	}
	st, err := c.StopInstances(ctx(t), &ec2.StopInstancesInput{InstanceIds: []string{"i-00000000000000002"}})
	if err != nil || st.StoppingInstances[0].CurrentState.Name != ec2types.InstanceStateNameStopping {
		t.Fatalf("stop: %+v %v", st, err)
	}
	tm, err := c.TerminateInstances(ctx(t), &ec2.TerminateInstancesInput{InstanceIds: []string{"i-00000000000000001"}})
	if err != nil || tm.TerminatingInstances[0].CurrentState.Name != ec2types.InstanceStateNameShuttingDown {
		t.Fatalf("terminate: %+v %v", tm, err)
	}
	clk.Advance(2 * time.Minute)
	stopped, _ := c.DescribeInstances(ctx(t), &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Name: aws.String("instance-state-name"), Values: []string{"stopped", "terminated"}}}})
	if n := len(stopped.Reservations); n != 2 {
		t.Fatalf("stopped+terminated reservations = %d", n)
	}
	if _, err := c.DescribeVolumes(ctx(t), &ec2.DescribeVolumesInput{VolumeIds: []string{"vol-00000000000000001"}}); errorCode(err) != "InvalidVolume.NotFound" {
		t.Fatalf("delete-on-termination volume still there: %v", err)
	}
	if _, err := c.StopInstances(ctx(t), &ec2.StopInstancesInput{InstanceIds: []string{"i-00000000000000001"}}); errorCode(err) != "IncorrectInstanceState" {
		t.Fatalf("stop terminated: %v", err)
	}
	run, err := c.RunInstances(ctx(t), &ec2.RunInstancesInput{ImageId: aws.String("ami-1"), MinCount: aws.Int32(1), MaxCount: aws.Int32(2),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance, Tags: []ec2types.Tag{{Key: aws.String("Name"), Value: aws.String("new")}}}}})
	if err != nil || len(run.Instances) != 2 || run.Instances[0].State.Name != ec2types.InstanceStateNamePending {
		t.Fatalf("run: %+v %v", run, err)
	}
	_, err = c.DescribeInstances(ctx(t), &ec2.DescribeInstancesInput{InstanceIds: []string{"i-0000000000000dead"}})
	if errorCode(err) != "InvalidInstanceID.NotFound" {
		t.Fatalf("missing instance: %v", err)
	}
	if _, err := c.DescribeInstances(ctx(t), &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Name: aws.String("no-such-filter"), Values: []string{"x"}}}}); errorCode(err) != "InvalidParameterValue" {
		t.Fatalf("bad filter: %v", err)
	}
}

func TestEC2AddressesAndGateways(t *testing.T) {
	s, u := newTestSim(t, Options{})
	err := s.AddResources(testAccount, testRegion, Resources{
		Addresses:        []Address{{AllocationID: "eipalloc-00000001", InstanceID: "i-00000000000000001"}},
		InternetGateways: []InternetGateway{{ID: "igw-00000001", VpcID: "vpc-1"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	c := ec2.NewFromConfig(sdkConfig(u, testRegion, testKey, "secret", ""))
	alloc, err := c.AllocateAddress(ctx(t), &ec2.AllocateAddressInput{})
	if err != nil {
		t.Fatal(err)
	}
	free, err := c.DescribeAddresses(ctx(t), &ec2.DescribeAddressesInput{})
	if err != nil || len(free.Addresses) != 2 {
		t.Fatalf("addresses: %+v %v", free, err)
	}
	if _, err := c.ReleaseAddress(ctx(t), &ec2.ReleaseAddressInput{AllocationId: aws.String("eipalloc-00000001")}); errorCode(err) != "InvalidIPAddress.InUse" {
		t.Fatalf("release associated: %v", err)
	}
	if _, err := c.ReleaseAddress(ctx(t), &ec2.ReleaseAddressInput{AllocationId: alloc.AllocationId}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ReleaseAddress(ctx(t), &ec2.ReleaseAddressInput{AllocationId: alloc.AllocationId}); errorCode(err) != "InvalidAllocationID.NotFound" {
		t.Fatalf("release twice: %v", err)
	}
	if _, err := c.DetachInternetGateway(ctx(t), &ec2.DetachInternetGatewayInput{InternetGatewayId: aws.String("igw-00000001"), VpcId: aws.String("vpc-2")}); errorCode(err) != "Gateway.NotAttached" {
		t.Fatalf("detach wrong vpc: %v", err)
	}
	if _, err := c.DetachInternetGateway(ctx(t), &ec2.DetachInternetGatewayInput{InternetGatewayId: aws.String("igw-00000001"), VpcId: aws.String("vpc-1")}); err != nil {
		t.Fatal(err)
	}
	igws, err := c.DescribeInternetGateways(ctx(t), &ec2.DescribeInternetGatewaysInput{})
	if err != nil || len(igws.InternetGateways) != 1 || len(igws.InternetGateways[0].Attachments) != 0 {
		t.Fatalf("igws: %+v %v", igws, err)
	}
	if _, err := c.AttachInternetGateway(ctx(t), &ec2.AttachInternetGatewayInput{InternetGatewayId: aws.String("igw-00000001"), VpcId: aws.String("vpc-1")}); err != nil {
		t.Fatal(err)
	}
}

func TestScenarioYAML(t *testing.T) {
	const doc = `
regions: [us-east-1, eu-west-1]
credentials:
  - {access_key_id: AKIDYAML, secret_access_key: s, account: "333333333333"}
accounts:
  - id: "333333333333"
    name: prod
    class: production
    ou: Root/Prod
    tags: {owner: secops}
    iam:
      roles: [{name: StewardRemediation}]
    regions:
      eu-west-1:
        volumes:
          - {id: vol-0123456789abcdef0, size: 20, tags: {owner: ann}}
`
	sc, err := LoadScenario(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	s := New(Options{})
	if err := s.Apply(sc); err != nil {
		t.Fatal(err)
	}
	u, stop := s.Start()
	defer stop()
	if got := s.Accounts(); len(got) != 1 || got[0].Class != "production" || got[0].Tags["owner"] != "secops" {
		t.Fatalf("accounts: %+v", got)
	}
	c := ec2.NewFromConfig(sdkConfig(u, "eu-west-1", "AKIDYAML", "s", ""))
	out, err := c.DescribeVolumes(ctx(t), &ec2.DescribeVolumesInput{})
	if err != nil || len(out.Volumes) != 1 || aws.ToInt32(out.Volumes[0].Size) != 20 {
		t.Fatalf("volumes: %+v %v", out, err)
	}
	if _, err := LoadScenario(strings.NewReader("accounts: [{id: \"1\", bogus: 1}]")); err == nil {
		t.Fatal("unknown field accepted")
	}
	if err := New(Options{}).Apply(&Scenario{Accounts: []ScenarioAccount{{ID: "12"}}}); err == nil {
		t.Fatal("bad account id accepted")
	}
}

func TestQueryThrottlingAndInternalErrors(t *testing.T) {
	s, u := newTestSim(t, Options{})
	s.SetFaults(Faults{ThrottleRate: 1})
	cfg := sdkConfig(u, testRegion, testKey, "secret", "")
	if _, err := iam.NewFromConfig(cfg).ListRoles(ctx(t), &iam.ListRolesInput{}); errorCode(err) != "Throttling" {
		t.Fatalf("iam throttled: %v", err)
	}
	if _, err := ec2.NewFromConfig(cfg).DescribeVolumes(ctx(t), &ec2.DescribeVolumesInput{}); errorCode(err) != "RequestLimitExceeded" {
		t.Fatalf("ec2 throttled: %v", err)
	}
	s.SetFaults(Faults{ErrorRate: 1})
	if _, err := iam.NewFromConfig(cfg).ListRoles(ctx(t), &iam.ListRolesInput{}); errorCode(err) != "InternalError" {
		t.Fatalf("iam internal error: %v", err)
	}
	s.SetFaults(Faults{})
	if calls := s.Calls(); calls["iam:ListRoles"] != 10 || calls["ec2:DescribeVolumes"] != 5 {
		t.Fatalf("calls with retries = %v", calls)
	}
	s.ResetCalls()
	if len(s.Calls()) != 0 {
		t.Fatal("reset did not clear")
	}
}

func TestEC2Vpcs(t *testing.T) {
	_, u := newTestSim(t, Options{})
	c := ec2.NewFromConfig(sdkConfig(u, testRegion, testKey, "secret", ""))
	if _, err := c.CreateVpc(ctx(t), &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/99")}); errorCode(err) != "InvalidParameterValue" {
		t.Fatalf("bad cidr: %v", err)
	}
	v, err := c.CreateVpc(ctx(t), &ec2.CreateVpcInput{CidrBlock: aws.String("10.4.0.0/16")})
	if err != nil || v.Vpc.State != ec2types.VpcStatePending {
		t.Fatalf("create: %+v %v", v, err)
	}
	id := v.Vpc.VpcId
	vs, err := c.DescribeVpcs(ctx(t), &ec2.DescribeVpcsInput{VpcIds: []string{aws.ToString(id)}})
	if err != nil || vs.Vpcs[0].State != ec2types.VpcStateAvailable {
		t.Fatalf("describe: %+v %v", vs, err)
	}
	sg, err := c.CreateSecurityGroup(ctx(t), &ec2.CreateSecurityGroupInput{GroupName: aws.String("app"), Description: aws.String("app"), VpcId: id})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteVpc(ctx(t), &ec2.DeleteVpcInput{VpcId: id}); errorCode(err) != "DependencyViolation" {
		t.Fatalf("delete with a group: %v", err)
	}
	if _, err := c.DeleteSecurityGroup(ctx(t), &ec2.DeleteSecurityGroupInput{GroupId: sg.GroupId}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteVpc(ctx(t), &ec2.DeleteVpcInput{VpcId: id}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteVpc(ctx(t), &ec2.DeleteVpcInput{VpcId: id}); errorCode(err) != "InvalidVpcID.NotFound" {
		t.Fatalf("delete twice: %v", err)
	}
}

func TestEC2InstanceMetadataDefaults(t *testing.T) {
	_, u := newTestSim(t, Options{})
	c := ec2.NewFromConfig(sdkConfig(u, testRegion, testKey, "secret", ""))
	got, err := c.GetInstanceMetadataDefaults(ctx(t), &ec2.GetInstanceMetadataDefaultsInput{})
	if err != nil || got.AccountLevel.HttpTokens != "" {
		t.Fatalf("initial defaults: %+v %v", got, err)
	}
	if _, err := c.ModifyInstanceMetadataDefaults(ctx(t), &ec2.ModifyInstanceMetadataDefaultsInput{HttpTokens: ec2types.MetadataDefaultHttpTokensStateRequired}); err != nil {
		t.Fatal(err)
	}
	got, err = c.GetInstanceMetadataDefaults(ctx(t), &ec2.GetInstanceMetadataDefaultsInput{})
	if err != nil || got.AccountLevel.HttpTokens != ec2types.HttpTokensStateRequired {
		t.Fatalf("defaults: %+v %v", got, err)
	}
	run, err := c.RunInstances(ctx(t), &ec2.RunInstancesInput{ImageId: aws.String("ami-1"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	if err != nil || run.Instances[0].MetadataOptions.HttpTokens != ec2types.HttpTokensStateRequired {
		t.Fatalf("new instance ignores defaults: %+v %v", run, err)
	}
}
