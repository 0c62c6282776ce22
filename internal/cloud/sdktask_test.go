package cloud

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/asl"
	"github.com/stewardhq/steward/internal/clock"
	"github.com/stewardhq/steward/internal/task"
)

// decodeJSON decodes s into steward's value model.
func decodeJSON(t testing.TB, s string) any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return v
}

// invoke runs one aws-sdk task through a task registry, as the engine does.
func invoke(t testing.TB, c *Cloud, ctx context.Context, resource, params string, creds any) (any, error) {
	t.Helper()
	reg := task.NewRegistry()
	c.Register(reg)
	h, err := reg.Resolve(resource)
	if err != nil {
		t.Fatal(err)
	}
	var in any
	if params != "" {
		in = decodeJSON(t, params)
	}
	return h.Invoke(ctx, &task.Call{Resource: resource, Input: in, Credentials: creds})
}

func mustInvoke(t testing.TB, c *Cloud, ctx context.Context, resource, params string) map[string]any {
	t.Helper()
	out, err := invoke(t, c, ctx, resource, params, nil)
	if err != nil {
		t.Fatalf("%s %s: %v", resource, params, err)
	}
	m, ok := out.(map[string]any)
	if !ok {
		t.Fatalf("%s: result is %T, want an object", resource, out)
	}
	return m
}

// aslError returns the ASL error a task failed with.
func aslError(t testing.TB, err error) *asl.Error {
	t.Helper()
	var ae *asl.Error
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) carries no *asl.Error", err, err)
	}
	return ae
}

// catches reports whether a Catch with ErrorEquals list would catch the
// error, by Step Functions' rules for named errors.
func catches(list []string, name string) bool {
	for _, w := range list {
		if w == name || w == asl.ErrAll || (w == asl.ErrTaskFailed && name != asl.ErrTimeout) {
			return true
		}
	}
	return false
}

func TestSDKTaskEC2Volumes(t *testing.T) {
	e := newEnv(t)
	if e.sim != nil {
		e.sim.ExtendEC2Volumes() // the sim's CreateVolume, so the test is the same on every endpoint
	}
	c := e.cloud(t, nil)
	acct, region := testAccounts[0], testRegions[0]
	ctx := WithTarget(context.Background(), Target{Account: acct, Region: region})
	// The volumes are made through the aws-sdk task's CreateVolume, as on
	// any AWS-compatible endpoint; the run's own tag values keep volumes
	// left by earlier runs on a shared endpoint out of the counts.
	run := fmt.Sprintf("%x", time.Now().UnixNano())
	for _, team := range []string{"blue", "blue", "blue", "red", "red"} {
		out := mustInvoke(t, c, ctx, "arn:aws:states:::aws-sdk:ec2:createVolume",
			`{"AvailabilityZone":"`+region+`a","Size":8,"VolumeType":"gp3","TagSpecifications":[{"ResourceType":"volume","Tags":[{"Key":"team","Value":"`+team+`-`+run+`"}]}]}`)
		if id, _ := out["VolumeId"].(string); !strings.HasPrefix(id, "vol-") || out["AvailabilityZone"] != region+"a" {
			t.Fatalf("createVolume result: %v", out)
		}
	}

	out := mustInvoke(t, c, ctx, "arn:aws:states:::aws-sdk:ec2:describeVolumes",
		`{"Filters":[{"Name":"tag:team","Values":["blue-`+run+`"]}],"MaxResults":1000}`)
	vols, _ := out["Volumes"].([]any)
	if len(vols) != 3 {
		t.Fatalf("describeVolumes with a tag filter: %d volumes, want 3: %v", len(vols), out)
	}
	if _, ok := out["ResultMetadata"]; ok {
		t.Fatal("result has ResultMetadata")
	}
	v0 := vols[0].(map[string]any)
	for _, k := range []string{"VolumeId", "Size", "State", "VolumeType", "AvailabilityZone", "CreateTime", "Tags"} {
		if _, ok := v0[k]; !ok {
			t.Fatalf("volume lacks %s: %v", k, v0)
		}
	}
	if _, ok := v0["Size"].(json.Number); !ok {
		t.Fatalf("Size is %T, want json.Number", v0["Size"])
	}
	if s, _ := v0["CreateTime"].(string); !strings.HasSuffix(s, "Z") || !strings.Contains(s, "T") {
		t.Fatalf("CreateTime %v is not ISO 8601 UTC", v0["CreateTime"])
	}
	volID := v0["VolumeId"].(string)

	snap := mustInvoke(t, c, ctx, "arn:aws:states:::aws-sdk:ec2:createSnapshot",
		`{"VolumeId":"`+volID+`","Description":"steward: before delete","TagSpecifications":[{"ResourceType":"snapshot","Tags":[{"Key":"steward:volume","Value":"`+volID+`"}]}]}`)
	if id, _ := snap["SnapshotId"].(string); !strings.HasPrefix(id, "snap-") {
		t.Fatalf("createSnapshot result: %v", snap)
	}
	if snap["VolumeId"] != volID {
		t.Fatalf("createSnapshot VolumeId %v, want %s", snap["VolumeId"], volID)
	}

	del := mustInvoke(t, c, ctx, "arn:aws:states:::aws-sdk:ec2:deleteVolume", `{"VolumeId":"`+volID+`"}`)
	if len(del) != 0 {
		t.Fatalf("deleteVolume result %v, want {}", del)
	}

	// Deleting it again fails with EC2's InvalidVolume.NotFound, named as
	// Step Functions names SDK errors, which a Catch can name.
	_, err := invoke(t, c, ctx, "arn:aws:states:::aws-sdk:ec2:deleteVolume", `{"VolumeId":"`+volID+`"}`, nil)
	ae := aslError(t, err)
	const want = "Ec2.InvalidVolume.NotFoundException"
	if ae.Name != want || !catches([]string{want}, ae.Name) {
		t.Fatalf("second deleteVolume: error %q, want %q", ae.Name, want)
	}
	if !strings.Contains(ae.Cause, volID) || !strings.Contains(ae.Cause, "(Service: Ec2, Status Code: 400, Request ID: ") {
		t.Fatalf("cause %q lacks the message or the service part", ae.Cause)
	}
	var ce *CallError
	if !errors.As(err, &ce) || ce.Account != acct || ce.Region != region || ce.Service != "ec2" || ce.Action != "deleteVolume" {
		t.Fatalf("CallError %+v", ce)
	}
}

func TestSDKTaskSTSCredentials(t *testing.T) {
	e := newEnv(t)
	c := e.cloud(t, nil)
	ctx := WithTarget(context.Background(), TargetFromInput(decodeJSON(t, `{"account":"`+testAccounts[0]+`","region":"eu-west-1"}`)))
	out := mustInvoke(t, c, ctx, "arn:aws:states:::aws-sdk:sts:getCallerIdentity", `{}`)
	if out["Account"] != testAccounts[0] {
		t.Fatalf("getCallerIdentity in the execution's account: %v", out)
	}
	if arn, _ := out["Arn"].(string); !strings.Contains(arn, "assumed-role/"+roleName) {
		t.Fatalf("getCallerIdentity Arn %q, want the assumed remediator role", arn)
	}
	// Credentials.RoleArn acts in another account.
	role := RoleFor(roleTmpl, testAccounts[2])
	res, err := invoke(t, c, ctx, "arn:aws:states:::aws-sdk:sts:getCallerIdentity", "", map[string]any{"RoleArn": role})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.(map[string]any)["Account"]; got != testAccounts[2] {
		t.Fatalf("with Credentials.RoleArn: account %v, want %s", got, testAccounts[2])
	}
	// Home account, no role: steward's own credentials.
	hctx := WithTarget(context.Background(), Target{Account: homeAccount, Region: testRegions[0]})
	if e.sim != nil {
		out = mustInvoke(t, c, hctx, "arn:aws:states:::aws-sdk:sts:getCallerIdentity", "")
		if out["Account"] != homeAccount {
			t.Fatalf("home account: %v", out)
		}
	}
}

func TestSDKTaskIAM(t *testing.T) {
	e := newEnv(t)
	c := e.cloud(t, nil)
	ctx := WithTarget(context.Background(), Target{Account: testAccounts[1], Region: "eu-west-1"})
	doc := `{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"ec2:Describe*\",\"Resource\":\"*\"}]}`
	pol := mustInvoke(t, c, ctx, "arn:aws:states:::aws-sdk:iam:createPolicy", `{"PolicyName":"steward-test","PolicyDocument":"`+doc+`"}`)
	p, _ := pol["Policy"].(map[string]any)
	arn, _ := p["Arn"].(string)
	if !strings.HasPrefix(arn, "arn:aws:iam::"+testAccounts[1]+":policy/") {
		t.Fatalf("createPolicy: %v", pol)
	}
	got := mustInvoke(t, c, ctx, "arn:aws:states:::aws-sdk:iam:getPolicyVersion", `{"PolicyArn":"`+arn+`","VersionId":"v1"}`)
	if pv, _ := got["PolicyVersion"].(map[string]any); pv["IsDefaultVersion"] != true {
		t.Fatalf("getPolicyVersion: %v", got)
	}
	list := mustInvoke(t, c, ctx, "arn:aws:states:::aws-sdk:iam:listPolicies", `{"Scope":"Local","MaxItems":100}`)
	if ps, _ := list["Policies"].([]any); len(ps) == 0 {
		t.Fatalf("listPolicies: %v", list)
	}
	_, err := invoke(t, c, ctx, "arn:aws:states:::aws-sdk:iam:getRole", `{"RoleName":"no-such-role"}`, nil)
	if ae := aslError(t, err); ae.Name != "Iam.NoSuchEntityException" {
		t.Fatalf("getRole of a missing role: %q, want Iam.NoSuchEntityException", ae.Name)
	}
}

func TestSDKTaskBadInput(t *testing.T) {
	e := newEnv(t)
	c := e.cloud(t, nil)
	ctx := WithTarget(context.Background(), Target{Account: testAccounts[0], Region: testRegions[0]})
	tests := []struct {
		name, resource, params string
		creds                  any
		ctx                    context.Context
		is                     error
		mention                []string
	}{
		{"unknown action", "arn:aws:states:::aws-sdk:ec2:describeVolumez", `{}`, nil, ctx, ErrUnknownAction,
			[]string{"ec2", "describeVolumez", testAccounts[0], testRegions[0]}},
		{"PascalCase action", "arn:aws:states:::aws-sdk:ec2:DescribeVolumes", `{}`, nil, ctx, ErrUnknownAction, []string{"camelCase"}},
		{"not an operation", "arn:aws:states:::aws-sdk:ec2:options", `{}`, nil, ctx, ErrUnknownAction, []string{"Options"}},
		{"unknown service", "arn:aws:states:::aws-sdk:lambdax:invoke", `{}`, nil, ctx, ErrUnknownService, []string{"lambdax"}},
		{"unknown field", "arn:aws:states:::aws-sdk:ec2:describeVolumes", `{"VolumeIdz":["vol-1"]}`, nil, ctx, ErrBadParameters,
			[]string{"VolumeIdz", "describeVolumes", testAccounts[0], testRegions[0]}},
		{"wrong type", "arn:aws:states:::aws-sdk:ec2:describeVolumes", `{"MaxResults":"ten"}`, nil, ctx, ErrBadParameters, []string{"MaxResults"}},
		{"nested wrong type", "arn:aws:states:::aws-sdk:ec2:describeVolumes", `{"Filters":[{"Name":"x","Values":"y"}]}`, nil, ctx, ErrBadParameters, []string{"Filters[0].Values"}},
		{"out of range", "arn:aws:states:::aws-sdk:ec2:describeVolumes", `{"MaxResults":99999999999}`, nil, ctx, ErrBadParameters, []string{"MaxResults"}},
		{"not an object", "arn:aws:states:::aws-sdk:ec2:describeVolumes", `[1]`, nil, ctx, ErrBadParameters, nil},
		{"unknown account", "arn:aws:states:::aws-sdk:ec2:describeVolumes", `{}`, nil,
			WithTarget(context.Background(), Target{Account: "123456789012", Region: testRegions[0]}), ErrUnknownAccount, []string{"123456789012"}},
		{"unknown region", "arn:aws:states:::aws-sdk:ec2:describeVolumes", `{}`, nil,
			WithTarget(context.Background(), Target{Account: testAccounts[0], Region: "sa-east-1"}), ErrUnknownRegion, []string{"sa-east-1"}},
		{"bad Credentials", "arn:aws:states:::aws-sdk:ec2:describeVolumes", `{}`, map[string]any{"RoleArn": "nope"}, ctx, nil, []string{"RoleArn"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := invoke(t, c, tt.ctx, tt.resource, tt.params, tt.creds)
			if err == nil {
				t.Fatal("no error")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Fatalf("error %v is not %v", err, tt.is)
			}
			ae := aslError(t, err)
			if ae.Name != asl.ErrTaskFailed || !catches([]string{asl.ErrTaskFailed}, ae.Name) {
				t.Fatalf("error name %q, want States.TaskFailed", ae.Name)
			}
			for _, m := range tt.mention {
				if !strings.Contains(ae.Cause, m) {
					t.Fatalf("cause %q does not mention %q", ae.Cause, m)
				}
			}
		})
	}
	// A missing required parameter is the SDK's own validation error.
	_, err := invoke(t, c, ctx, "arn:aws:states:::aws-sdk:ec2:deleteVolume", `{}`, nil)
	if ae := aslError(t, err); ae.Name != asl.ErrTaskFailed || !strings.Contains(ae.Cause, "VolumeId") {
		t.Fatalf("deleteVolume without VolumeId: %v", err)
	}
}

func TestParseResource(t *testing.T) {
	tests := []struct {
		in, svc, act string
		ok           bool
	}{
		{"arn:aws:states:::aws-sdk:ec2:describeVolumes", "ec2", "describeVolumes", true},
		{"arn:aws:states:::aws-sdk:s3:getObject.waitForTaskToken", "s3", "getObject", true},
		{"arn:aws:states:::aws-sdk:ec2", "", "", false},
		{"arn:aws:states:::aws-sdk::x", "", "", false},
		{"arn:aws:states:::lambda:invoke", "", "", false},
		{"arn:aws:states:::aws-sdk:a:b:c", "", "", false},
	}
	for _, tt := range tests {
		s, a, err := ParseResource(tt.in)
		if (err == nil) != tt.ok || s != tt.svc || a != tt.act {
			t.Errorf("ParseResource(%q) = %q, %q, %v", tt.in, s, a, err)
		}
	}
}

func TestEveryServiceHasClientAndOperations(t *testing.T) {
	// One known read-only action per service resolves to an SDK operation.
	actions := map[string]string{
		"ec2": "describeVolumes", "iam": "listRoles", "s3": "listBuckets", "route53": "listHostedZones",
		"cloudfront": "listDistributions", "elasticloadbalancingv2": "describeLoadBalancers",
		"rds": "describeDBInstances", "cloudtrail": "lookupEvents", "cloudwatch": "getMetricStatistics",
		"sts": "getCallerIdentity", "organizations": "listAccounts", "sns": "listTopics",
		"securityhub": "getFindings", "resourcegroupstaggingapi": "getResources",
	}
	if len(actions) != len(ServiceNames()) {
		t.Fatalf("services %v vs table %d", ServiceNames(), len(actions))
	}
	for svc, act := range actions {
		if _, _, err := findMethod(svc, act); err != nil {
			t.Errorf("%s:%s: %v", svc, act, err)
		}
	}
}

// TestSDKTaskAWSRejectsRequest: when AWS rejects a request before acting
// (here the sim's clock has run two hours ahead, so the request and the
// cached temporary credentials look expired to it), the task fails with
// AWS's error by name (Ec2.*Exception, Sts.*Exception), which a Catch can
// match, not with a generic States.TaskFailed.
func TestSDKTaskAWSRejectsRequest(t *testing.T) {
	e := newEnv(t)
	e.needSim(t, "moving the endpoint's clock")
	steward := clock.NewFake(e.clock.Now())
	c := e.cloud(t, func(cfg *Config) { cfg.Clock = steward })
	ctx := WithTarget(context.Background(), Target{Account: testAccounts[0], Region: testRegions[0]})
	mustInvoke(t, c, ctx, "arn:aws:states:::aws-sdk:ec2:describeVolumes", `{}`)
	e.clock.Advance(2 * time.Hour) // AWS's time, not steward's
	for _, tt := range []struct{ resource, prefix string }{
		{"arn:aws:states:::aws-sdk:ec2:describeVolumes", "Ec2."},
		{"arn:aws:states:::aws-sdk:sts:getCallerIdentity", "Sts."},
	} {
		_, err := invoke(t, c, ctx, tt.resource, `{}`, nil)
		ae := aslError(t, err)
		if !strings.HasPrefix(ae.Name, tt.prefix) || !strings.HasSuffix(ae.Name, "Exception") || !strings.Contains(ae.Cause, "Status Code: ") {
			t.Fatalf("%s: %q (%s), want a %s...Exception named for AWS's code", tt.resource, ae.Name, ae.Cause, tt.prefix)
		}
		t.Logf("%s rejected: %s: %s", tt.resource, ae.Name, ae.Cause)
	}
	// AWS said the token expired: steward forgets it and assumes the role
	// again on the next call.
	before := stsCalls(c)
	_, _ = c.Credentials(context.Background(), testAccounts[0])
	if stsCalls(c) != before+1 {
		t.Fatalf("expired credentials still cached: %d AssumeRole calls, want %d", stsCalls(c), before+1)
	}
}

// TestSDKTaskEveryService drives one read call of every service of the
// integration and checks the result is an object.
func TestSDKTaskEveryService(t *testing.T) {
	e := newEnv(t)
	c := e.cloud(t, nil)
	ctx := WithTarget(context.Background(), Target{Account: homeAccount, Region: testRegions[0]})
	calls := []struct{ resource, params string }{
		{"ec2:describeVolumes", `{"MaxResults":5}`},
		{"iam:listRoles", `{}`},
		{"s3:listBuckets", `{}`},
		{"route53:listHostedZones", `{"MaxItems":"10"}`},
		{"cloudfront:listDistributions", `{}`},
		{"elasticloadbalancingv2:describeLoadBalancers", `{}`},
		{"rds:describeDBInstances", `{}`},
		{"cloudtrail:lookupEvents", `{"MaxResults":5}`},
		{"cloudwatch:getMetricStatistics", `{"Namespace":"AWS/EC2","MetricName":"CPUUtilization","StartTime":"2025-01-01T00:00:00Z","EndTime":"2025-01-02T00:00:00Z","Period":3600,"Statistics":["Average"]}`},
		{"sts:getCallerIdentity", `{}`},
		{"organizations:listAccounts", `{}`},
		{"sns:listTopics", `{}`},
		{"securityhub:getFindings", `{"MaxResults":5}`},
		{"resourcegroupstaggingapi:getResources", `{}`},
	}
	if len(calls) != len(ServiceNames()) {
		t.Fatalf("%d calls for %d services", len(calls), len(ServiceNames()))
	}
	pass := 0
	for _, tt := range calls {
		out, err := invoke(t, c, ctx, ResourcePrefix+tt.resource, tt.params, nil)
		if err != nil {
			t.Errorf("%s: %v", tt.resource, err)
			continue
		}
		if _, ok := out.(map[string]any); !ok {
			t.Errorf("%s: result %T", tt.resource, out)
			continue
		}
		pass++
	}
	t.Logf("one call per service: %d/%d pass", pass, len(calls))
}
