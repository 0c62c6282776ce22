package change

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stewardhq/steward/internal/stage"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/task"
)

const sdk = ResourcePrefix

// probe reads what a recipe changes, straight from the sim; lists are
// sorted so that a rule put back at another place compares equal; an error
// reads as its name.
type probe struct{ service, action, params, path string }

func (e *env) probe(t testing.TB, p probe) string {
	t.Helper()
	out, err := e.cloud.Invoke(context.Background(), &task.Call{
		Resource: sdk + p.service + ":" + camel(p.action), Input: decodeJSON(t, p.params),
		ExecutionInput: map[string]any{"account": acct, "region": region},
	})
	if err != nil {
		if n := aslName(err); n != "" {
			return "error " + n
		}
		t.Fatalf("probe %s:%s: %v", p.service, p.action, err)
	}
	v := get(normalize(out), p.path)
	return string(encode(canonical(v)))
}

// canonical sorts every list inside v.
func canonical(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := obj{}
		for k, y := range x {
			out[k] = canonical(y)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, y := range x {
			out[i] = canonical(y)
		}
		return sortedByJSON(out)
	}
	return v
}

type step struct{ resource, params string }

func TestRecipesRoundTrip(t *testing.T) {
	pol := func(name string) string { return "arn:aws:iam::" + acct + ":policy/" + name }
	cases := []struct {
		name  string
		setup func(t *testing.T, e *env) []step // steps computed from the sim (e.g. an ETag)
		steps []step
		probe probe
	}{
		{name: "ec2 RevokeSecurityGroupIngress",
			steps: []step{{sdk + "ec2:revokeSecurityGroupIngress", `{"GroupId":"sg-1","IpPermissions":[{"IpProtocol":"tcp","FromPort":22,"ToPort":22,"IpRanges":[{"CidrIp":"0.0.0.0/0"}]}]}`}},
			probe: probe{"ec2", "DescribeSecurityGroups", `{"GroupIds":["sg-1"]}`, "SecurityGroups.0.IpPermissions"}},
		{name: "ec2 RevokeSecurityGroupIngress by rule id",
			setup: func(t *testing.T, e *env) []step {
				rules := e.read(t, "ec2", "DescribeSecurityGroupRules", `{"Filters":[{"Name":"group-id","Values":["sg-1"]}]}`)
				for _, r := range asList(rules["SecurityGroupRules"]) {
					if get(r, "IsEgress") != true && fmt.Sprint(get(r, "FromPort")) == "22" {
						return []step{{sdk + "ec2:revokeSecurityGroupIngress", `{"GroupId":"sg-1","SecurityGroupRuleIds":["` + str(r, "SecurityGroupRuleId") + `"]}`}}
					}
				}
				t.Fatalf("no port 22 rule: %v", rules)
				return nil
			},
			probe: probe{"ec2", "DescribeSecurityGroups", `{"GroupIds":["sg-1"]}`, "SecurityGroups.0.IpPermissions"}},
		{name: "ec2 RevokeSecurityGroupEgress",
			steps: []step{{sdk + "ec2:revokeSecurityGroupEgress", `{"GroupId":"sg-1","IpPermissions":[{"IpProtocol":"-1","IpRanges":[{"CidrIp":"0.0.0.0/0"}]}]}`}},
			probe: probe{"ec2", "DescribeSecurityGroups", `{"GroupIds":["sg-1"]}`, "SecurityGroups.0.IpPermissionsEgress"}},
		{name: "ec2 AuthorizeSecurityGroupIngress",
			steps: []step{{sdk + "ec2:authorizeSecurityGroupIngress", `{"GroupId":"sg-2","IpPermissions":[{"IpProtocol":"tcp","FromPort":80,"ToPort":80,"IpRanges":[{"CidrIp":"10.0.0.0/8"}]}]}`}},
			probe: probe{"ec2", "DescribeSecurityGroups", `{"GroupIds":["sg-2"]}`, "SecurityGroups.0.IpPermissions"}},
		{name: "ec2 ModifyInstanceMetadataOptions",
			steps: []step{{sdk + "ec2:modifyInstanceMetadataOptions", `{"InstanceId":"i-1","HttpTokens":"required","HttpPutResponseHopLimit":2}`}},
			probe: probe{"ec2", "DescribeInstances", `{"InstanceIds":["i-1"]}`, "Reservations.0.Instances.0.MetadataOptions.HttpTokens"}},
		{name: "ec2 ModifyInstanceMetadataDefaults",
			steps: []step{{sdk + "ec2:modifyInstanceMetadataDefaults", `{"HttpTokens":"required","HttpPutResponseHopLimit":2}`}},
			probe: probe{"ec2", "GetInstanceMetadataDefaults", `{}`, "AccountLevel"}},
		{name: "ec2 ModifyInstanceAttribute Groups",
			steps: []step{{sdk + "ec2:modifyInstanceAttribute", `{"InstanceId":"i-1","Groups":["sg-2"]}`}},
			probe: probe{"ec2", "DescribeInstances", `{"InstanceIds":["i-1"]}`, "Reservations.0.Instances.0.SecurityGroups"}},
		{name: "ec2 DetachInternetGateway",
			steps: []step{{sdk + "ec2:detachInternetGateway", `{"InternetGatewayId":"igw-1","VpcId":"vpc-1"}`}},
			probe: probe{"ec2", "DescribeInternetGateways", `{"InternetGatewayIds":["igw-1"]}`, "InternetGateways.0.Attachments"}},
		{name: "ec2 AttachInternetGateway",
			steps: []step{{sdk + "ec2:attachInternetGateway", `{"InternetGatewayId":"igw-2","VpcId":"vpc-2"}`}},
			probe: probe{"ec2", "DescribeInternetGateways", `{"InternetGatewayIds":["igw-2"]}`, "InternetGateways.0.Attachments"}},
		{name: "ec2 AuthorizeSecurityGroupEgress",
			steps: []step{{sdk + "ec2:authorizeSecurityGroupEgress", `{"GroupId":"sg-2","IpPermissions":[{"IpProtocol":"tcp","FromPort":443,"ToPort":443,"IpRanges":[{"CidrIp":"10.0.0.0/8"}]}]}`}},
			probe: probe{"ec2", "DescribeSecurityGroups", `{"GroupIds":["sg-2"]}`, "SecurityGroups.0.IpPermissionsEgress"}},
		{name: "ec2 CreateSecurityGroup",
			steps: []step{{sdk + "ec2:createSecurityGroup", `{"GroupName":"steward-quarantine","Description":"q","VpcId":"vpc-1"}`}},
			probe: probe{"ec2", "DescribeSecurityGroups", `{"Filters":[{"Name":"group-name","Values":["steward-quarantine"]}]}`, "SecurityGroups"}},
		{name: "ec2 CreateSnapshot",
			steps: []step{{sdk + "ec2:createSnapshot", `{"VolumeId":"vol-1","Description":"steward: before delete"}`}},
			probe: probe{"ec2", "DescribeSnapshots", `{"Filters":[{"Name":"volume-id","Values":["vol-1"]}]}`, "Snapshots"}},
		{name: "ec2 CreateTags (overwrite and add)",
			steps: []step{{sdk + "ec2:createTags", `{"Resources":["vol-1"],"Tags":[{"Key":"team","Value":"red"},{"Key":"steward:last-seen","Value":"2026-05-01"}]}`}},
			probe: probe{"ec2", "DescribeVolumes", `{"VolumeIds":["vol-1"]}`, "Volumes.0.Tags"}},
		{name: "ec2 DeleteTags",
			steps: []step{{sdk + "ec2:deleteTags", `{"Resources":["vol-1"],"Tags":[{"Key":"team"}]}`}},
			probe: probe{"ec2", "DescribeVolumes", `{"VolumeIds":["vol-1"]}`, "Volumes.0.Tags"}},
		{name: "iam SetDefaultPolicyVersion",
			steps: []step{{sdk + "iam:setDefaultPolicyVersion", `{"PolicyArn":"` + pol("app-policy") + `","VersionId":"v2"}`}},
			probe: probe{"iam", "GetPolicy", `{"PolicyArn":"` + pol("app-policy") + `"}`, "Policy.DefaultVersionId"}},
		{name: "iam CreatePolicyVersion as default",
			steps: []step{{sdk + "iam:createPolicyVersion", `{"PolicyArn":"` + pol("app-policy") + `","PolicyDocument":"{\"Version\":\"2012-10-17\",\"Statement\":[]}","SetAsDefault":true}`}},
			probe: probe{"iam", "ListPolicyVersions", `{"PolicyArn":"` + pol("app-policy") + `"}`, "Versions"}},
		{name: "iam DetachRolePolicy",
			steps: []step{{sdk + "iam:detachRolePolicy", `{"RoleName":"app","PolicyArn":"` + pol("admin-policy") + `"}`}},
			probe: probe{"iam", "ListAttachedRolePolicies", `{"RoleName":"app"}`, "AttachedPolicies"}},
		{name: "iam AttachRolePolicy",
			steps: []step{{sdk + "iam:attachRolePolicy", `{"RoleName":"app","PolicyArn":"` + pol("app-policy") + `"}`}},
			probe: probe{"iam", "ListAttachedRolePolicies", `{"RoleName":"app"}`, "AttachedPolicies"}},
		{name: "iam UpdateAccessKey",
			steps: []step{{sdk + "iam:updateAccessKey", `{"UserName":"alice","AccessKeyId":"AKIAALICE0000000001","Status":"Inactive"}`}},
			probe: probe{"iam", "ListAccessKeys", `{"UserName":"alice"}`, "AccessKeyMetadata.0.Status"}},
		{name: "iam CreatePolicy",
			steps: []step{{sdk + "iam:createPolicy", `{"PolicyName":"steward-deny","PolicyDocument":"{\"Version\":\"2012-10-17\",\"Statement\":[]}"}`}},
			probe: probe{"iam", "GetPolicy", `{"PolicyArn":"` + pol("steward-deny") + `"}`, "Policy.PolicyName"}},
		{name: "s3 PutPublicAccessBlock",
			steps: []step{{sdk + "s3:putPublicAccessBlock", `{"Bucket":"site","PublicAccessBlockConfiguration":{"BlockPublicAcls":true,"IgnorePublicAcls":true,"BlockPublicPolicy":true,"RestrictPublicBuckets":true}}`}},
			probe: probe{"s3", "GetPublicAccessBlock", `{"Bucket":"site"}`, "PublicAccessBlockConfiguration"}},
		{name: "s3 PutBucketPolicy",
			steps: []step{{sdk + "s3:putBucketPolicy", `{"Bucket":"site","Policy":"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":\"arn:aws:s3:::site/*\",\"Condition\":{\"Bool\":{\"aws:SecureTransport\":\"false\"}}}]}"}`}},
			probe: probe{"s3", "GetBucketPolicy", `{"Bucket":"site"}`, "Policy"}},
		{name: "s3 DeleteBucketPolicy",
			steps: []step{{sdk + "s3:deleteBucketPolicy", `{"Bucket":"site"}`}},
			probe: probe{"s3", "GetBucketPolicy", `{"Bucket":"site"}`, "Policy"}},
		{name: "route53 ChangeResourceRecordSets DELETE, UPSERT, CREATE",
			steps: []step{{sdk + "route53:changeResourceRecordSets", `{"HostedZoneId":"Z0000000000001","ChangeBatch":{"Changes":[
				{"Action":"DELETE","ResourceRecordSet":{"Name":"old.example.com","Type":"CNAME","TTL":60,"ResourceRecords":[{"Value":"gone.example.net"}]}},
				{"Action":"UPSERT","ResourceRecordSet":{"Name":"www.example.com","Type":"A","TTL":60,"ResourceRecords":[{"Value":"192.0.2.9"}]}},
				{"Action":"CREATE","ResourceRecordSet":{"Name":"new.example.com","Type":"A","TTL":60,"ResourceRecords":[{"Value":"192.0.2.10"}]}}]}}`}},
			probe: probe{"route53", "ListResourceRecordSets", `{"HostedZoneId":"Z0000000000001"}`, "ResourceRecordSets"}},
		{name: "cloudfront UpdateDistribution",
			setup: func(t *testing.T, e *env) []step {
				cur := e.read(t, "cloudfront", "GetDistributionConfig", `{"Id":"E1OQK8XICQK4UM"}`)
				cfg := asObj(completeDistributionConfig(cur["DistributionConfig"]))
				cfg["Comment"] = "locked down by steward"
				params := obj{"Id": "E1OQK8XICQK4UM", "IfMatch": cur["ETag"], "DistributionConfig": cfg}
				return []step{{sdk + "cloudfront:updateDistribution", string(encode(params))}}
			},
			probe: probe{"cloudfront", "GetDistributionConfig", `{"Id":"E1OQK8XICQK4UM"}`, "DistributionConfig"}},
		{name: "securityhub BatchUpdateFindings",
			steps: []step{{sdk + "securityhub:batchUpdateFindings", `{"FindingIdentifiers":[{"Id":"f-1","ProductArn":"arn:aws:securityhub:us-east-1::product/aws/securityhub"}],"Workflow":{"Status":"RESOLVED"},"Note":{"Text":"fixed by steward","UpdatedBy":"steward"}}`}},
			probe: probe{"securityhub", "GetFindings", `{"Filters":{"Id":[{"Value":"f-1","Comparison":"EQUALS"}]}}`, "Findings.0.Workflow.Status"}},
	}
	var pass atomic.Int32
	t.Cleanup(func() {
		t.Logf("recipes round trip (apply in enforce, rollback, state back): %d/%d pass", pass.Load(), len(cases))
	})
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			exec := execARN("pb", fmt.Sprint("e", i))
			before := e.probe(t, tc.probe)
			steps := tc.steps
			if tc.setup != nil {
				steps = tc.setup(t, e)
			}
			for j, s := range steps {
				e.mustInvoke(t, exec, fmt.Sprint("S", j), s.resource, s.params)
			}
			after := e.probe(t, tc.probe)
			if after == before {
				t.Fatalf("the call changed nothing the probe sees: %s", after)
			}
			list := e.changes(t, exec)
			if len(list) != len(steps) {
				t.Fatalf("%d change records, want %d", len(list), len(steps))
			}
			for _, c := range list {
				if c.Status != store.StatusApplied || c.Irreversible != "" || len(c.Undo) == 0 || c.Stage != "enforce" {
					t.Fatalf("record %+v (undo %s, irreversible %q, error %q)", c, c.Undo, c.Irreversible, c.Error)
				}
			}
			check, err := e.gate.CheckRollback(context.Background(), exec)
			if err != nil || !check.DryRun || len(check.UndoCalls) == 0 || e.probe(t, tc.probe) != after {
				t.Fatalf("dry run: %+v %v", check, err)
			}
			res, err := e.gate.Rollback(context.Background(), exec, "alice")
			if err != nil {
				t.Fatalf("rollback: %v\nundo: %s", err, list[0].Undo)
			}
			if len(res.RolledBack) != len(steps) {
				t.Fatalf("rolled back %v", res.RolledBack)
			}
			if now := e.probe(t, tc.probe); now != before {
				t.Fatalf("after rollback:\n now    %s\n before %s\n after  %s\nundo %s", now, before, after, list[0].Undo)
			}
			for _, c := range e.changes(t, exec) {
				if c.Status != store.StatusRolledBack || c.RolledBackBy != "alice" || c.RolledBackAt.IsZero() {
					t.Fatalf("not marked rolled back: %+v", c)
				}
			}
			pass.Add(1)
		})
	}
}

func TestIrreversiblePointsAtSnapshotAndRefusesRollback(t *testing.T) {
	e := newEnv(t, nil)
	exec := execARN("ebs-unused", "e1")
	snap := e.mustInvoke(t, exec, "Snapshot", sdk+"ec2:createSnapshot", `{"VolumeId":"vol-1"}`)
	e.mustInvoke(t, exec, "Delete", sdk+"ec2:deleteVolume", `{"VolumeId":"vol-1"}`)
	list := e.changes(t, exec)
	if len(list) != 2 {
		t.Fatalf("%d records", len(list))
	}
	del := list[1]
	if !strings.Contains(del.Irreversible, str(snap, "SnapshotId")) || !strings.Contains(del.Irreversible, "vol-1") {
		t.Fatalf("DeleteVolume record does not point at the snapshot: %q", del.Irreversible)
	}
	if str(decode(del.Before), "Size") != "" || get(decode(del.Before), "Size") == nil {
		t.Fatalf("before not recorded: %s", del.Before)
	}
	_, err := e.gate.Rollback(context.Background(), exec, "alice")
	var irr *IrreversibleError
	if !errors.As(err, &irr) || !errors.Is(err, ErrIrreversible) || !strings.Contains(err.Error(), str(snap, "SnapshotId")) {
		t.Fatalf("rollback: %v", err)
	}
	// Nothing was undone: the snapshot (the only copy now) is still there.
	if got := e.probe(t, probe{"ec2", "DescribeSnapshots", `{"SnapshotIds":["` + str(snap, "SnapshotId") + `"]}`, "Snapshots.0.SnapshotId"}); !strings.Contains(got, "snap-") {
		t.Fatalf("snapshot gone after a refused rollback: %s", got)
	}
	for _, c := range e.changes(t, exec) {
		if c.Status != store.StatusApplied {
			t.Fatalf("%s is %s", c.ID, c.Status)
		}
	}

	// Other irreversible calls say where what is left is.
	e.mustInvoke(t, exec, "Release", sdk+"ec2:releaseAddress", `{"AllocationId":"eipalloc-1"}`)
	e.mustInvoke(t, exec, "DeleteDB", sdk+"rds:deleteDBInstance", `{"DBInstanceIdentifier":"db1","FinalDBSnapshotIdentifier":"db1-final"}`)
	e.mustInvoke(t, exec, "Terminate", sdk+"ec2:terminateInstances", `{"InstanceIds":["i-2"]}`)
	e.mustInvoke(t, exec, "DeleteSnap", sdk+"ec2:deleteSnapshot", `{"SnapshotId":"`+str(snap, "SnapshotId")+`"}`)
	e.mustInvoke(t, exec, "DeleteLB", sdk+"elasticloadbalancingv2:deleteLoadBalancer", `{"LoadBalancerArn":"arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/app/web/50dc6c495c0c9188"}`)
	e.mustInvoke(t, exec, "EmptyZone", sdk+"route53:changeResourceRecordSets", `{"HostedZoneId":"Z0000000000001","ChangeBatch":{"Changes":[
		{"Action":"DELETE","ResourceRecordSet":{"Name":"old.example.com","Type":"CNAME","TTL":60,"ResourceRecords":[{"Value":"gone.example.net"}]}},
		{"Action":"DELETE","ResourceRecordSet":{"Name":"www.example.com","Type":"A","TTL":300,"ResourceRecords":[{"Value":"192.0.2.1"}]}}]}}`)
	e.mustInvoke(t, exec, "DeleteZone", sdk+"route53:deleteHostedZone", `{"Id":"Z0000000000001"}`)
	list = e.changes(t, exec)
	for i, want := range map[int][]string{
		2: {"203.0.113.5", "eipalloc-1"},
		3: {"db1-final"},
		4: {"i-2", "snap-"},
		5: {"snap-", "vol-1"},
		6: {"loadbalancer/app/web"},
		8: {"Z0000000000001", "record sets"},
	} {
		for _, w := range want {
			if !strings.Contains(list[i].Irreversible, w) {
				t.Errorf("%s:%s irreversible %q lacks %q", list[i].Service, list[i].Action, list[i].Irreversible, w)
			}
		}
		if len(list[i].Before) == 0 {
			t.Errorf("%s:%s: no before recorded", list[i].Service, list[i].Action)
		}
	}
	if get(decode(list[6].Before), "LoadBalancer.LoadBalancerName") != "web" {
		t.Errorf("load balancer config not recorded: %s", list[6].Before)
	}
	// The execution holds irreversible changes: its rollback names them all.
	_, err = e.gate.Rollback(context.Background(), exec, "alice")
	if !errors.As(err, &irr) || len(irr.Changes) != 7 {
		t.Fatalf("rollback: %v", err)
	}
}

func TestDriftRefusesRollback(t *testing.T) {
	e := newEnv(t, nil)
	exec := execARN("sg-open", "e1")
	e.mustInvoke(t, exec, "Tag", sdk+"ec2:createTags", `{"Resources":["vol-1"],"Tags":[{"Key":"steward:owner","Value":"alice"}]}`)
	e.mustInvoke(t, exec, "Revoke", sdk+"ec2:revokeSecurityGroupIngress", `{"GroupId":"sg-1","IpPermissions":[{"IpProtocol":"tcp","FromPort":22,"ToPort":22,"IpRanges":[{"CidrIp":"0.0.0.0/0"}]}]}`)
	// Someone opens another port after the fix.
	if _, err := e.cloud.Invoke(context.Background(), &task.Call{Resource: sdk + "ec2:authorizeSecurityGroupIngress",
		Input:          decodeJSON(t, `{"GroupId":"sg-1","IpPermissions":[{"IpProtocol":"tcp","FromPort":8080,"ToPort":8080,"IpRanges":[{"CidrIp":"10.0.0.0/8"}]}]}`),
		ExecutionInput: map[string]any{"account": acct, "region": region}}); err != nil {
		t.Fatal(err)
	}
	sgBefore := e.probe(t, probe{"ec2", "DescribeSecurityGroups", `{"GroupIds":["sg-1"]}`, "SecurityGroups.0.IpPermissions"})
	tagsBefore := e.probe(t, probe{"ec2", "DescribeVolumes", `{"VolumeIds":["vol-1"]}`, "Volumes.0.Tags"})
	_, err := e.gate.Rollback(context.Background(), exec, "alice")
	var drift *DriftError
	if !errors.As(err, &drift) || !errors.Is(err, ErrDrift) {
		t.Fatalf("rollback: %v", err)
	}
	if drift.Resource != "sg-1" || len(drift.Diffs) == 0 || !strings.Contains(err.Error(), "IpPermissions") || !strings.Contains(err.Error(), "8080") {
		t.Fatalf("drift error does not say what changed: %v", err)
	}
	t.Logf("drift: %v", err)
	if got := e.probe(t, probe{"ec2", "DescribeSecurityGroups", `{"GroupIds":["sg-1"]}`, "SecurityGroups.0.IpPermissions"}); got != sgBefore {
		t.Fatalf("security group changed by a refused rollback: %s", got)
	}
	// The other change of the execution, which did not drift, was not undone either.
	if got := e.probe(t, probe{"ec2", "DescribeVolumes", `{"VolumeIds":["vol-1"]}`, "Volumes.0.Tags"}); got != tagsBefore {
		t.Fatalf("tags changed by a refused rollback: %s", got)
	}
	for _, c := range e.changes(t, exec) {
		if c.Status != store.StatusApplied {
			t.Fatalf("%s is %s", c.ID, c.Status)
		}
	}
	// The change that did not drift can still be rolled back on its own.
	first := e.changes(t, exec)[0]
	if _, err := e.gate.Rollback(context.Background(), first.ID, "alice"); err != nil {
		t.Fatal(err)
	}
}

func TestObserveAndNotifyMakeNoCall(t *testing.T) {
	for _, st := range []stage.Stage{stage.Observe, stage.Notify} {
		t.Run(string(st), func(t *testing.T) {
			e := newEnv(t, nil)
			e.stages.set(st)
			exec := execARN("ebs-unused", "e1")
			snap := e.mustInvoke(t, exec, "Snapshot", sdk+"ec2:createSnapshot", `{"VolumeId":"vol-1"}`)
			if snap["Planned"] != true || !strings.HasPrefix(str(snap, "SnapshotId"), "snap-planned-") || str(snap, "ChangeId") == "" {
				t.Fatalf("planned result %v", snap)
			}
			del := e.mustInvoke(t, exec, "Delete", sdk+"ec2:deleteVolume", `{"VolumeId":"vol-1"}`)
			if del["Planned"] != true {
				t.Fatalf("planned result %v", del)
			}
			// Reads pass through.
			vols := e.mustInvoke(t, exec, "Read", sdk+"ec2:describeVolumes", `{"VolumeIds":["vol-1"]}`)
			if str(vols, "Volumes.0.VolumeId") != "vol-1" {
				t.Fatalf("read through the gate: %v", vols)
			}
			calls := e.sim.Calls()
			if calls["ec2:DeleteVolume"] != 0 || calls["ec2:CreateSnapshot"] != 0 {
				t.Fatalf("mutating calls made in %s: %v", st, calls)
			}
			list := e.changes(t, exec)
			if len(list) != 2 || list[0].Status != store.StatusPlanned || list[1].Status != store.StatusPlanned || list[1].Stage != string(st) {
				t.Fatalf("records: %v", pretty(list))
			}
			if get(decode(list[1].Before), "VolumeId") != "vol-1" {
				t.Fatalf("planned record has no before: %s", list[1].Before)
			}
			if !strings.Contains(list[1].Irreversible, str(snap, "SnapshotId")) {
				t.Fatalf("planned deletion does not point at the planned snapshot: %q", list[1].Irreversible)
			}
			if e.probe(t, probe{"ec2", "DescribeVolumes", `{"VolumeIds":["vol-1"]}`, "Volumes.0.State"}) != `"available"` {
				t.Fatal("volume changed")
			}
			if _, err := e.gate.Rollback(context.Background(), exec, "alice"); !errors.Is(err, ErrNothingToRollBack) {
				t.Fatalf("rollback of a plan: %v", err)
			}
		})
	}

	t.Run("a dry run lowers enforce to observe", func(t *testing.T) {
		e := newEnv(t, nil)
		h, _ := e.reg.Resolve(sdk + "ec2:deleteVolume")
		out, err := h.Invoke(context.Background(), &task.Call{Resource: sdk + "ec2:deleteVolume", Input: decodeJSON(t, `{"VolumeId":"vol-1"}`),
			ExecutionID: execARN("ebs-unused", "dry"), StateName: "Delete", IdempotencyKey: "dry/1",
			ExecutionInput: map[string]any{"account": acct, "region": region, "steward": map[string]any{"stage": "observe"}}})
		if err != nil || asObj(out)["Planned"] != true || e.sim.Calls()["ec2:DeleteVolume"] != 0 {
			t.Fatalf("dry run: %v %v %v", out, err, e.sim.Calls())
		}
	})
}

func TestBlastRadiusPausesThePlaybook(t *testing.T) {
	e := newEnv(t, func(c *Config) {
		c.Limits = func(string) (int, int) { return 3, 5 }
	})
	ctx := context.Background()
	tag := func(exec, state string, n int) error {
		_, err := e.invoke(t, exec, state, sdk+"ec2:createTags", fmt.Sprintf(`{"Resources":["vol-1"],"Tags":[{"Key":"k%d","Value":"v"}]}`, n))
		return err
	}
	run1 := execARN("ebs-unused", "run1")
	for i := 0; i < 3; i++ {
		if err := tag(run1, fmt.Sprint("T", i), i); err != nil {
			t.Fatal(err)
		}
	}
	err := tag(run1, "T3", 3)
	if aslName(err) != ErrNameBlastRadiusExceeded || !errors.Is(err, ErrBlastRadius) {
		t.Fatalf("4th change in a run of limit 3: %v", err)
	}
	if len(e.alerts) != 1 || !strings.Contains(e.alerts[0], "ebs-unused") {
		t.Fatalf("alerts %v", e.alerts)
	}
	if p, _ := e.db.PlaybookPaused(ctx, "ebs-unused"); p == nil {
		t.Fatal("not paused")
	}
	// Paused: another run fails too, and no call is made.
	before := e.sim.Calls()["ec2:CreateTags"]
	if err := tag(execARN("ebs-unused", "run2"), "T0", 10); aslName(err) != ErrNamePlaybookPaused || !errors.Is(err, ErrPaused) {
		t.Fatalf("paused playbook: %v", err)
	}
	if e.sim.Calls()["ec2:CreateTags"] != before {
		t.Fatal("a paused playbook made a call")
	}
	// Other playbooks go on; planned calls are not limited.
	if err := tag(execARN("other", "r"), "T0", 11); err != nil {
		t.Fatal(err)
	}
	if err := e.db.ResumePlaybook(ctx, "ebs-unused"); err != nil {
		t.Fatal(err)
	}
	// Per hour: 3 applied in the hour, limit 5: two more in a new run, then the limit.
	run3 := execARN("ebs-unused", "run3")
	for i := 0; i < 2; i++ {
		if err := tag(run3, fmt.Sprint("T", i), 20+i); err != nil {
			t.Fatal(err)
		}
	}
	if err := tag(run3, "T2", 30); aslName(err) != ErrNameBlastRadiusExceeded || !strings.Contains(err.Error(), "hour") {
		t.Fatalf("hourly limit: %v", err)
	}
	e.db.ResumePlaybook(ctx, "ebs-unused")
	e.clock.Advance(61 * 60e9)
	if err := tag(execARN("ebs-unused", "run4"), "T0", 40); err != nil {
		t.Fatalf("an hour later: %v", err)
	}
	// A scan's executions share one run.
	e.db.ResumePlaybook(ctx, "ebs-unused")
}

func TestIdempotentRedelivery(t *testing.T) {
	e := newEnv(t, nil)
	exec := execARN("ebs-unused", "e1")
	first := e.mustInvoke(t, exec, "Snapshot", sdk+"ec2:createSnapshot", `{"VolumeId":"vol-1"}`)
	again := e.mustInvoke(t, exec, "Snapshot", sdk+"ec2:createSnapshot", `{"VolumeId":"vol-1"}`)
	if str(first, "SnapshotId") == "" || str(first, "SnapshotId") != str(again, "SnapshotId") {
		t.Fatalf("re-delivery: %v then %v", first, again)
	}
	if n := e.sim.Calls()["ec2:CreateSnapshot"]; n != 1 {
		t.Fatalf("CreateSnapshot made %d times", n)
	}
	if n := len(e.changes(t, exec)); n != 1 {
		t.Fatalf("%d records", n)
	}
	// A failed call is made again on re-delivery, in the same record.
	_, err := e.invoke(t, exec, "Bad", sdk+"ec2:deleteVolume", `{"VolumeId":"vol-404"}`)
	if aslName(err) == "" {
		t.Fatalf("deleting an unknown volume: %v", err)
	}
	if _, err := e.invoke(t, exec, "Bad", sdk+"ec2:deleteVolume", `{"VolumeId":"vol-404"}`); aslName(err) == "" {
		t.Fatalf("re-delivered failed call: %v", err)
	}
	// The before read failed as the call would have: nothing was called
	// and nothing recorded.
	if n := len(e.changes(t, exec)); n != 1 || e.sim.Calls()["ec2:DeleteVolume"] != 0 {
		t.Fatalf("%d records after a failed before read, %d calls", n, e.sim.Calls()["ec2:DeleteVolume"])
	}
	// A call without a before read that fails is recorded failed, and made
	// again when re-delivered.
	for i := 0; i < 2; i++ {
		if _, err := e.invoke(t, exec, "BadSG", sdk+"ec2:deleteSecurityGroup", `{"GroupId":"sg-404"}`); aslName(err) == "" {
			t.Fatalf("deleting an unknown group: %v", err)
		}
	}
	if c := e.changes(t, exec); len(c) != 2 || c[1].Status != store.StatusFailed || c[1].Error == "" || e.sim.Calls()["ec2:DeleteSecurityGroup"] != 2 {
		t.Fatalf("failed record: %s, %d calls", pretty(c), e.sim.Calls()["ec2:DeleteSecurityGroup"])
	}
	e.stages.set(stage.Observe)
	if out := e.mustInvoke(t, exec, "BadSG", sdk+"ec2:deleteSecurityGroup", `{"GroupId":"sg-404"}`); out["Planned"] != true {
		t.Fatalf("failed call re-delivered in observe: %v", out)
	}
	if c := e.changes(t, exec)[1]; c.Status != store.StatusPlanned {
		t.Fatalf("record after observe re-delivery: %+v", c)
	}
	p1 := e.mustInvoke(t, exec, "Plan", sdk+"ec2:deleteVolume", `{"VolumeId":"vol-1"}`)
	p2 := e.mustInvoke(t, exec, "Plan", sdk+"ec2:deleteVolume", `{"VolumeId":"vol-1"}`)
	if p1["ChangeId"] != p2["ChangeId"] {
		t.Fatalf("planned re-delivery: %v %v", p1, p2)
	}
}

func TestPlanAndRecordTasks(t *testing.T) {
	e := newEnv(t, nil)
	exec := execARN("pb", "e1")
	out := e.mustInvoke(t, exec, "Plan", "steward:plan", `{"Service":"ec2","Action":"StopInstances","Parameters":{"InstanceIds":["i-1"]},"Resource":"i-1","Reason":"idle"}`)
	if out["Planned"] != true || str(out, "ChangeId") == "" {
		t.Fatalf("plan: %v", out)
	}
	rec := e.mustInvoke(t, exec, "Record", "steward:record", `{"Service":"ec2","Action":"CreateTags","Resource":"vol-1",
		"Parameters":{"Resources":["vol-1"],"Tags":[{"Key":"x","Value":"y"}]},
		"Undo":[{"Service":"ec2","Action":"deleteTags","Parameters":{"Resources":["vol-1"],"Tags":[{"Key":"x"}]}}]}`)
	if str(rec, "ChangeId") == "" {
		t.Fatalf("record: %v", rec)
	}
	// The recorded change was made by hand (outside the gate); roll it back through its undo.
	if _, err := e.cloud.Invoke(context.Background(), &task.Call{Resource: sdk + "ec2:createTags", Input: decodeJSON(t, `{"Resources":["vol-1"],"Tags":[{"Key":"x","Value":"y"}]}`),
		ExecutionInput: map[string]any{"account": acct, "region": region}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.gate.Rollback(context.Background(), str(rec, "ChangeId"), "bob"); err != nil {
		t.Fatal(err)
	}
	if got := e.probe(t, probe{"ec2", "DescribeVolumes", `{"VolumeIds":["vol-1"]}`, "Volumes.0.Tags"}); strings.Contains(got, `"x"`) {
		t.Fatalf("tag x still there: %s", got)
	}
	var plans Plans = e.gate
	id, err := plans.RecordPlan(context.Background(), &task.Call{ExecutionID: exec, StateName: "Notify", IdempotencyKey: "n/1"},
		Plan{Kind: store.KindNotice, Service: "steward", Action: "notify", Resource: "vol-1", Parameters: map[string]any{"Owner": "alice@example.com"}})
	if err != nil || id == "" {
		t.Fatal(id, err)
	}
	c, _ := e.db.GetChange(context.Background(), id)
	if c.Kind != store.KindNotice || c.Status != store.StatusPlanned {
		t.Fatalf("notice plan %+v", c)
	}
}

func TestUnknownMutatingCallIsGatedAndRecorded(t *testing.T) {
	e := newEnv(t, nil)
	exec := execARN("pb", "e1")
	e.mustInvoke(t, exec, "Attach", sdk+"ec2:attachVolume", `{"VolumeId":"vol-1","InstanceId":"i-1","Device":"/dev/sdf"}`)
	list := e.changes(t, exec)
	if len(list) != 1 || list[0].Irreversible != "no undo known for ec2:AttachVolume" || list[0].Status != store.StatusApplied {
		t.Fatalf("records %s", pretty(list))
	}
	e.stages.set(stage.Observe)
	exec2 := execARN("pb", "e2")
	out := e.mustInvoke(t, exec2, "Detach", sdk+"ec2:detachVolume", `{"VolumeId":"vol-1"}`)
	if out["Planned"] != true || e.sim.Calls()["ec2:DetachVolume"] != 0 {
		t.Fatalf("unknown call in observe: %v", out)
	}
}

func TestReadOnly(t *testing.T) {
	for _, tc := range []struct {
		action string
		want   bool
	}{
		{"describeVolumes", true}, {"ListBuckets", true}, {"getCallerIdentity", true}, {"lookupEvents", true},
		{"headObject", true}, {"searchResources", true}, {"deleteVolume", false}, {"Getaway", false},
		{"putBucketPolicy", false}, {"listing", false}, {"", false}, {"batchGetSecurityControls", true},
		{"simulatePrincipalPolicy", true}, {"batchUpdateFindings", false},
	} {
		if got := ReadOnly("x", tc.action); got != tc.want {
			t.Errorf("ReadOnly(%q) = %v", tc.action, got)
		}
	}
}

func TestDeletePolicyVersionComesBackAsANewVersion(t *testing.T) {
	e := newEnv(t, nil)
	arn := "arn:aws:iam::" + acct + ":policy/app-policy"
	exec := execARN("iam-restricted-actions", "e1")
	e.mustInvoke(t, exec, "Delete", sdk+"iam:deletePolicyVersion", `{"PolicyArn":"`+arn+`","VersionId":"v2"}`)
	if n := len(asList(e.read(t, "iam", "ListPolicyVersions", `{"PolicyArn":"`+arn+`"}`)["Versions"])); n != 1 {
		t.Fatalf("%d versions after delete", n)
	}
	if _, err := e.gate.Rollback(context.Background(), exec, "alice"); err != nil {
		t.Fatal(err)
	}
	versions := asList(e.read(t, "iam", "ListPolicyVersions", `{"PolicyArn":"`+arn+`"}`)["Versions"])
	if len(versions) != 2 {
		t.Fatalf("versions after rollback: %v", versions)
	}
	for _, v := range versions {
		if str(v, "VersionId") == "v1" {
			if get(v, "IsDefaultVersion") != true {
				t.Fatal("v1 is no longer the default")
			}
			continue
		}
		doc := e.read(t, "iam", "GetPolicyVersion", `{"PolicyArn":"`+arn+`","VersionId":"`+str(v, "VersionId")+`"}`)
		if !strings.Contains(str(doc, "PolicyVersion.Document"), "%22Action%22%3A%22%2A%22") && !strings.Contains(str(doc, "PolicyVersion.Document"), `"Action":"*"`) {
			t.Fatalf("restored version's document: %v", doc)
		}
	}
}

// A playbook that changes one resource several times (iam-restricted-actions:
// a safe version as default, then the old one deleted or made default
// again) rolls back as a whole, and a change made by someone else between
// two of its changes is drift.
func TestRollbackOfSeveralChangesToOneResource(t *testing.T) {
	arn := "arn:aws:iam::" + acct + ":policy/app-policy"
	versions := func(e *env) string {
		return e.probe(t, probe{"iam", "ListPolicyVersions", `{"PolicyArn":"` + arn + `"}`, "Versions"})
	}
	safe := `{"PolicyArn":"` + arn + `","PolicyDocument":"{\"Version\":\"2012-10-17\",\"Statement\":[]}","SetAsDefault":true}`
	t.Run("kept reverted: the old default deleted", func(t *testing.T) {
		e := newEnv(t, nil)
		exec := execARN("iam-restricted-actions", "denied")
		e.mustInvoke(t, exec, "Revert", sdk+"iam:createPolicyVersion", safe)
		e.mustInvoke(t, exec, "Delete", sdk+"iam:deletePolicyVersion", `{"PolicyArn":"`+arn+`","VersionId":"v1"}`)
		if _, err := e.gate.Rollback(context.Background(), exec, "alice"); err != nil {
			t.Fatal(err)
		}
		// v1's document is back as the default (under a new id); v3 is gone.
		def := e.read(t, "iam", "GetPolicy", `{"PolicyArn":"`+arn+`"}`)
		doc := e.read(t, "iam", "GetPolicyVersion", `{"PolicyArn":"`+arn+`","VersionId":"`+str(def, "Policy.DefaultVersionId")+`"}`)
		if !strings.Contains(str(doc, "PolicyVersion.Document"), "GetObject") {
			t.Fatalf("default after rollback: %v", doc)
		}
		if n := len(asList(e.read(t, "iam", "ListPolicyVersions", `{"PolicyArn":"`+arn+`"}`)["Versions"])); n != 2 {
			t.Fatalf("%d versions", n)
		}
	})
	t.Run("approved: the old default restored", func(t *testing.T) {
		e := newEnv(t, nil)
		before := versions(e)
		exec := execARN("iam-restricted-actions", "approved")
		e.mustInvoke(t, exec, "Revert", sdk+"iam:createPolicyVersion", safe)
		e.mustInvoke(t, exec, "Restore", sdk+"iam:setDefaultPolicyVersion", `{"PolicyArn":"`+arn+`","VersionId":"v1"}`)
		if _, err := e.gate.Rollback(context.Background(), exec, "alice"); err != nil {
			t.Fatal(err)
		}
		if now := versions(e); now != before {
			t.Fatalf("versions %s, want %s", now, before)
		}
	})
	t.Run("one change alone, under a later one", func(t *testing.T) {
		e := newEnv(t, nil)
		exec := execARN("iam-restricted-actions", "alone")
		e.mustInvoke(t, exec, "Revert", sdk+"iam:createPolicyVersion", safe)
		e.mustInvoke(t, exec, "Restore", sdk+"iam:setDefaultPolicyVersion", `{"PolicyArn":"`+arn+`","VersionId":"v1"}`)
		first := e.changes(t, exec)[0]
		if _, err := e.gate.Rollback(context.Background(), first.ID, "alice"); !errors.Is(err, ErrLaterChange) || !strings.Contains(err.Error(), e.changes(t, exec)[1].ID) {
			t.Fatalf("rollback of the first change alone: %v", err)
		}
		// The later one alone is fine, and then the first.
		if _, err := e.gate.Rollback(context.Background(), e.changes(t, exec)[1].ID, "alice"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.gate.Rollback(context.Background(), first.ID, "alice"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("someone changed the default in between", func(t *testing.T) {
		e := newEnv(t, nil)
		exec := execARN("iam-restricted-actions", "between")
		e.mustInvoke(t, exec, "Revert", sdk+"iam:createPolicyVersion", safe)
		if _, err := e.cloud.Invoke(context.Background(), &task.Call{Resource: sdk + "iam:setDefaultPolicyVersion",
			Input: decodeJSON(t, `{"PolicyArn":"`+arn+`","VersionId":"v2"}`), ExecutionInput: map[string]any{"account": acct, "region": region}}); err != nil {
			t.Fatal(err)
		}
		e.mustInvoke(t, exec, "Restore", sdk+"iam:setDefaultPolicyVersion", `{"PolicyArn":"`+arn+`","VersionId":"v1"}`)
		before := versions(e)
		_, err := e.gate.Rollback(context.Background(), exec, "alice")
		var drift *DriftError
		if !errors.As(err, &drift) || !strings.Contains(err.Error(), "DefaultVersionId") {
			t.Fatalf("rollback: %v", err)
		}
		if now := versions(e); now != before {
			t.Fatal("a refused rollback changed the policy")
		}
	})
}

// In observe, a call on something planned earlier in the run makes no read.
func TestPlanOnPlannedResource(t *testing.T) {
	e := newEnv(t, nil)
	e.stages.set(stage.Observe)
	exec := execARN("ec2-manual-launch", "q")
	sg := e.mustInvoke(t, exec, "Quarantine", sdk+"ec2:createSecurityGroup", `{"GroupName":"q","Description":"q","VpcId":"vpc-1"}`)
	e.sim.ResetCalls()
	out := e.mustInvoke(t, exec, "NoEgress", sdk+"ec2:revokeSecurityGroupEgress", `{"GroupId":"`+str(sg, "GroupId")+`","IpPermissions":[{"IpProtocol":"-1","IpRanges":[{"CidrIp":"0.0.0.0/0"}]}]}`)
	if out["Planned"] != true || e.sim.Calls()["total"] != 0 {
		t.Fatalf("%v, calls %v", out, e.sim.Calls())
	}
	if c := e.changes(t, exec)[1]; c.Error != "" || c.Status != store.StatusPlanned {
		t.Fatalf("%+v", c)
	}
}

// Change records keep no secrets: a call that returns one (an access key)
// gives it to the playbook, and the record says "(redacted)".
func TestRecordsKeepNoSecrets(t *testing.T) {
	_, reg, f, db := newFakeGate(t, nil)
	reg.Register(ResourcePrefix+"*", task.HandlerFunc(func(ctx context.Context, c *task.Call) (any, error) {
		if strings.HasSuffix(c.Resource, ":createAccessKey") {
			return obj{"AccessKey": obj{"AccessKeyId": "AKIANEW", "SecretAccessKey": "s3cr3t", "Status": "Active"}}, nil
		}
		return f.Invoke(ctx, c)
	}))
	g2, err := New(Config{Store: db, Stages: stage.Fixed(stage.Enforce)})
	if err != nil {
		t.Fatal(err)
	}
	if err := g2.Register(reg); err != nil {
		t.Fatal(err)
	}
	h, _ := reg.Resolve(ResourcePrefix + "iam:createAccessKey")
	out, err := h.Invoke(context.Background(), &task.Call{Resource: ResourcePrefix + "iam:createAccessKey", Input: decodeJSON(t, `{"UserName":"alice"}`),
		ExecutionID: execARN("pb", "k"), IdempotencyKey: "key"})
	if err != nil || str(normalize(out), "AccessKey.SecretAccessKey") != "s3cr3t" {
		t.Fatalf("the playbook gets the secret: %v %v", out, err)
	}
	c, _ := db.GetChangeByKey(context.Background(), "key")
	if strings.Contains(string(c.Result), "s3cr3t") || !strings.Contains(string(c.Result), "(redacted)") {
		t.Fatalf("record result %s", c.Result)
	}
}
