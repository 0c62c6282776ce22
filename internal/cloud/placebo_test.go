package cloud

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stewardhq/steward/internal/awssim"
)

// testdataDir finds ../shared/testdata beside the module root.
func testdataDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("no go.mod above the package: cannot find ../shared/testdata")
		}
		dir = parent
	}
	td := filepath.Join(dir, "..", "shared", "testdata")
	if _, err := os.Stat(td); err != nil {
		t.Skipf("shared test data not found at %s: %v", td, err)
	}
	return td
}

// placeboServices maps the botocore service names of the placebo
// recordings to Step Functions' names.
var placeboServices = map[string]string{
	"ec2": "ec2", "iam": "iam", "rds": "rds", "elasticloadbalancing": "elasticloadbalancingv2",
	"tagging": "resourcegroupstaggingapi", "cloudtrail": "cloudtrail", "cloudfront": "cloudfront",
	"route53": "route53", "s3": "s3",
}

// placeboExceptions are recordings that cannot be compared, and why. The
// read-only operations the sim serves are compared; the rest are here.
var placeboExceptions = map[string]string{
	"ec2.AuthorizeSecurityGroupIngress":  "mutation of a recorded group id",
	"ec2.RevokeSecurityGroupIngress":     "mutation of a recorded group id",
	"ec2.RevokeSecurityGroupEgress":      "mutation of a recorded group id",
	"ec2.ReleaseAddress":                 "mutation of a recorded allocation id",
	"ec2.DetachVolume":                   "mutation of a recorded volume id",
	"ec2.DeleteVolume":                   "mutation of a recorded volume id",
	"ec2.DeleteVpc":                      "VPCs are not simulated",
	"ec2.CreateVpc":                      "VPCs are not simulated",
	"ec2.DeleteSecurityGroup":            "mutation of a recorded group id",
	"ec2.CreateSecurityGroup":            "needs a VPC id from the recording",
	"ec2.AllocateAddress":                "mutation",
	"ec2.ModifyInstanceMetadataOptions":  "mutation of a recorded instance id",
	"ec2.ModifyInstanceMetadataDefaults": "mutation",
	"rds.ModifyDBInstance":               "mutation of a recorded instance id",
	"cloudfront.UpdateDistribution":      "mutation needing the recorded distribution and ETag",
	"route53.ChangeResourceRecordSets":   "mutation of a recorded hosted zone",
	"s3-control.GetPublicAccessBlock":    "S3 Control is not a service of the integration",
	"s3-control.PutPublicAccessBlock":    "S3 Control is not a service of the integration",
	"config.SelectResourceConfig":        "AWS Config is not a service of the integration",
}

// placeboFileExceptions are single recordings that cannot pass, and why.
// They are driven and counted in the total, but not as passes.
var placeboFileExceptions = map[string]string{
	"test_elb_tags/elasticloadbalancing.DescribeLoadBalancers_1.json": "a Classic ELB response (LoadBalancerDescriptions): botocore records Classic ELB and ELBv2 both as elasticloadbalancing, and the integration's service is ELBv2",
}

// placeboParams gives parameters to operations that need some; the
// function reads ids from the seeded account.
var placeboParams = map[string]func(seeded map[string]string) string{
	"iam.GetPolicyVersion": func(s map[string]string) string {
		return `{"PolicyArn":"` + s["policy"] + `","VersionId":"v1"}`
	},
	"elasticloadbalancing.DescribeTags": func(s map[string]string) string {
		return `{"ResourceArns":["` + s["lb"] + `"]}`
	},
	"elasticloadbalancing.DescribeLoadBalancerAttributes": func(s map[string]string) string {
		return `{"LoadBalancerArn":"` + s["lb"] + `"}`
	},
	"cloudfront.GetDistributionConfig": func(s map[string]string) string {
		return `{"Id":"` + s["distribution"] + `"}`
	},
	"route53.ListResourceRecordSets": func(s map[string]string) string {
		return `{"HostedZoneId":"` + s["zone"] + `"}`
	},
}

// TestResultShapesAgainstPlacebo drives each recorded read operation the
// sim serves through the aws-sdk task integration and compares the
// result's shape with the recorded AWS response: every top-level field of
// the recording is present, and every field both have agrees in type.
func TestResultShapesAgainstPlacebo(t *testing.T) {
	root := filepath.Join(testdataDir(t), "placebo")
	files, err := filepath.Glob(filepath.Join(root, "*", "*.json"))
	if err != nil || len(files) == 0 {
		t.Skipf("no placebo recordings under %s", root)
	}
	e := newEnv(t)
	e.needSim(t, "seeding one of each resource kind")
	c := e.cloud(t, nil)
	acct, region := testAccounts[0], testRegions[0]
	ctx := WithTarget(context.Background(), Target{Account: acct, Region: region})
	seeded := seedPlacebo(t, e, c, ctx, acct, region)

	pass, total := 0, 0
	skipped := map[string]int{}
	var failures []string
	for _, f := range files {
		base := strings.TrimSuffix(filepath.Base(f), ".json")
		op := base[:strings.LastIndex(base, "_")]
		if why, ok := placeboExceptions[op]; ok {
			skipped[op+": "+why]++
			continue
		}
		svc, action, _ := strings.Cut(op, ".")
		sfnSvc, ok := placeboServices[svc]
		if !ok {
			skipped[op+": service not mapped"]++
			continue
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var rec struct {
			StatusCode int            `json:"status_code"`
			Data       map[string]any `json:"data"`
		}
		if err := json.Unmarshal(raw, &rec); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if rec.StatusCode != 200 {
			skipped[op+": recorded an error"]++
			continue
		}
		total++
		params := "{}"
		if p := placeboParams[op]; p != nil {
			params = p(seeded)
		}
		resource := ResourcePrefix + sfnSvc + ":" + strings.ToLower(action[:1]) + action[1:]
		out, err := invoke(t, c, ctx, resource, params, nil)
		if err != nil {
			failures = append(failures, fmt.Sprintf("%s: %v", f, err))
			continue
		}
		rel := strings.TrimPrefix(filepath.ToSlash(f), filepath.ToSlash(root)+"/")
		if diffs := compareShape("", rec.Data, out, true); len(diffs) > 0 {
			if why, ok := placeboFileExceptions[rel]; ok {
				t.Logf("exception %s: %s (%s)", rel, why, strings.Join(diffs, "; "))
				continue
			}
			failures = append(failures, fmt.Sprintf("%s (%s): %s", strings.TrimPrefix(f, root+"/"), op, strings.Join(diffs, "; ")))
			continue
		}
		pass++
	}
	for _, f := range failures {
		t.Error(f)
	}
	keys := make([]string, 0, len(skipped))
	for k := range skipped {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("not compared (%d): %s", skipped[k], k)
	}
	t.Logf("placebo result shapes: %d/%d recordings pass, %d listed exceptions (%d recordings not compared, listed above)", pass, total, len(placeboFileExceptions), len(files)-total)
}

// seedPlacebo adds one resource of each kind the compared operations list.
func seedPlacebo(t testing.TB, e *env, c *Cloud, ctx context.Context, acct, region string) map[string]string {
	t.Helper()
	res := awssim.Resources{
		Volumes:        []awssim.Volume{{Tags: awssim.Tags{{Key: "Name", Value: "v"}}}, {Attachments: []awssim.VolumeAttachment{{InstanceID: "i-0123456789abcdef0"}}}},
		Instances:      []awssim.Instance{{ID: "i-0123456789abcdef0", Tags: awssim.Tags{{Key: "Name", Value: "web"}}}},
		SecurityGroups: []awssim.SecurityGroup{{Name: "web", Ingress: []awssim.SecurityGroupRule{{Protocol: "tcp", FromPort: 22, ToPort: 22, CidrIPv4: "0.0.0.0/0"}}}},
		Addresses:      []awssim.Address{{}},
		DBInstances:    []awssim.DBInstance{{ID: "db1"}},
		LoadBalancers:  []awssim.LoadBalancer{{Name: "lb1", Tags: awssim.Tags{{Key: "team", Value: "web"}}}},
		IMDSDefaults:   &awssim.IMDSDefaults{HTTPTokens: "required", HTTPEndpoint: "enabled"},
	}
	if err := e.sim.AddResources(acct, region, res); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.AddIAM(acct, awssim.Resources{Policies: []awssim.Policy{{Name: "p1"}}}); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.AddHostedZones(acct, awssim.HostedZone{ID: "Z0123456789ABCDEFGHIJ", Name: "example.com.",
		Records: []awssim.RecordSet{{Name: "www.example.com.", Type: "CNAME", TTL: 300, Values: []string{"bucket.s3.amazonaws.com"}}}}); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.AddDistributions(acct, awssim.Distribution{ID: "E0123456789ABC", Comment: "site",
		Origins: []awssim.DistributionOrigin{{ID: "s3", DomainName: "bucket.s3.amazonaws.com"}}}); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.AddCloudTrailEvents(acct, region, awssim.CloudTrailEvent{EventName: "DeleteBucket", EventSource: "s3.amazonaws.com",
		Username: "alice", Resources: []awssim.CloudTrailResource{{Type: "AWS::S3::Bucket", Name: "bucket"}}}); err != nil {
		t.Fatal(err)
	}
	lbs := mustInvoke(t, c, ctx, ResourcePrefix+"elasticloadbalancingv2:describeLoadBalancers", `{}`)
	lb, _ := lbs["LoadBalancers"].([]any)
	if len(lb) == 0 {
		t.Fatalf("no load balancer: %v", lbs)
	}
	return map[string]string{
		"policy":       "arn:aws:iam::" + acct + ":policy/p1",
		"lb":           lb[0].(map[string]any)["LoadBalancerArn"].(string),
		"distribution": "E0123456789ABC",
		"zone":         "Z0123456789ABCDEFGHIJ",
	}
}

// shapeOf names a value's JSON type; botocore's recorded datetimes are
// strings in Step Functions' rendering.
func shapeOf(v any) string {
	switch x := v.(type) {
	case map[string]any:
		if x["__class__"] == "datetime" {
			return "string"
		}
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number, float64, int, int64:
		return "number"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// paginationFields may be recorded but need not be in a one-page result.
var paginationFields = map[string]bool{"NextToken": true, "Marker": true, "NextMarker": true, "PaginationToken": true, "ResponseMetadata": true}

// compareShape returns the differences between a recorded response and a
// result: at the top level, fields the recording has and the result
// lacks; everywhere, fields whose types differ.
func compareShape(path string, rec, got any, top bool) []string {
	rs, gs := shapeOf(rec), shapeOf(got)
	if rs == "null" || gs == "null" {
		return nil
	}
	if rs != gs {
		return []string{fmt.Sprintf("%s: recorded %s, got %s", orRoot(path), rs, gs)}
	}
	var diffs []string
	switch rs {
	case "object":
		rm, gm := rec.(map[string]any), got.(map[string]any)
		for k, rv := range rm {
			if paginationFields[k] {
				continue
			}
			gv, ok := gm[k]
			if !ok {
				if top {
					diffs = append(diffs, fmt.Sprintf("%s: missing", join(path, k)))
				}
				continue
			}
			diffs = append(diffs, compareShape(join(path, k), rv, gv, false)...)
		}
	case "array":
		ra, ga := rec.([]any), got.([]any)
		if len(ra) > 0 && len(ga) > 0 {
			diffs = append(diffs, compareShape(path+"[0]", ra[0], ga[0], false)...)
		}
	}
	return diffs
}

func orRoot(p string) string {
	if p == "" {
		return "(root)"
	}
	return p
}
