package playbooks_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/stewardhq/steward/internal/asl"
	"github.com/stewardhq/steward/internal/awssim"
	"github.com/stewardhq/steward/internal/engine"
	"github.com/stewardhq/steward/internal/ingest"
	"github.com/stewardhq/steward/internal/playbooktest"
	"github.com/stewardhq/steward/internal/rules"
	"github.com/stewardhq/steward/internal/stage"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/task"
	"github.com/stewardhq/steward/internal/testdata"
	"github.com/stewardhq/steward/playbooks"
)

// The event-driven playbooks of group B: ec2-manual-launch, imdsv1 (its
// launch rule and its scan input), owner-tag, hub-finding and
// guardduty-quarantine. Their judges are the real records of
// ../shared/testdata: CloudTrail records wrapped as EventBridge delivers
// them, Security Hub findings and GuardDuty events. A record is changed
// only where a case's name says so (a derived case).

// eventsB are the playbooks this file judges.
var eventsB = []string{"ec2-manual-launch", "imdsv1", "owner-tag", "hub-finding", "guardduty-quarantine"}

// evbRead decodes one file of the outside test data (path under
// ../shared/testdata) into steward's value model.
func evbRead(t testing.TB, rel string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testdata.Dir(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	return v
}

// evbCloudTrail wraps a real CloudTrail record (file under
// cloudtrail/raw) as EventBridge does; derive, when not nil, changes the
// record first.
func evbCloudTrail(t testing.TB, file string, derive func(rec map[string]any)) map[string]any {
	t.Helper()
	rec := evbRead(t, filepath.Join("cloudtrail", "raw", file))
	if derive != nil {
		derive(rec)
	}
	ev, err := ingest.WrapCloudTrail(rec)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func evbJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// evbRules is a rule set with the rules of every embedded playbook, so a
// test sees every playbook an event starts.
func evbRules(t testing.TB) *rules.Set {
	t.Helper()
	if err := playbooks.Problems(); err != nil {
		t.Logf("embedded playbooks with problems (not judged here): %v", err)
	}
	s := rules.NewSet(playbooks.Exists)
	for _, name := range eventsB {
		p, err := playbooks.Get(name)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if err := s.PutAll(p.Rules); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	return s
}

// evbEvaluate runs the rules on an event.
func evbEvaluate(t testing.TB, s *rules.Set, event map[string]any, at time.Time, id string, c rules.Counter) []rules.Start {
	t.Helper()
	if c == nil {
		c = &rules.MemoryCounter{}
	}
	starts, err := s.Evaluate(context.Background(), evbJSON(t, event), rules.EvaluateParams{At: at, EventID: id, Counter: c})
	if err != nil {
		t.Fatal(err)
	}
	return starts
}

// evbStarted lists the playbooks an event starts (skipped ones left out).
func evbStarted(starts []rules.Start) []string {
	var out []string
	for _, st := range starts {
		if !st.Skipped {
			out = append(out, st.Playbook)
		}
	}
	sort.Strings(out)
	return out
}

// evbStart returns the start of one playbook among starts, or fails.
func evbStart(t testing.TB, starts []rules.Start, playbook string) rules.Start {
	t.Helper()
	for _, st := range starts {
		if st.Playbook == playbook && !st.Skipped {
			return st
		}
	}
	t.Fatalf("no start of %s among %+v", playbook, starts)
	return rules.Start{}
}

// asPerson makes a derived RunInstances record: the assumed role's
// session is renamed to an e-mail address of the company domain, as a
// single sign-on session of an employee is named.
func evbAsPerson(email string) func(rec map[string]any) {
	return func(rec map[string]any) {
		ui := rec["userIdentity"].(map[string]any)
		arn := ui["arn"].(string)
		ui["arn"] = arn[:strings.LastIndex(arn, "/")+1] + email
		if pid, ok := ui["principalId"].(string); ok {
			ui["principalId"] = pid[:strings.Index(pid, ":")+1] + email
		}
	}
}

// evbInstances are the instances a RunInstances record's response lists.
type evbInstance struct {
	ID, VPC, Subnet, Image, Type, AZ string
	Groups                           []string
}

func evbRecordInstances(t testing.TB, event map[string]any) []evbInstance {
	t.Helper()
	detail := event["detail"].(map[string]any)
	resp, _ := detail["responseElements"].(map[string]any)
	set, _ := resp["instancesSet"].(map[string]any)
	items, _ := set["items"].([]any)
	var out []evbInstance
	for _, it := range items {
		m := it.(map[string]any)
		in := evbInstance{ID: evbStr(m["instanceId"]), VPC: evbStr(m["vpcId"]), Subnet: evbStr(m["subnetId"]),
			Image: evbStr(m["imageId"]), Type: evbStr(m["instanceType"])}
		if pl, ok := m["placement"].(map[string]any); ok {
			in.AZ = evbStr(pl["availabilityZone"])
		}
		if gs, ok := m["groupSet"].(map[string]any); ok {
			gi, _ := gs["items"].([]any)
			for _, g := range gi {
				in.Groups = append(in.Groups, evbStr(g.(map[string]any)["groupId"]))
			}
		}
		out = append(out, in)
	}
	return out
}

func evbStr(v any) string {
	s, _ := v.(string)
	return s
}

// seedLaunch puts in the sim what a RunInstances record says it created:
// the VPC, the groups, the instances (running, HttpTokens as given) each
// with a root volume and, when profile is set, that instance profile
// whose role is role.
func evbSeedLaunch(t testing.TB, h *playbooktest.Harness, account, region string, event map[string]any, tokens, profile, role string) []evbInstance {
	t.Helper()
	ins := evbRecordInstances(t, event)
	var res awssim.Resources
	seenVPC, seenSG := map[string]bool{}, map[string]bool{}
	for i, in := range ins {
		if in.VPC != "" && !seenVPC[in.VPC] {
			seenVPC[in.VPC] = true
			res.Vpcs = append(res.Vpcs, awssim.Vpc{ID: in.VPC, CidrBlock: "172.31.0.0/16", State: "available"})
		}
		for _, g := range in.Groups {
			if !seenSG[g] {
				seenSG[g] = true
				res.SecurityGroups = append(res.SecurityGroups, awssim.SecurityGroup{ID: g, Name: "launch-" + g, Description: "from the record", VpcID: in.VPC,
					Ingress: []awssim.SecurityGroupRule{{ID: fmt.Sprintf("sgr-seed%d", i), Protocol: "tcp", FromPort: 22, ToPort: 22, CidrIPv4: "10.0.0.0/8"}},
					Egress:  []awssim.SecurityGroupRule{{ID: fmt.Sprintf("sgr-seedegress%d", i), Protocol: "-1", CidrIPv4: "0.0.0.0/0"}}})
			}
		}
		inst := awssim.Instance{ID: in.ID, ImageID: in.Image, InstanceType: in.Type, State: "running", LaunchTime: h.Clock.Now().Add(-time.Minute),
			AvailabilityZone: in.AZ, VpcID: in.VPC, SubnetID: in.Subnet, SecurityGroupIDs: in.Groups, HTTPTokens: tokens, RootDeviceName: "/dev/sda1"}
		if profile != "" {
			inst.IAMInstanceProfileARN = "arn:aws:iam::" + account + ":instance-profile/" + profile
		}
		res.Instances = append(res.Instances, inst)
		res.Volumes = append(res.Volumes, awssim.Volume{ID: "vol-" + strings.TrimPrefix(in.ID, "i-"), Size: 8, State: "in-use", VolumeType: "gp3",
			AvailabilityZone: in.AZ, CreateTime: h.Clock.Now().Add(-time.Minute),
			Attachments: []awssim.VolumeAttachment{{InstanceID: in.ID, Device: "/dev/sda1", State: "attached", AttachTime: h.Clock.Now().Add(-time.Minute), DeleteOnTermination: true}}})
	}
	if role != "" {
		// The account lists roles now: steward's own must be one of them
		// for AssumeRole to work.
		res.Roles = append(res.Roles, awssim.Role{Name: "steward-remediator", Path: "/", AssumeRolePolicyDocument: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}`})
		res.Roles = append(res.Roles, awssim.Role{Name: role, Path: "/", AssumeRolePolicyDocument: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`})
	}
	if err := h.Sim.AddResources(account, region, res); err != nil {
		t.Fatal(err)
	}
	if len(res.Roles) > 0 {
		if err := h.Sim.AddIAM(account, awssim.Resources{Roles: res.Roles}); err != nil {
			t.Fatal(err)
		}
	}
	if profile != "" {
		if err := h.Sim.AddInstanceProfile(account, awssim.InstanceProfile{Name: profile, Roles: []string{role}}); err != nil {
			t.Fatal(err)
		}
	}
	h.Sim.ExtendIAM()
	return ins
}

// describe returns an instance as EC2 describes it now.
func evbDescribe(t testing.TB, h *playbooktest.Harness, account, region, id string) (state string, groups []string, tokens string, tags map[string]string) {
	t.Helper()
	c := ec2.NewFromConfig(h.AWSConfig(account, region))
	out, err := c.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Reservations) == 0 || len(out.Reservations[0].Instances) == 0 {
		return "gone", nil, "", nil
	}
	in := out.Reservations[0].Instances[0]
	for _, g := range in.SecurityGroups {
		groups = append(groups, aws.ToString(g.GroupId))
	}
	tags = map[string]string{}
	for _, tg := range in.Tags {
		tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	if in.MetadataOptions != nil {
		tokens = string(in.MetadataOptions.HttpTokens)
	}
	return string(in.State.Name), groups, tokens, tags
}

func evbRolePolicies(t testing.TB, h *playbooktest.Harness, account, role string) []string {
	t.Helper()
	c := iam.NewFromConfig(h.AWSConfig(account, "us-east-1"))
	out, err := c.ListRolePolicies(context.Background(), &iam.ListRolePoliciesInput{RoleName: aws.String(role)})
	if err != nil {
		t.Fatal(err)
	}
	return out.PolicyNames
}

func evbChanges(cs []*store.Change) string {
	var b []string
	for _, c := range cs {
		b = append(b, fmt.Sprintf("%s:%s:%s:%s", c.Service, c.Action, c.Kind, c.Status))
	}
	return strings.Join(b, " ")
}

func evbRollback(t testing.TB, h *playbooktest.Harness, run *playbooktest.Run) {
	t.Helper()
	if _, err := h.Gate.Rollback(h.Context(), run.ARN, "events_b_test"); err != nil {
		t.Fatalf("rollback: %v", err)
	}
}

const (
	launchRecord = "RunInstances__custodian__event-cloud-trail-run-instance-creator-assumed.json"
	person       = "radiant@example.com"
)

// TestEC2ManualLaunchRule judges the rule on every real RunInstances
// record: none was made by a person of the company domain, so none starts
// the playbook as it is; the derived person's launch does.
func TestEC2ManualLaunchRule(t *testing.T) {
	s := evbRules(t)
	files, _ := filepath.Glob(filepath.Join(testdata.Dir(t, "cloudtrail", "raw"), "RunInstances__*.json"))
	if len(files) == 0 {
		t.Skip("no RunInstances records in the outside test data")
	}
	pass, total := 0, 0
	at := time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)
	for _, f := range files {
		ev := evbCloudTrail(t, filepath.Base(f), nil)
		total++
		got := evbStarted(evbEvaluate(t, s, ev, at, "", nil))
		if slices.Contains(got, "ec2-manual-launch") {
			t.Errorf("%s (no person of the company domain, or a failed call, or a service) started ec2-manual-launch", filepath.Base(f))
			continue
		}
		pass++
	}
	t.Logf("ec2-manual-launch rule: %d/%d real RunInstances records decided right (none was made by a person of the company domain)", pass, total)
	derived := evbCloudTrail(t, launchRecord, evbAsPerson(person))
	if got := evbStarted(evbEvaluate(t, s, derived, at, "", nil)); !slices.Contains(got, "ec2-manual-launch") {
		t.Errorf("derived (session renamed %s): started %v, want ec2-manual-launch", person, got)
	}
}

// TestEC2ManualLaunchThreshold: the sixth launch by the same person within
// 15 minutes takes the threshold path (skipped); a launch after the window
// starts the playbook again.
func TestEC2ManualLaunchThreshold(t *testing.T) {
	s := evbRules(t)
	ev := evbCloudTrail(t, launchRecord, evbAsPerson(person))
	counter := &rules.MemoryCounter{}
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var got []string
	for i, minute := range []int{0, 2, 4, 6, 8, 10, 40} {
		starts := evbEvaluate(t, s, ev, t0.Add(time.Duration(minute)*time.Minute), fmt.Sprintf("launch-%d", i), counter)
		outcome := "none"
		for _, st := range starts {
			if st.Rule != "ec2-manual-launch" {
				continue
			}
			outcome = st.Playbook
			if st.Skipped {
				outcome = "skip"
			}
		}
		got = append(got, outcome)
	}
	want := "ec2-manual-launch ec2-manual-launch ec2-manual-launch ec2-manual-launch ec2-manual-launch skip ec2-manual-launch"
	if strings.Join(got, " ") != want {
		t.Errorf("launches:\n got %s\nwant %s", strings.Join(got, " "), want)
	}
}

// manualLaunch seeds the record's account and starts ec2-manual-launch
// from the derived person's launch, as the rule starts it.
func evbManualLaunch(t *testing.T, st stage.Stage) (*playbooktest.Harness, *playbooktest.Run, evbInstance, string, string) {
	t.Helper()
	ev := evbCloudTrail(t, launchRecord, evbAsPerson(person))
	account, region := ev["account"].(string), ev["region"].(string)
	h := playbooktest.New(t, playbooktest.Options{
		Accounts: []playbooktest.Account{{ID: account, Class: "development", Regions: []string{region}}},
		Stages:   stage.Fixed(st),
	})
	h.NeedSim("seeds the record's instance, its role and instance profile")
	ins := evbSeedLaunch(t, h, account, region, ev, "optional", "dev-profile", "dev-app")
	start := evbStart(t, evbEvaluate(t, evbRules(t), ev, h.Clock.Now(), "", nil), "ec2-manual-launch")
	return h, h.Start("ec2-manual-launch", start.Input), ins[0], account, region
}

// TestEC2ManualLaunchQuarantineThenTerminate: the real launch (by the
// derived person) is quarantined, the owner approves, and a month later
// on the fake clock the volumes are snapshotted and the instance
// terminated.
func TestEC2ManualLaunchQuarantineThenTerminate(t *testing.T) {
	h, run, in, account, region := evbManualLaunch(t, stage.Enforce)
	tok := run.WaitToken("Ask owner")
	if in2, ok := tok.Input.(map[string]any); !ok || in2["Owner"] != person {
		t.Errorf("approval input: %v", tok.Input)
	}
	state, groups, _, tags := evbDescribe(t, h, account, region, in.ID)
	if state != "running" || len(groups) != 1 || slices.Contains(in.Groups, groups[0]) {
		t.Fatalf("quarantined instance: state %s groups %v (launched with %v)\n%s", state, groups, in.Groups, evbHistory(run))
	}
	if tags["steward:invariant"] != "ec2-manual-launch" {
		t.Errorf("tags %v: want steward:invariant=ec2-manual-launch", tags)
	}
	c := ec2.NewFromConfig(h.AWSConfig(account, region))
	sg, err := c.DescribeSecurityGroups(h.Context(), &ec2.DescribeSecurityGroupsInput{GroupIds: groups})
	if err != nil {
		t.Fatal(err)
	}
	if q := sg.SecurityGroups[0]; aws.ToString(q.GroupName) != "steward-quarantine" || len(q.IpPermissions) != 0 || len(q.IpPermissionsEgress) != 0 {
		t.Errorf("quarantine group %s: ingress %v egress %v", aws.ToString(q.GroupName), q.IpPermissions, q.IpPermissionsEgress)
	}
	if pols := evbRolePolicies(t, h, account, "dev-app"); !slices.Equal(pols, []string{"steward-quarantine-" + in.ID}) {
		t.Errorf("role policies %v", pols)
	}
	h.SendTaskSuccess(tok.Token, map[string]any{"decision": "approve", "by": person, "channel": "cli"})
	evbWaitEntered(t, run, "Wait a month")
	// The month-long wait: a day in, nothing has happened.
	h.Advance(24 * time.Hour)
	if state, _, _, _ := evbDescribe(t, h, account, region, in.ID); state != "running" {
		t.Fatalf("terminated before the month: %s", state)
	}
	h.Advance(30 * 24 * time.Hour)
	res := run.Wait()
	if res.Status != "SUCCEEDED" || res.Outcome() != "fixed" {
		t.Fatalf("run: %s %s %s output %s\n%s", res.Status, res.Error, res.Cause, res.Output, evbHistory(run))
	}
	if state, _, _, _ := evbDescribe(t, h, account, region, in.ID); state != "terminated" && state != "shutting-down" && state != "gone" {
		t.Errorf("after the month: %s", state)
	}
	snaps, err := c.DescribeSnapshots(h.Context(), &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}})
	if err != nil || len(snaps.Snapshots) != 1 || aws.ToString(snaps.Snapshots[0].VolumeId) != "vol-"+strings.TrimPrefix(in.ID, "i-") {
		t.Errorf("snapshots: %+v %v", snaps, err)
	}
	if pols := evbRolePolicies(t, h, account, "dev-app"); len(pols) != 0 {
		t.Errorf("role policies after termination %v", pols)
	}
	cs := h.Changes(run)
	actions := evbChanges(cs)
	for _, want := range []string{"ModifyInstanceAttribute", "PutRolePolicy", "CreateSnapshot", "TerminateInstances"} {
		if !strings.Contains(actions, want) {
			t.Errorf("change records lack %s: %s", want, actions)
		}
	}
}

// TestEC2ManualLaunchRollback: rolling back the quarantine puts the
// instance's groups back and removes the deny policy and the group.
func TestEC2ManualLaunchRollback(t *testing.T) {
	h, run, in, account, region := evbManualLaunch(t, stage.Enforce)
	run.WaitToken("Ask owner")
	evbRollback(t, h, run)
	_, groups, _, _ := evbDescribe(t, h, account, region, in.ID)
	if !slices.Equal(groups, in.Groups) {
		t.Errorf("groups after rollback %v, want %v (changes %s)", groups, in.Groups, evbChanges(h.Changes(run)))
	}
	if pols := evbRolePolicies(t, h, account, "dev-app"); len(pols) != 0 {
		t.Errorf("role policies after rollback %v", pols)
	}
	c := ec2.NewFromConfig(h.AWSConfig(account, region))
	sg, err := c.DescribeSecurityGroups(h.Context(), &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{{Name: aws.String("group-name"), Values: []string{"steward-quarantine"}}}})
	if err != nil || len(sg.SecurityGroups) != 0 {
		t.Errorf("quarantine group after rollback: %+v %v", sg, err)
	}
}

// TestEC2ManualLaunchException: an exception releases the instance.
func TestEC2ManualLaunchException(t *testing.T) {
	h, run, in, account, region := evbManualLaunch(t, stage.Enforce)
	tok := run.WaitToken("Ask owner")
	h.SendTaskSuccess(tok.Token, map[string]any{"decision": "exception", "by": person, "channel": "cli", "until": h.Clock.Now().AddDate(0, 1, 0).Format(time.RFC3339)})
	res := run.Wait()
	if res.Status != "SUCCEEDED" || res.Outcome() != "exception" {
		t.Fatalf("run: %s %s %s output %s\n%s", res.Status, res.Error, res.Cause, res.Output, evbHistory(run))
	}
	state, groups, _, _ := evbDescribe(t, h, account, region, in.ID)
	if state != "running" || !slices.Equal(groups, in.Groups) {
		t.Errorf("released instance: %s %v, want running %v", state, groups, in.Groups)
	}
	if pols := evbRolePolicies(t, h, account, "dev-app"); len(pols) != 0 {
		t.Errorf("role policies after the exception %v", pols)
	}
}

// TestEC2ManualLaunchObserve: in the observe stage nothing changes; the
// quarantine and the termination are planned.
func TestEC2ManualLaunchObserve(t *testing.T) {
	h, run, in, account, region := evbManualLaunch(t, stage.Observe)
	res := run.Wait()
	if res.Status != "SUCCEEDED" || res.Outcome() != "fixed" {
		t.Fatalf("run: %s %s %s output %s\n%s", res.Status, res.Error, res.Cause, res.Output, evbHistory(run))
	}
	state, groups, _, _ := evbDescribe(t, h, account, region, in.ID)
	if state != "running" || !slices.Equal(groups, in.Groups) {
		t.Errorf("observe changed the instance: %s %v", state, groups)
	}
	if pols := evbRolePolicies(t, h, account, "dev-app"); len(pols) != 0 {
		t.Errorf("observe changed the role: %v", pols)
	}
	cs := h.Changes(run)
	for _, c := range cs {
		if c.Status == store.StatusApplied && c.Kind == store.KindCall {
			t.Errorf("observe applied %s:%s", c.Service, c.Action)
		}
	}
	if s := evbChanges(cs); !strings.Contains(s, "ModifyInstanceAttribute") || !strings.Contains(s, "TerminateInstances") {
		t.Errorf("planned changes: %s", s)
	}
}

// evbHistory is the end of a run's history, for a failed test.
func evbHistory(run *playbooktest.Run) string {
	h := run.History()
	if len(h) > 4000 {
		h = "...\n" + h[len(h)-4000:]
	}
	return h
}

// evbHarness is a harness over the given accounts (each in the regions the
// outside records use), in one stage.
func evbHarness(t *testing.T, st stage.Stage, accounts ...string) *playbooktest.Harness {
	t.Helper()
	var accts []playbooktest.Account
	for _, a := range accounts {
		accts = append(accts, playbooktest.Account{ID: a, Class: "development", Regions: []string{"us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-central-1"}})
	}
	h := playbooktest.New(t, playbooktest.Options{Accounts: accts, Stages: stage.Fixed(st)})
	h.NeedSim("seeds the resources the outside records name")
	return h
}

// evbHubEvent wraps one ASFF finding as EventBridge delivers Security
// Hub's imports (detail-type "Security Hub Findings - Imported").
func evbHubEvent(f map[string]any) map[string]any {
	region, _ := f["Region"].(string)
	if r, ok := f["Resources"].([]any); ok && len(r) > 0 && region == "" {
		region, _ = r[0].(map[string]any)["Region"].(string)
	}
	pf, _ := f["ProductFields"].(map[string]any)
	res, _ := pf["aws/securityhub/FindingId"].(string)
	if res == "" {
		res, _ = f["Id"].(string)
	}
	return map[string]any{
		"version": "0", "id": "evb-" + fmt.Sprint(len(fmt.Sprint(f["Id"]))), "detail-type": "Security Hub Findings - Imported",
		"source": "aws.securityhub", "account": f["AwsAccountId"], "time": f["UpdatedAt"], "region": region,
		"resources": []any{res}, "detail": map[string]any{"findings": []any{f}},
	}
}

// evbHubFiles are the outside Security Hub findings: every ASFF finding
// wrapped as an import, and the real import events.
func evbHubFiles(t testing.TB) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	files, _ := filepath.Glob(filepath.Join(testdata.Dir(t, "securityhub", "asff"), "*.json"))
	for _, f := range files {
		out["asff/"+filepath.Base(f)] = evbHubEvent(evbRead(t, filepath.Join("securityhub", "asff", filepath.Base(f))))
	}
	files, _ = filepath.Glob(filepath.Join(testdata.Dir(t, "securityhub", "eventbridge"), "*.json"))
	for _, f := range files {
		out["eventbridge/"+filepath.Base(f)] = evbRead(t, filepath.Join("securityhub", "eventbridge", filepath.Base(f)))
	}
	return out
}

func evbGet(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

// TestHubFindingRule: hub-finding starts for imported findings that are
// active, FAILED and NEW, and for nothing else (custom actions, insight
// results, GuardDuty and Inspector findings, passed controls).
func TestHubFindingRule(t *testing.T) {
	s := evbRules(t)
	events := evbHubFiles(t)
	if len(events) == 0 {
		t.Skip("no Security Hub findings in the outside test data")
	}
	names := make([]string, 0, len(events))
	for n := range events {
		names = append(names, n)
	}
	sort.Strings(names)
	pass := 0
	for _, n := range names {
		ev := events[n]
		want := false
		if ev["detail-type"] == "Security Hub Findings - Imported" {
			fs, _ := evbGet(ev, "detail", "findings").([]any)
			for _, f := range fs {
				if evbGet(f, "RecordState") == "ACTIVE" && evbGet(f, "Workflow", "Status") == "NEW" && evbGet(f, "Compliance", "Status") == "FAILED" {
					want = true
				}
			}
		}
		got := slices.Contains(evbStarted(evbEvaluate(t, s, ev, time.Now(), "", nil)), "hub-finding")
		if got != want {
			t.Errorf("%s: started hub-finding %v, want %v", n, got, want)
			continue
		}
		pass++
	}
	t.Logf("hub-finding rule: %d/%d outside Security Hub findings and events decided right", pass, len(names))
}

// hubRun seeds the finding in the sim and runs hub-finding as its rule
// starts it.
func hubRun(t *testing.T, h *playbooktest.Harness, ev map[string]any) *playbooktest.Run {
	t.Helper()
	for _, f := range evbGet(ev, "detail", "findings").([]any) {
		fm := f.(map[string]any)
		if err := h.Sim.AddFindings(ev["account"].(string), ev["region"].(string), fm); err != nil {
			t.Fatal(err)
		}
	}
	start := evbStart(t, evbEvaluate(t, evbRules(t), ev, h.Clock.Now(), "", nil), "hub-finding")
	return h.Start("hub-finding", start.Input)
}

func hubStatus(t testing.TB, h *playbooktest.Harness, account, region, id string) string {
	t.Helper()
	for _, f := range h.Sim.Findings(account, region) {
		if f["Id"] == id {
			s, _ := evbGet(f, "Workflow", "Status").(string)
			return s
		}
	}
	t.Fatalf("finding %s not found", id)
	return ""
}

// TestHubFindingEC28: the real EC2.8 finding requires IMDSv2 on its
// instance and resolves the finding; rollback undoes both; observe
// changes nothing.
func TestHubFindingEC28(t *testing.T) {
	f := evbRead(t, "securityhub/asff/securityhub-cspm__afsbp-ec2-8.json")
	ev := evbHubEvent(f)
	account, region, id := f["AwsAccountId"].(string), f["Region"].(string), f["Id"].(string)
	instanceID := "i-077c4d5f32561ac45"
	if got := evbGet(f, "Resources"); !strings.Contains(fmt.Sprint(got), instanceID) {
		t.Fatalf("the finding is not about %s", instanceID)
	}
	seed := func(h *playbooktest.Harness) {
		det := evbGet(f, "Resources").([]any)[0].(map[string]any)["Details"].(map[string]any)["AwsEc2Instance"].(map[string]any)
		if err := h.Sim.AddResources(account, region, awssim.Resources{
			Vpcs:           []awssim.Vpc{{ID: det["VpcId"].(string), CidrBlock: "10.0.0.0/16", State: "available"}},
			SecurityGroups: []awssim.SecurityGroup{{ID: "sg-0123456789abcdef0", Name: "app", VpcID: det["VpcId"].(string)}},
			Instances: []awssim.Instance{{ID: instanceID, ImageID: det["ImageId"].(string), InstanceType: "t3.micro", State: "running", VpcID: det["VpcId"].(string),
				SubnetID: det["SubnetId"].(string), HTTPTokens: evbGet(det, "MetadataOptions", "HttpTokens").(string), SecurityGroupIDs: []string{"sg-0123456789abcdef0"}}},
		}); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("enforce", func(t *testing.T) {
		h := evbHarness(t, stage.Enforce, account)
		seed(h)
		run := hubRun(t, h, ev)
		res := run.Wait()
		if res.Status != "SUCCEEDED" || res.Outcome() != "fixed" {
			t.Fatalf("run: %s %s %s output %s\n%s", res.Status, res.Error, res.Cause, res.Output, evbHistory(run))
		}
		if _, _, tokens, _ := evbDescribe(t, h, account, region, instanceID); tokens != "required" {
			t.Errorf("HttpTokens %q, want required", tokens)
		}
		if s := hubStatus(t, h, account, region, id); s != "RESOLVED" {
			t.Errorf("workflow %s, want RESOLVED", s)
		}
		evbRollback(t, h, run)
		if _, _, tokens, _ := evbDescribe(t, h, account, region, instanceID); tokens != "optional" {
			t.Errorf("after rollback HttpTokens %q, want optional (changes %s)", tokens, evbChanges(h.Changes(run)))
		}
		if s := hubStatus(t, h, account, region, id); s != "NEW" {
			t.Errorf("after rollback workflow %s, want NEW", s)
		}
	})
	t.Run("observe", func(t *testing.T) {
		h := evbHarness(t, stage.Observe, account)
		seed(h)
		run := hubRun(t, h, ev)
		res := run.Wait()
		if res.Status != "SUCCEEDED" || res.Outcome() != "fixed" {
			t.Fatalf("run: %s %s %s output %s\n%s", res.Status, res.Error, res.Cause, res.Output, evbHistory(run))
		}
		if _, _, tokens, _ := evbDescribe(t, h, account, region, instanceID); tokens != "optional" {
			t.Errorf("observe changed HttpTokens to %q", tokens)
		}
		if s := hubStatus(t, h, account, region, id); s != "NEW" {
			t.Errorf("observe changed the workflow to %s", s)
		}
	})
}

// TestHubFindingOpenSSH: the real CIS 4.1 finding (SSH open to the world)
// revokes the rule its details show; rollback authorizes it again.
func TestHubFindingOpenSSH(t *testing.T) {
	f := evbRead(t, "securityhub/asff/securityhub-cspm__cis-41.json")
	ev := evbHubEvent(f)
	account, region, id := f["AwsAccountId"].(string), f["Region"].(string), f["Id"].(string)
	det := evbGet(evbGet(f, "Resources").([]any)[0], "Details", "AwsEc2SecurityGroup").(map[string]any)
	groupID := det["GroupId"].(string)
	sg := awssim.SecurityGroup{ID: groupID, Name: det["GroupName"].(string), VpcID: det["VpcId"].(string)}
	for i, p := range det["IpPermissions"].([]any) {
		pm := p.(map[string]any)
		from, _ := pm["FromPort"].(json.Number).Int64()
		to, _ := pm["ToPort"].(json.Number).Int64()
		for _, r := range pm["IpRanges"].([]any) {
			sg.Ingress = append(sg.Ingress, awssim.SecurityGroupRule{ID: fmt.Sprintf("sgr-0000000000000000%d", i), Protocol: pm["IpProtocol"].(string), FromPort: int(from), ToPort: int(to), CidrIPv4: r.(map[string]any)["CidrIp"].(string)})
		}
	}
	sg.Ingress = append(sg.Ingress, awssim.SecurityGroupRule{ID: "sgr-0000000000000web", Protocol: "tcp", FromPort: 443, ToPort: 443, CidrIPv4: "0.0.0.0/0"})
	h := evbHarness(t, stage.Enforce, account)
	if err := h.Sim.AddResources(account, region, awssim.Resources{Vpcs: []awssim.Vpc{{ID: sg.VpcID, CidrBlock: "10.0.0.0/16", State: "available"}}, SecurityGroups: []awssim.SecurityGroup{sg}}); err != nil {
		t.Fatal(err)
	}
	run := hubRun(t, h, ev)
	res := run.Wait()
	if res.Status != "SUCCEEDED" || res.Outcome() != "fixed" {
		t.Fatalf("run: %s %s %s output %s\n%s", res.Status, res.Error, res.Cause, res.Output, evbHistory(run))
	}
	ingress := func() []string {
		c := ec2.NewFromConfig(h.AWSConfig(account, region))
		out, err := c.DescribeSecurityGroups(h.Context(), &ec2.DescribeSecurityGroupsInput{GroupIds: []string{groupID}})
		if err != nil {
			t.Fatal(err)
		}
		var rules []string
		for _, p := range out.SecurityGroups[0].IpPermissions {
			for _, r := range p.IpRanges {
				rules = append(rules, fmt.Sprintf("%s/%d %s", aws.ToString(p.IpProtocol), aws.ToInt32(p.FromPort), aws.ToString(r.CidrIp)))
			}
		}
		sort.Strings(rules)
		return rules
	}
	if got := ingress(); !slices.Equal(got, []string{"tcp/443 0.0.0.0/0"}) {
		t.Errorf("ingress after the fix %v, want only the web port", got)
	}
	if s := hubStatus(t, h, account, region, id); s != "RESOLVED" {
		t.Errorf("workflow %s, want RESOLVED", s)
	}
	evbRollback(t, h, run)
	if got := ingress(); !slices.Equal(got, []string{"tcp/22 0.0.0.0/0", "tcp/443 0.0.0.0/0"}) {
		t.Errorf("ingress after rollback %v", got)
	}
}

// TestHubFindingS3PublicAccess: a derived S3.2 finding (the real one has
// passed; it is made FAILED and NEW) blocks the bucket's public access.
func TestHubFindingS3PublicAccess(t *testing.T) {
	f := evbRead(t, "securityhub/asff/securityhub-cspm__afsbp-s3-2.json")
	evbGet(f, "Compliance").(map[string]any)["Status"] = "FAILED"
	evbGet(f, "Workflow").(map[string]any)["Status"] = "NEW"
	f["WorkflowState"] = "NEW"
	ev := evbHubEvent(f)
	account, region := f["AwsAccountId"].(string), f["Region"].(string)
	bucket := strings.TrimPrefix(evbGet(f, "Resources").([]any)[0].(map[string]any)["Id"].(string), "arn:aws:s3:::")
	h := evbHarness(t, stage.Enforce, account)
	if err := h.Sim.AddBuckets(account, awssim.Bucket{Name: bucket, Region: region, PublicAccessBlock: &awssim.PublicAccessBlock{}}); err != nil {
		t.Fatal(err)
	}
	run := hubRun(t, h, ev)
	res := run.Wait()
	if res.Status != "SUCCEEDED" || res.Outcome() != "fixed" {
		t.Fatalf("run: %s %s %s output %s\n%s", res.Status, res.Error, res.Cause, res.Output, evbHistory(run))
	}
	for _, b := range h.Sim.Buckets(account) {
		if b.Name == bucket {
			if pab := b.PublicAccessBlock; pab == nil || !pab.BlockPublicAcls || !pab.IgnorePublicAcls || !pab.BlockPublicPolicy || !pab.RestrictPublicBuckets {
				t.Errorf("public access block %+v", pab)
			}
		}
	}
	evbRollback(t, h, run)
	for _, b := range h.Sim.Buckets(account) {
		if b.Name == bucket && b.PublicAccessBlock != nil && b.PublicAccessBlock.BlockPublicAcls {
			t.Errorf("after rollback public access block %+v", b.PublicAccessBlock)
		}
	}
}

// TestHubFindingNotify: the real EC2.7 import (EBS default encryption, an
// account-level control steward has no fix for) notifies and marks the
// finding NOTIFIED.
func TestHubFindingNotify(t *testing.T) {
	ev := evbRead(t, "securityhub/eventbridge/imported__asr__afsbp-ec2-7.json")
	f := evbGet(ev, "detail", "findings").([]any)[0].(map[string]any)
	account, region := ev["account"].(string), ev["region"].(string)
	h := evbHarness(t, stage.Enforce, account)
	run := hubRun(t, h, ev)
	res := run.Wait()
	if res.Status != "SUCCEEDED" || res.Outcome() != "notified" {
		t.Fatalf("run: %s %s %s output %s\n%s", res.Status, res.Error, res.Cause, res.Output, evbHistory(run))
	}
	if s := hubStatus(t, h, account, region, f["Id"].(string)); s != "NOTIFIED" {
		t.Errorf("workflow %s, want NOTIFIED", s)
	}
	if fs, _ := res.Out["findings"].([]any); len(fs) != 1 || evbGet(fs[0], "control") != "EC2.7" {
		t.Errorf("output findings %v", res.Out["findings"])
	}
}

// evbWaitEntered waits (in real time, for the engine's goroutines) until
// the run has entered a state, so that advancing the fake clock happens
// after the state's timer was set.
func evbWaitEntered(t testing.TB, run *playbooktest.Run, state string) {
	t.Helper()
	evbWaitEnteredN(t, run, state, 1)
}

// evbWaitEnteredN waits until n iterations (of a Map) entered the state.
func evbWaitEnteredN(t testing.TB, run *playbooktest.Run, state string, n int) {
	t.Helper()
	deadline := time.Now().Add(playbooktest.WaitTimeout)
	for strings.Count(run.History(), "name:"+state+"]") < n {
		if time.Now().After(deadline) {
			t.Fatalf("the run never entered %q\n%s", state, evbHistory(run))
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestGuardDutyRule: both real GuardDuty events (an instance, an access
// key) start guardduty-quarantine.
func TestGuardDutyRule(t *testing.T) {
	s := evbRules(t)
	files, _ := filepath.Glob(filepath.Join(testdata.Dir(t, "guardduty", "eventbridge"), "*.json"))
	pass := 0
	for _, f := range files {
		ev := evbRead(t, filepath.Join("guardduty", "eventbridge", filepath.Base(f)))
		if got := evbStarted(evbEvaluate(t, s, ev, time.Now(), "", nil)); slices.Contains(got, "guardduty-quarantine") {
			pass++
		} else {
			t.Errorf("%s started %v", filepath.Base(f), got)
		}
	}
	// Bare findings (the detail of an event), wrapped as EventBridge
	// delivers them: attack sequences and findings without a resource of
	// those kinds start nothing.
	bare, _ := filepath.Glob(filepath.Join(testdata.Dir(t, "guardduty", "finding"), "*.json"))
	for _, f := range bare {
		det := evbRead(t, filepath.Join("guardduty", "finding", filepath.Base(f)))
		ev := map[string]any{"version": "0", "id": "gd-" + filepath.Base(f), "detail-type": "GuardDuty Finding", "source": "aws.guardduty",
			"account": det["accountId"], "region": det["region"], "time": det["updatedAt"], "resources": []any{}, "detail": det}
		kind, _ := evbGet(det, "resource", "resourceType").(string)
		sev, _ := det["severity"].(json.Number).Float64()
		want := (kind == "Instance" || kind == "AccessKey") && sev >= 4
		if got := slices.Contains(evbStarted(evbEvaluate(t, s, ev, time.Now(), "", nil)), "guardduty-quarantine"); got != want {
			t.Errorf("%s (%s): started %v, want %v", filepath.Base(f), kind, got, want)
			continue
		}
		pass++
	}
	t.Logf("guardduty-quarantine rule: %d/%d real GuardDuty events and findings decided right", pass, len(files)+len(bare))
}

// guardDuty runs guardduty-quarantine on a real GuardDuty event, in the
// finding's account (detail.accountId), which the sim seeds first.
func guardDuty(t *testing.T, file string, seed func(h *playbooktest.Harness, account, region string)) (*playbooktest.Harness, *playbooktest.Run, map[string]any) {
	t.Helper()
	ev := evbRead(t, filepath.Join("guardduty", "eventbridge", file))
	member := evbGet(ev, "detail", "accountId").(string)
	h := evbHarness(t, stage.Enforce, ev["account"].(string), member)
	seed(h, member, evbGet(ev, "detail", "region").(string))
	start := evbStart(t, evbEvaluate(t, evbRules(t), ev, h.Clock.Now(), "", nil), "guardduty-quarantine")
	return h, h.Start("guardduty-quarantine", start.Input), ev
}

// TestGuardDutyInstance: the real EC2 finding quarantines the instance
// (in the finding's account, not the event's); security approves; a
// rollback restores its groups. A denial restores them too.
func TestGuardDutyInstance(t *testing.T) {
	const vpc, app = "vpc-0a1b2c3d", "sg-0a1b2c3d4e5f60718"
	var instanceID string
	seed := func(h *playbooktest.Harness, account, region string) {
		ev := evbRead(t, "guardduty/eventbridge/ec2-duty-event__custodian.json")
		instanceID = evbGet(ev, "detail", "resource", "instanceDetails", "instanceId").(string)
		if err := h.Sim.AddResources(account, region, awssim.Resources{
			Vpcs:           []awssim.Vpc{{ID: vpc, CidrBlock: "10.0.0.0/16", State: "available"}},
			SecurityGroups: []awssim.SecurityGroup{{ID: app, Name: "app", VpcID: vpc, Egress: []awssim.SecurityGroupRule{{ID: "sgr-0aaaaaaaaaaaaaaa1", Protocol: "-1", CidrIPv4: "0.0.0.0/0"}}}},
			Instances:      []awssim.Instance{{ID: instanceID, ImageID: "ami-12345678", InstanceType: "t3.micro", State: "running", VpcID: vpc, SecurityGroupIDs: []string{app}}},
		}); err != nil {
			t.Fatal(err)
		}
	}
	for _, decision := range []string{"approve", "deny"} {
		t.Run(decision, func(t *testing.T) {
			h, run, ev := guardDuty(t, "ec2-duty-event__custodian.json", seed)
			member, region := evbGet(ev, "detail", "accountId").(string), evbGet(ev, "detail", "region").(string)
			tok := run.WaitToken("Ask security about the instance")
			_, groups, _, tags := evbDescribe(t, h, member, region, instanceID)
			if len(groups) != 1 || groups[0] == app {
				t.Fatalf("groups while quarantined %v\n%s", groups, evbHistory(run))
			}
			if tags["steward:quarantine"] != evbGet(ev, "detail", "id") {
				t.Errorf("tags %v", tags)
			}
			h.SendTaskSuccess(tok.Token, map[string]any{"decision": decision, "by": "security@example.com", "channel": "cli"})
			res := run.Wait()
			want := map[string]string{"approve": "fixed", "deny": "kept"}[decision]
			if res.Status != "SUCCEEDED" || res.Outcome() != want {
				t.Fatalf("run: %s %s %s output %s\n%s", res.Status, res.Error, res.Cause, res.Output, evbHistory(run))
			}
			_, groups, _, _ = evbDescribe(t, h, member, region, instanceID)
			if decision == "deny" {
				if !slices.Equal(groups, []string{app}) {
					t.Errorf("groups after a denial %v", groups)
				}
				return
			}
			if slices.Contains(groups, app) {
				t.Errorf("groups after approval %v", groups)
			}
			evbRollback(t, h, run)
			if _, groups, _, _ = evbDescribe(t, h, member, region, instanceID); !slices.Equal(groups, []string{app}) {
				t.Errorf("groups after rollback %v (changes %s)", groups, evbChanges(h.Changes(run)))
			}
		})
	}
}

// TestGuardDutyAccessKey: the real IAM finding deactivates the user's
// access key; rollback makes it active again.
func TestGuardDutyAccessKey(t *testing.T) {
	var user, key string
	seed := func(h *playbooktest.Harness, account, _ string) {
		ev := evbRead(t, "guardduty/eventbridge/iam-duty-event__custodian.json")
		user = evbGet(ev, "detail", "resource", "accessKeyDetails", "userName").(string)
		key = evbGet(ev, "detail", "resource", "accessKeyDetails", "accessKeyId").(string)
		if err := h.Sim.AddIAM(account, awssim.Resources{Users: []awssim.User{{Name: user, AccessKeys: []awssim.AccessKey{{ID: key, Secret: "s", Status: "Active"}}}}}); err != nil {
			t.Fatal(err)
		}
	}
	h, run, ev := guardDuty(t, "iam-duty-event__custodian.json", seed)
	member := evbGet(ev, "detail", "accountId").(string)
	status := func() string {
		c := iam.NewFromConfig(h.AWSConfig(member, "us-east-1"))
		out, err := c.ListAccessKeys(h.Context(), &iam.ListAccessKeysInput{UserName: aws.String(user)})
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range out.AccessKeyMetadata {
			if aws.ToString(k.AccessKeyId) == key {
				return string(k.Status)
			}
		}
		return "missing"
	}
	tok := run.WaitToken("Ask security about the key")
	if s := status(); s != "Inactive" {
		t.Fatalf("key %s while waiting\n%s", s, evbHistory(run))
	}
	h.SendTaskSuccess(tok.Token, map[string]any{"decision": "approve", "by": "security@example.com", "channel": "cli"})
	if res := run.Wait(); res.Status != "SUCCEEDED" || res.Outcome() != "fixed" {
		t.Fatalf("run: %s %s %s output %s\n%s", res.Status, res.Error, res.Cause, res.Output, evbHistory(run))
	}
	evbRollback(t, h, run)
	if s := status(); s != "Active" {
		t.Errorf("key %s after rollback", s)
	}
}

// TestOwnerTagRule: every real CloudTrail record is judged: owner-tag
// starts for Create* calls and RunInstances that succeeded in the services
// whose resources it names, and for nothing else.
func TestOwnerTagRule(t *testing.T) {
	s := evbRules(t)
	files, _ := filepath.Glob(filepath.Join(testdata.Dir(t, "cloudtrail", "raw"), "*.json"))
	pass := 0
	for _, f := range files {
		rec := evbRead(t, filepath.Join("cloudtrail", "raw", filepath.Base(f)))
		ev, err := ingest.WrapCloudTrail(rec)
		if err != nil {
			t.Fatal(err)
		}
		name, _ := rec["eventName"].(string)
		_, failed := rec["errorCode"]
		source, _ := rec["eventSource"].(string)
		named := slices.Contains([]string{"ec2", "s3", "iam", "elasticloadbalancing", "rds", "lambda", "dynamodb", "sns"}, strings.TrimSuffix(source, ".amazonaws.com"))
		want := !failed && named && (strings.HasPrefix(name, "Create") || name == "RunInstances")
		got := slices.Contains(evbStarted(evbEvaluate(t, s, ev, time.Now(), "", nil)), "owner-tag")
		if got != want {
			t.Errorf("%s: started owner-tag %v, want %v", filepath.Base(f), got, want)
			continue
		}
		pass++
	}
	t.Logf("owner-tag rule: %d/%d real CloudTrail records decided right", pass, len(files))
}

// TestOwnerTag runs owner-tag end to end on real records: the resources
// they created get steward:owner, the caller (an e-mail session name when
// there is one, else the ARN).
func TestOwnerTag(t *testing.T) {
	tests := []struct {
		name   string
		record string
		derive func(rec map[string]any)
		seed   func(t *testing.T, h *playbooktest.Harness, account, region string, ev map[string]any)
		tags   func(t *testing.T, h *playbooktest.Harness, account, region string, ev map[string]any) map[string]string
		want   func(ev map[string]any) string
	}{
		{
			name: "real CreateSecurityGroup (assumed role, no e-mail: the ARN)", record: "CreateSecurityGroup__flatiron__test-ec2-createsecuritygroup.json",
			seed: func(t *testing.T, h *playbooktest.Harness, account, region string, ev map[string]any) {
				id := evbGet(ev, "detail", "responseElements", "groupId").(string)
				if err := h.Sim.AddResources(account, region, awssim.Resources{SecurityGroups: []awssim.SecurityGroup{{ID: id, Name: "misconfiguration_maker"}}}); err != nil {
					t.Fatal(err)
				}
			},
			tags: func(t *testing.T, h *playbooktest.Harness, account, region string, ev map[string]any) map[string]string {
				c := ec2.NewFromConfig(h.AWSConfig(account, region))
				out, err := c.DescribeSecurityGroups(h.Context(), &ec2.DescribeSecurityGroupsInput{GroupIds: []string{evbGet(ev, "detail", "responseElements", "groupId").(string)}})
				if err != nil {
					t.Fatal(err)
				}
				m := map[string]string{}
				for _, tg := range out.SecurityGroups[0].Tags {
					m[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
				}
				return m
			},
			want: func(ev map[string]any) string { return evbGet(ev, "detail", "userIdentity", "arn").(string) },
		},
		{
			name: "RunInstances derived: the session renamed " + person, record: launchRecord, derive: evbAsPerson(person),
			seed: func(t *testing.T, h *playbooktest.Harness, account, region string, ev map[string]any) {
				evbSeedLaunch(t, h, account, region, ev, "required", "", "")
			},
			tags: func(t *testing.T, h *playbooktest.Harness, account, region string, ev map[string]any) map[string]string {
				_, _, _, tags := evbDescribe(t, h, account, region, evbRecordInstances(t, ev)[0].ID)
				return tags
			},
			want: func(map[string]any) string { return person },
		},
		{
			name: "real CreateBucket", record: "CreateBucket__flatiron__test-s3-createbucket.json",
			seed: func(t *testing.T, h *playbooktest.Harness, account, region string, ev map[string]any) {
				if err := h.Sim.AddBuckets(account, awssim.Bucket{Name: evbGet(ev, "detail", "requestParameters", "bucketName").(string), Region: region}); err != nil {
					t.Fatal(err)
				}
			},
			tags: func(t *testing.T, h *playbooktest.Harness, account, region string, ev map[string]any) map[string]string {
				m := map[string]string{}
				for _, b := range h.Sim.Buckets(account) {
					if b.Name == evbGet(ev, "detail", "requestParameters", "bucketName") {
						for _, tg := range b.Tags {
							m[tg.Key] = tg.Value
						}
					}
				}
				return m
			},
			want: func(ev map[string]any) string { return evbGet(ev, "detail", "userIdentity", "arn").(string) },
		},
		{
			name: "real CreateUser (IAM user caller: the ARN)", record: "CreateUser__stratus__persistence-iam-create-admin-user.json",
			seed: func(t *testing.T, h *playbooktest.Harness, account, _ string, ev map[string]any) {
				name := evbGet(ev, "detail", "requestParameters", "userName").(string)
				if err := h.Sim.AddIAM(account, awssim.Resources{Users: []awssim.User{{Name: name}}}); err != nil {
					t.Fatal(err)
				}
			},
			tags: func(t *testing.T, h *playbooktest.Harness, account, _ string, ev map[string]any) map[string]string {
				c := iam.NewFromConfig(h.AWSConfig(account, "us-east-1"))
				out, err := c.ListUserTags(h.Context(), &iam.ListUserTagsInput{UserName: aws.String(evbGet(ev, "detail", "requestParameters", "userName").(string))})
				if err != nil {
					t.Fatal(err)
				}
				m := map[string]string{}
				for _, tg := range out.Tags {
					m[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
				}
				return m
			},
			want: func(ev map[string]any) string { return evbGet(ev, "detail", "userIdentity", "arn").(string) },
		},
		{
			name: "real CreateLoadBalancer (elbv2, IAM user caller)", record: "CreateLoadBalancer__awsdocs__elbv2-0.json",
			seed: func(t *testing.T, h *playbooktest.Harness, account, region string, ev map[string]any) {
				lb := evbGet(ev, "detail", "responseElements", "loadBalancers").([]any)[0].(map[string]any)
				if err := h.Sim.AddResources(account, region, awssim.Resources{LoadBalancers: []awssim.LoadBalancer{{ARN: lb["loadBalancerArn"].(string),
					Name: lb["loadBalancerName"].(string), Type: "application", Scheme: "internet-facing", State: "active", VpcID: lb["vpcId"].(string)}}}); err != nil {
					t.Fatal(err)
				}
			},
			tags: func(t *testing.T, h *playbooktest.Harness, account, region string, ev map[string]any) map[string]string {
				arn := evbGet(ev, "detail", "responseElements", "loadBalancers").([]any)[0].(map[string]any)["loadBalancerArn"].(string)
				c := elasticloadbalancingv2.NewFromConfig(h.AWSConfig(account, region))
				out, err := c.DescribeTags(h.Context(), &elasticloadbalancingv2.DescribeTagsInput{ResourceArns: []string{arn}})
				if err != nil {
					t.Fatal(err)
				}
				m := map[string]string{}
				for _, d := range out.TagDescriptions {
					for _, tg := range d.Tags {
						m[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
					}
				}
				return m
			},
			want: func(ev map[string]any) string { return evbGet(ev, "detail", "userIdentity", "arn").(string) },
		},
		{
			name: "real CreateRole", record: "CreateRole__stratus__persistence-iam-create-backdoor-role.json",
			seed: func(t *testing.T, h *playbooktest.Harness, account, _ string, ev map[string]any) {
				trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}`
				if err := h.Sim.AddIAM(account, awssim.Resources{Roles: []awssim.Role{
					{Name: "steward-remediator", AssumeRolePolicyDocument: trust},
					{Name: evbGet(ev, "detail", "requestParameters", "roleName").(string), AssumeRolePolicyDocument: trust},
				}}); err != nil {
					t.Fatal(err)
				}
			},
			tags: func(t *testing.T, h *playbooktest.Harness, account, _ string, ev map[string]any) map[string]string {
				c := iam.NewFromConfig(h.AWSConfig(account, "us-east-1"))
				out, err := c.ListRoleTags(h.Context(), &iam.ListRoleTagsInput{RoleName: aws.String(evbGet(ev, "detail", "requestParameters", "roleName").(string))})
				if err != nil {
					t.Fatal(err)
				}
				m := map[string]string{}
				for _, tg := range out.Tags {
					m[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
				}
				return m
			},
			want: func(ev map[string]any) string { return evbGet(ev, "detail", "userIdentity", "arn").(string) },
		},
	}
	pass := 0
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := evbCloudTrail(t, tt.record, tt.derive)
			account, region := ev["account"].(string), ev["region"].(string)
			h := evbHarness(t, stage.Enforce, account)
			tt.seed(t, h, account, region, ev)
			start := evbStart(t, evbEvaluate(t, evbRules(t), ev, h.Clock.Now(), "", nil), "owner-tag")
			run := h.Start("owner-tag", start.Input)
			res := run.Wait()
			if res.Status != "SUCCEEDED" || res.Outcome() != "fixed" {
				t.Fatalf("run: %s %s %s output %s\n%s", res.Status, res.Error, res.Cause, res.Output, evbHistory(run))
			}
			if got, want := tt.tags(t, h, account, region, ev)["steward:owner"], tt.want(ev); got != want {
				t.Errorf("steward:owner = %q, want %q", got, want)
				return
			}
			pass++
		})
	}
	t.Logf("owner-tag: %d/%d records tagged end to end", pass, len(tests))
}

// TestIMDSv1Launch: a real RunInstances record starts imdsv1 (through the
// imdsv1-on-launch rule); the instance gets HttpTokens=required; rollback
// makes it optional again; observe changes nothing.
func TestIMDSv1Launch(t *testing.T) {
	for _, st := range []stage.Stage{stage.Enforce, stage.Observe} {
		t.Run(string(st), func(t *testing.T) {
			ev := evbCloudTrail(t, launchRecord, nil)
			account, region := ev["account"].(string), ev["region"].(string)
			h := evbHarness(t, st, account)
			in := evbSeedLaunch(t, h, account, region, ev, "optional", "", "")[0]
			start := evbStart(t, evbEvaluate(t, evbRules(t), ev, h.Clock.Now(), "", nil), "imdsv1")
			run := h.Start("imdsv1", start.Input)
			res := run.Wait()
			if res.Status != "SUCCEEDED" || res.Outcome() != "fixed" {
				t.Fatalf("run: %s %s %s output %s\n%s", res.Status, res.Error, res.Cause, res.Output, evbHistory(run))
			}
			_, _, tokens, _ := evbDescribe(t, h, account, region, in.ID)
			if st == stage.Observe {
				if tokens != "optional" {
					t.Errorf("observe changed HttpTokens to %q", tokens)
				}
				return
			}
			if tokens != "required" {
				t.Fatalf("HttpTokens %q, want required", tokens)
			}
			evbRollback(t, h, run)
			if _, _, tokens, _ = evbDescribe(t, h, account, region, in.ID); tokens != "optional" {
				t.Errorf("after rollback HttpTokens %q", tokens)
			}
		})
	}
}

// TestIMDSv1Scan: the scan's input (one instance of DescribeInstances, as
// the scan lists it) fixes the instance and, for an instance a launch
// template launched, tells the owner; a compliant one is left alone.
func TestIMDSv1Scan(t *testing.T) {
	const account, region = playbooktest.Development, "us-east-1"
	h := playbooktest.New(t, playbooktest.Options{})
	h.NeedSim("seeds instances")
	if err := h.Sim.AddResources(account, region, awssim.Resources{Instances: []awssim.Instance{
		{ID: "i-0000000000000aaaa", ImageID: "ami-1", InstanceType: "t3.micro", State: "running", HTTPTokens: "optional",
			Tags: awssim.Tags{{Key: "aws:ec2launchtemplate:id", Value: "lt-0123456789abcdef0"}, {Key: "owner", Value: "dev@example.com"}}},
		{ID: "i-0000000000000bbbb", ImageID: "ami-1", InstanceType: "t3.micro", State: "running", HTTPTokens: "required"},
	}}); err != nil {
		t.Fatal(err)
	}
	// The scan lists only the instance that allows IMDSv1 (its filter);
	// the other is given to the playbook directly, as a scan item.
	runs := h.Scan("imdsv1", playbooktest.ScanOptions{Accounts: []string{account}, Regions: []string{region}})
	if len(runs) != 1 {
		t.Fatalf("the scan started %d executions, want 1 (the instance with HttpTokens=optional)", len(runs))
	}
	runs = append(runs, h.Start("imdsv1", map[string]any{"account": account, "region": region, "resource": map[string]any{"InstanceId": "i-0000000000000bbbb"}, "trigger": "schedule", "scan": "scan-1"}))
	for i, run := range runs {
		res := run.Wait()
		want := []string{"fixed", "compliant"}[i]
		if res.Status != "SUCCEEDED" || res.Outcome() != want {
			t.Errorf("run %d: %s %s %s output %s, want %s\n%s", i, res.Status, res.Error, res.Cause, res.Output, want, evbHistory(run))
		}
	}
	if _, _, tokens, _ := evbDescribe(t, h, account, region, "i-0000000000000aaaa"); tokens != "required" {
		t.Errorf("HttpTokens %q", tokens)
	}
	if n := h.Notices.For("i-0000000000000aaaa"); len(n) == 0 || !strings.Contains(n[0].Title, "lt-0123456789abcdef0") {
		t.Errorf("notices about the launch template: %+v", n)
	}
}

// FuzzEventsBPlaybooks runs the group B playbooks in memory on arbitrary
// events (the real ones as seeds), every task answering with an empty
// object and approvals with "approve": whatever the event holds, an
// execution ends (succeeded or failed) and nothing panics.
func FuzzEventsBPlaybooks(f *testing.F) {
	f.Add([]byte(`{"account":"111111111111","region":"us-east-1","detail":{"eventName":"RunInstances","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/r/a@example.com"},"responseElements":{"instancesSet":{"items":[{"instanceId":"i-1"}]}}}}`))
	f.Add([]byte(`{"detail":{"findings":[{"Id":"x","ProductArn":"p","AwsAccountId":"1","Compliance":{"SecurityControlId":"EC2.8"},"Resources":[{"Type":"AwsEc2Instance","Id":"arn:aws:ec2:us-east-1:1:instance/i-1"}]}]}}`))
	f.Add([]byte(`{"detail":{"accountId":"1","resource":{"resourceType":"AccessKey","accessKeyDetails":{"userName":"u","userType":"IAMUser","accessKeyId":"AKIA"}}}}`))
	f.Add([]byte(`{"resource":{"InstanceId":"i-1"}}`))
	f.Add([]byte(`{"detail":null}`))
	if root, err := filepath.Abs(filepath.Join("..", "..", "shared", "testdata")); err == nil {
		for _, glob := range []string{"cloudtrail/raw/RunInstances*.json", "cloudtrail/raw/Create*.json", "guardduty/eventbridge/*.json", "securityhub/eventbridge/imported*.json"} {
			files, _ := filepath.Glob(filepath.Join(root, glob))
			for _, file := range files {
				if data, err := os.ReadFile(file); err == nil {
					f.Add(data)
				}
			}
		}
	}
	reg := evbStubTasks()
	type machine struct {
		name string
		def  []byte
	}
	var machines []machine
	for _, name := range eventsB {
		p, err := playbooks.Get(name)
		if err != nil {
			f.Fatal(err)
		}
		machines = append(machines, machine{name, p.Definition})
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var event any
		if dec.Decode(&event) != nil {
			return
		}
		if m, ok := event.(map[string]any); ok {
			if _, isRecord := m["eventSource"]; isRecord {
				if wrapped, err := ingest.WrapCloudTrail(m); err == nil {
					event = wrapped
				}
			}
		}
		for _, m := range machines {
			mach, err := asl.Parse(m.def)
			if err != nil {
				t.Fatal(err)
			}
			res, err := engine.Run(context.Background(), engine.RunParams{Machine: mach, Input: event, Tasks: reg, StateMachineName: m.name, MaxTransitions: 10000})
			if err != nil {
				t.Fatalf("%s: %v", m.name, err)
			}
			if res.Status != engine.StatusSucceeded && res.Status != engine.StatusFailed {
				t.Fatalf("%s: status %s", m.name, res.Status)
			}
		}
	})
}

// evbStubTasks answers every task: aws-sdk calls with {}, steward:approval
// with an approval, steward:exception with "not excepted", others with {}.
func evbStubTasks() *task.Registry {
	reg := task.NewRegistry()
	empty := task.HandlerFunc(func(context.Context, *task.Call) (any, error) { return map[string]any{}, nil })
	reg.Register("arn:aws:states:::aws-sdk:*", empty)
	for _, name := range playbooks.Builtins {
		reg.Register(name, empty)
	}
	reg.Register("steward:approval", task.HandlerFunc(func(context.Context, *task.Call) (any, error) {
		return map[string]any{"decision": "approve", "by": "fuzz", "channel": "cli"}, nil
	}))
	reg.Register("steward:exception", task.HandlerFunc(func(context.Context, *task.Call) (any, error) {
		return map[string]any{"Excepted": false}, nil
	}))
	return reg
}

// TestEventsBPlaybooksOnEveryOutsideEvent runs each group B playbook in
// memory (stub tasks) on every outside event: none panics, each ends.
func TestEventsBPlaybooksOnEveryOutsideEvent(t *testing.T) {
	root := testdata.Dir(t)
	reg := evbStubTasks()
	n := 0
	for _, glob := range []string{"cloudtrail/raw/*.json", "cloudtrail/eventbridge/*.json", "guardduty/eventbridge/*.json", "securityhub/eventbridge/*.json"} {
		files, _ := filepath.Glob(filepath.Join(root, glob))
		for _, file := range files {
			rel, _ := filepath.Rel(root, file)
			ev := evbRead(t, rel)
			if _, isRecord := ev["eventSource"]; isRecord {
				w, err := ingest.WrapCloudTrail(ev)
				if err != nil {
					t.Fatal(err)
				}
				ev = w
			}
			for _, name := range eventsB {
				p, err := playbooks.Get(name)
				if err != nil {
					t.Fatal(err)
				}
				mach, err := asl.Parse(p.Definition)
				if err != nil {
					t.Fatal(err)
				}
				res, err := engine.Run(context.Background(), engine.RunParams{Machine: mach, Input: ev, Tasks: reg, StateMachineName: name})
				if err != nil || (res.Status != engine.StatusSucceeded && res.Status != engine.StatusFailed) {
					t.Errorf("%s on %s: %v %+v", name, rel, err, res)
				}
				n++
			}
		}
	}
	t.Logf("%d runs (playbook × outside event) ended", n)
}

// TestEC2ManualLaunchDeadline: no one answers; at the 48-hour deadline
// the default (approve) applies, and a month later the instance is
// terminated.
func TestEC2ManualLaunchDeadline(t *testing.T) {
	h, run, in, account, region := evbManualLaunch(t, stage.Enforce)
	run.WaitToken("Ask owner")
	h.Advance(49 * time.Hour)
	evbWaitEntered(t, run, "Wait a month")
	if state, _, _, _ := evbDescribe(t, h, account, region, in.ID); state != "running" {
		t.Fatalf("terminated at the deadline: %s", state)
	}
	h.Advance(31 * 24 * time.Hour)
	res := run.Wait()
	if res.Status != "SUCCEEDED" || res.Outcome() != "fixed" {
		t.Fatalf("run: %s %s %s output %s\n%s", res.Status, res.Error, res.Cause, res.Output, evbHistory(run))
	}
	if state, _, _, _ := evbDescribe(t, h, account, region, in.ID); state != "terminated" && state != "shutting-down" && state != "gone" {
		t.Errorf("after the month: %s", state)
	}
}

// BenchmarkEventsBRules measures matching one real event against the rules
// of every embedded playbook (threshold counting included).
func BenchmarkEventsBRules(b *testing.B) {
	s := rules.NewSet(playbooks.Exists)
	for _, p := range playbooks.All() {
		if err := s.PutAll(p.Rules); err != nil {
			b.Fatal(err)
		}
	}
	ev := evbJSON(b, evbCloudTrail(b, launchRecord, evbAsPerson(person)))
	counter := &rules.MemoryCounter{}
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Evaluate(context.Background(), ev, rules.EvaluateParams{At: t0.Add(time.Duration(i) * time.Hour), EventID: fmt.Sprint(i), Counter: counter}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHubFindingInMemory measures one hub-finding execution on the
// real EC2.8 import, in memory with stub tasks (the playbook's own cost:
// JSONata, Map, Choice).
func BenchmarkHubFindingInMemory(b *testing.B) {
	ev := evbHubEvent(evbRead(b, "securityhub/asff/securityhub-cspm__afsbp-ec2-8.json"))
	p, err := playbooks.Get("hub-finding")
	if err != nil {
		b.Fatal(err)
	}
	mach, err := asl.Parse(p.Definition)
	if err != nil {
		b.Fatal(err)
	}
	reg := evbStubTasks()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := engine.Run(context.Background(), engine.RunParams{Machine: mach, Input: ev, Tasks: reg})
		if err != nil || res.Status != engine.StatusSucceeded {
			b.Fatalf("%v %+v", err, res)
		}
	}
}

// BenchmarkIMDSv1EndToEnd measures one imdsv1 execution through the
// durable engine, the change gate and the simulated EC2 (describe, modify).
func BenchmarkIMDSv1EndToEnd(b *testing.B) {
	const account, region = playbooktest.Development, "us-east-1"
	// No blast radius: the benchmark makes more changes in an hour than
	// imdsv1 allows.
	h := playbooktest.New(b, playbooktest.Options{Limits: func(string) (int, int) { return 1 << 30, 1 << 30 }})
	h.NeedSim("seeds instances")
	var ins []awssim.Instance
	for i := 0; i < b.N; i++ {
		ins = append(ins, awssim.Instance{ID: fmt.Sprintf("i-%017x", i+1), ImageID: "ami-1", InstanceType: "t3.micro", State: "running", HTTPTokens: "optional"})
	}
	if err := h.Sim.AddResources(account, region, awssim.Resources{Instances: ins}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		run := h.Start("imdsv1", map[string]any{"account": account, "region": region, "resource": map[string]any{"InstanceId": ins[i].ID}, "trigger": "schedule", "scan": "bench"})
		if res := run.Wait(); res.Outcome() != "fixed" {
			b.Fatalf("%s %s", res.Status, res.Output)
		}
	}
}

// TestHubFindingOtherRegion: an EC2.8 finding derived from the real one,
// its instance moved to us-west-2 (as a cross-region aggregated finding
// arrives in the aggregation region), is reported, not fixed: steward's
// calls act in the event's region.
func TestHubFindingOtherRegion(t *testing.T) {
	f := evbRead(t, "securityhub/asff/securityhub-cspm__afsbp-ec2-8.json")
	evbGet(f, "Resources").([]any)[0].(map[string]any)["Region"] = "us-west-2"
	ev := evbHubEvent(f)
	ev["region"] = "us-east-1"
	account := f["AwsAccountId"].(string)
	h := evbHarness(t, stage.Enforce, account)
	run := hubRun(t, h, ev)
	res := run.Wait()
	if res.Status != "SUCCEEDED" || res.Outcome() != "notified" {
		t.Fatalf("run: %s %s %s output %s\n%s", res.Status, res.Error, res.Cause, res.Output, evbHistory(run))
	}
	if s := hubStatus(t, h, account, "us-east-1", f["Id"].(string)); s != "NOTIFIED" {
		t.Errorf("workflow %s, want NOTIFIED", s)
	}
	for _, c := range h.Changes(run) {
		if c.Service == "ec2" {
			t.Errorf("acted on EC2: %s", c.Action)
		}
	}
}

// TestGuardDutyObserve: in the observe stage the instance keeps its
// groups; the quarantine is planned.
func TestGuardDutyObserve(t *testing.T) {
	ev := evbRead(t, "guardduty/eventbridge/ec2-duty-event__custodian.json")
	member, region := evbGet(ev, "detail", "accountId").(string), evbGet(ev, "detail", "region").(string)
	instanceID := evbGet(ev, "detail", "resource", "instanceDetails", "instanceId").(string)
	h := evbHarness(t, stage.Observe, ev["account"].(string), member)
	if err := h.Sim.AddResources(member, region, awssim.Resources{
		Vpcs:           []awssim.Vpc{{ID: "vpc-0a1b2c3d", CidrBlock: "10.0.0.0/16", State: "available"}},
		SecurityGroups: []awssim.SecurityGroup{{ID: "sg-0a1b2c3d4e5f60718", Name: "app", VpcID: "vpc-0a1b2c3d"}},
		Instances:      []awssim.Instance{{ID: instanceID, ImageID: "ami-12345678", InstanceType: "t3.micro", State: "running", VpcID: "vpc-0a1b2c3d", SecurityGroupIDs: []string{"sg-0a1b2c3d4e5f60718"}}},
	}); err != nil {
		t.Fatal(err)
	}
	start := evbStart(t, evbEvaluate(t, evbRules(t), ev, h.Clock.Now(), "", nil), "guardduty-quarantine")
	run := h.Start("guardduty-quarantine", start.Input)
	res := run.Wait()
	if res.Status != "SUCCEEDED" || res.Outcome() != "fixed" {
		t.Fatalf("run: %s %s %s output %s\n%s", res.Status, res.Error, res.Cause, res.Output, evbHistory(run))
	}
	if _, groups, _, _ := evbDescribe(t, h, member, region, instanceID); !slices.Equal(groups, []string{"sg-0a1b2c3d4e5f60718"}) {
		t.Errorf("observe changed the groups: %v", groups)
	}
	if s := evbChanges(h.Changes(run)); !strings.Contains(s, "ModifyInstanceAttribute:call:planned") {
		t.Errorf("planned changes: %s", s)
	}
}

// TestEC2ManualLaunchTwoInstances: a launch of two instances (derived: the
// real record's instance listed twice, the second with another id) puts
// both in one quarantine group and asks about each.
func TestEC2ManualLaunchTwoInstances(t *testing.T) {
	ev := evbCloudTrail(t, launchRecord, func(rec map[string]any) {
		evbAsPerson(person)(rec)
		items := evbGet(rec, "responseElements", "instancesSet").(map[string]any)
		list := items["items"].([]any)
		second := map[string]any{}
		for k, v := range list[0].(map[string]any) {
			second[k] = v
		}
		second["instanceId"] = "i-0f7c711dc84bedda1"
		items["items"] = append(list, second)
	})
	account, region := ev["account"].(string), ev["region"].(string)
	h := evbHarness(t, stage.Enforce, account)
	ins := evbSeedLaunch(t, h, account, region, ev, "optional", "dev-profile", "dev-app")
	start := evbStart(t, evbEvaluate(t, evbRules(t), ev, h.Clock.Now(), "", nil), "ec2-manual-launch")
	run := h.Start("ec2-manual-launch", start.Input)
	deadline := time.Now().Add(playbooktest.WaitTimeout)
	for len(run.Tokens()) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("tokens %v\n%s", run.Tokens(), evbHistory(run))
		}
		time.Sleep(2 * time.Millisecond)
	}
	var quarantine []string
	for _, in := range ins {
		_, groups, _, _ := evbDescribe(t, h, account, region, in.ID)
		if len(groups) != 1 {
			t.Fatalf("%s groups %v", in.ID, groups)
		}
		quarantine = append(quarantine, groups[0])
	}
	if quarantine[0] != quarantine[1] || slices.Contains(ins[0].Groups, quarantine[0]) {
		t.Errorf("quarantine groups %v", quarantine)
	}
	for _, tok := range run.Tokens() {
		run.WaitToken(tok.State)
		h.SendTaskSuccess(tok.Token, map[string]any{"decision": "approve", "by": person, "channel": "cli"})
	}
	evbWaitEnteredN(t, run, "Wait a month", 2)
	h.Advance(31 * 24 * time.Hour)
	res := run.Wait()
	if res.Status != "SUCCEEDED" || res.Outcome() != "fixed" {
		t.Fatalf("run: %s %s %s output %s\n%s", res.Status, res.Error, res.Cause, res.Output, evbHistory(run))
	}
	for _, in := range ins {
		if state, _, _, _ := evbDescribe(t, h, account, region, in.ID); state != "terminated" && state != "shutting-down" && state != "gone" {
			t.Errorf("%s after the month: %s", in.ID, state)
		}
	}
}

// evbCountingStarter counts the playbooks a dispatcher starts, then starts
// them in the harness's engine.
type evbCountingStarter struct {
	rules.EngineStarter
	started map[string]int
}

func (s *evbCountingStarter) StartPlaybook(ctx context.Context, playbook, name string, input []byte) (string, error) {
	s.started[playbook]++
	return s.EngineStarter.StartPlaybook(ctx, playbook, name, input)
}

// TestEC2ManualLaunchThresholdDurable: the same, through what steward
// serve runs: launches stored as events, the dispatcher with the store's
// durable threshold counter, executions started in the engine. The sixth
// launch within 15 minutes starts no ec2-manual-launch; one 40 minutes
// later does.
func TestEC2ManualLaunchThresholdDurable(t *testing.T) {
	ev := evbCloudTrail(t, launchRecord, evbAsPerson(person))
	h := evbHarness(t, stage.Observe, ev["account"].(string))
	set := rules.NewSet(playbooks.Exists)
	for _, p := range playbooks.All() {
		if err := set.PutAll(p.Rules); err != nil {
			t.Fatal(err)
		}
	}
	starter := &evbCountingStarter{EngineStarter: rules.EngineStarter{Engine: h.Engine}, started: map[string]int{}}
	d := &rules.Dispatcher{Events: h.Store, Rules: set, Starter: starter, Now: h.Clock.Now}
	t0 := h.Clock.Now()
	var want []int
	for i, minute := range []int{0, 2, 4, 6, 8, 10, 40} {
		e := evbCloudTrail(t, launchRecord, func(rec map[string]any) {
			evbAsPerson(person)(rec)
			rec["eventID"] = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		})
		at := t0.Add(time.Duration(minute) * time.Minute)
		if _, err := h.Store.AppendEvents(h.Context(), []store.Event{{ID: e["id"].(string), Source: "aws.ec2", DetailType: "AWS API Call via CloudTrail",
			Account: e["account"].(string), Region: e["region"].(string), Time: at, Received: at, Via: "test", Body: evbJSON(t, e)}}); err != nil {
			t.Fatal(err)
		}
		if _, err := d.ProcessPending(h.Context()); err != nil {
			t.Fatal(err)
		}
		want = append(want, starter.started["ec2-manual-launch"])
	}
	if got := fmt.Sprint(want); got != "[1 2 3 4 5 5 6]" {
		t.Errorf("ec2-manual-launch started after each launch: %s, want [1 2 3 4 5 5 6]", got)
	}
	if starter.started["owner-tag"] != 7 || starter.started["imdsv1"] != 7 {
		t.Errorf("other playbooks started: %v (owner-tag and imdsv1 have no threshold)", starter.started)
	}
}

// TestIMDSv1Rule: every real RunInstances record that succeeded starts
// imdsv1 (it reads each instance and decides); failed ones do not.
func TestIMDSv1Rule(t *testing.T) {
	s := evbRules(t)
	files, _ := filepath.Glob(filepath.Join(testdata.Dir(t, "cloudtrail", "raw"), "RunInstances__*.json"))
	pass := 0
	for _, f := range files {
		rec := evbRead(t, filepath.Join("cloudtrail", "raw", filepath.Base(f)))
		_, failed := rec["errorCode"]
		ev, err := ingest.WrapCloudTrail(rec)
		if err != nil {
			t.Fatal(err)
		}
		if got := slices.Contains(evbStarted(evbEvaluate(t, s, ev, time.Now(), "", nil)), "imdsv1"); got != !failed {
			t.Errorf("%s: started imdsv1 %v, want %v", filepath.Base(f), got, !failed)
			continue
		}
		pass++
	}
	t.Logf("imdsv1-on-launch rule: %d/%d real RunInstances records decided right", pass, len(files))
}
