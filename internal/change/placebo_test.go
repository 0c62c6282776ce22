package change

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stewardhq/steward/internal/testdata"
)

// recorded answers read calls with responses recorded against real AWS
// (Cloud Custodian's placebo recordings in ../shared/testdata/placebo):
// "service.Operation_1.json" in one folder. An operation not recorded
// answers {}.
func recorded(t *testing.T, dir string) reader {
	return func(_ context.Context, service, action string, _ obj) (obj, error) {
		if service == "elasticloadbalancingv2" {
			service = "elbv2"
		}
		data, err := os.ReadFile(filepath.Join(dir, service+"."+action+"_1.json"))
		if err != nil {
			return obj{}, nil
		}
		var rec struct {
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(data, &rec); err != nil {
			t.Fatalf("%s.%s: %v", service, action, err)
		}
		m := asObj(decode(rec.Data))
		delete(m, "ResponseMetadata")
		return m, nil
	}
}

// TestRecipeReadsOnRecordedResponses runs the recipes' before reads and
// undo builders on responses recorded from real AWS, so the fields they
// read are where AWS puts them.
func TestRecipeReadsOnRecordedResponses(t *testing.T) {
	root := testdata.Dir(t, "placebo")
	cases := []struct {
		dir, recipe string
		params      func(r lookup) obj
		check       func(before any, u Undo) error
	}{
		{"test_security_group_set_permissions", "ec2:RevokeSecurityGroupIngress",
			func(r lookup) obj {
				sg := get(must(r("ec2", "DescribeSecurityGroups")), "SecurityGroups.0")
				return obj{"GroupId": str(sg, "GroupId"), "IpPermissions": asList(get(sg, "IpPermissions"))[:1]}
			},
			func(before any, u Undo) error {
				if len(asList(get(before, "IpPermissions"))) == 0 || len(u.Calls) != 1 || u.Calls[0].Action != "AuthorizeSecurityGroupIngress" ||
					str(u.Calls[0].Parameters, "IpPermissions.0.IpRanges.0.CidrIp") != "0.0.0.0/0" {
					return fmt.Errorf("before %v undo %v", before, pretty(u))
				}
				return nil
			}},
		{"test_only_ports_and_cidr_ingress", "ec2:RevokeSecurityGroupIngress",
			func(r lookup) obj {
				for _, sg := range asList(must(r("ec2", "DescribeSecurityGroups"))["SecurityGroups"]) {
					if str(sg, "GroupId") == "sg-02a60363e2b087ff8" {
						return obj{"GroupId": str(sg, "GroupId"), "IpPermissions": asList(get(sg, "IpPermissions"))[2:3]}
					}
				}
				return nil
			},
			func(before any, u Undo) error {
				if len(asList(get(before, "IpPermissions"))) != 5 || str(before, "GroupId") != "sg-02a60363e2b087ff8" || len(asList(u.Calls[0].Parameters["IpPermissions"])) != 1 {
					return fmt.Errorf("before %v undo %v", before, pretty(u))
				}
				return nil
			}},
		{"test_only_ports_and_cidr_ingress", "ec2:RevokeSecurityGroupEgress",
			func(r lookup) obj {
				for _, sg := range asList(must(r("ec2", "DescribeSecurityGroups"))["SecurityGroups"]) {
					if str(sg, "GroupId") == "sg-02a60363e2b087ff8" {
						return obj{"GroupId": str(sg, "GroupId"), "IpPermissions": get(sg, "IpPermissionsEgress")}
					}
				}
				return nil
			},
			func(before any, u Undo) error {
				if len(asList(get(before, "IpPermissionsEgress"))) == 0 || u.Calls[0].Action != "AuthorizeSecurityGroupEgress" {
					return fmt.Errorf("before %v undo %v", before, pretty(u))
				}
				return nil
			}},
		{"test_ec2_set_md_access", "ec2:ModifyInstanceMetadataOptions",
			func(r lookup) obj {
				return obj{"InstanceId": str(must(r("ec2", "DescribeInstances")), "Reservations.0.Instances.0.InstanceId"), "HttpTokens": "required"}
			},
			func(before any, u Undo) error {
				p := u.Calls[0].Parameters
				if str(before, "HttpTokens") != "optional" || str(p, "HttpTokens") != "optional" || str(p, "HttpEndpoint") != "enabled" ||
					fmt.Sprint(p["HttpPutResponseHopLimit"]) != "1" || !strings.HasPrefix(str(p, "InstanceId"), "i-") {
					return fmt.Errorf("before %v undo %v", before, pretty(u))
				}
				return nil
			}},
		{"test_ec2_set_md_access", "ec2:StopInstances",
			func(r lookup) obj {
				return obj{"InstanceIds": []any{str(must(r("ec2", "DescribeInstances")), "Reservations.0.Instances.0.InstanceId")}}
			},
			func(before any, u Undo) error {
				if len(u.Calls) != 1 || u.Calls[0].Action != "StartInstances" || len(asList(u.Calls[0].Parameters["InstanceIds"])) != 1 {
					return fmt.Errorf("before %v undo %v", before, pretty(u))
				}
				return nil
			}},
		{"test_ec2_metadata_defaults", "ec2:ModifyInstanceMetadataDefaults",
			func(lookup) obj { return obj{"HttpTokens": "required", "HttpPutResponseHopLimit": 2} },
			func(before any, u Undo) error {
				p := u.Calls[0].Parameters
				if str(p, "HttpTokens") != "optional" || fmt.Sprint(p["HttpPutResponseHopLimit"]) != "-1" || p["HttpEndpoint"] != nil {
					return fmt.Errorf("before %v undo %v", before, pretty(u))
				}
				return nil
			}},
		{"test_distribution_update_distribution", "cloudfront:UpdateDistribution",
			func(lookup) obj { return obj{"Id": "E1"} },
			func(before any, u Undo) error {
				c := u.Calls[0]
				if str(before, "DistributionConfig.CallerReference") == "" || str(c.Parameters, "DistributionConfig.CallerReference") == "" || c.ETagFrom == nil {
					return fmt.Errorf("before %v undo %v", before, pretty(u))
				}
				return nil
			}},
		{"test_r53_resourcerecordset_remove", "route53:ChangeResourceRecordSets",
			func(r lookup) obj {
				var rs any
				for _, x := range asList(must(r("route53", "ListResourceRecordSets"))["ResourceRecordSets"]) {
					if str(x, "Type") == "CNAME" {
						rs = x
					}
				}
				return obj{"HostedZoneId": "Z1", "ChangeBatch": obj{"Changes": []any{obj{"Action": "DELETE", "ResourceRecordSet": obj{"Name": str(rs, "Name"), "Type": "CNAME"}}}}}
			},
			func(before any, u Undo) error {
				ch := get(u.Calls[0].Parameters, "ChangeBatch.Changes.0")
				if get(before, "RecordSets.0") == nil || str(ch, "Action") != "CREATE" || get(ch, "ResourceRecordSet.ResourceRecords") == nil {
					return fmt.Errorf("before %v undo %v", before, pretty(u))
				}
				return nil
			}},
		{"test_iam_policy_allow_all", "iam:DeletePolicyVersion",
			func(lookup) obj { return obj{"PolicyArn": "arn:aws:iam::123456789012:policy/p", "VersionId": "v1"} },
			func(before any, u Undo) error {
				doc := str(u.Calls[0].Parameters, "PolicyDocument")
				if !json.Valid([]byte(doc)) || !strings.Contains(doc, `"Everything"`) || u.Calls[0].Action != "CreatePolicyVersion" {
					return fmt.Errorf("before %v undo %v", before, pretty(u))
				}
				return nil
			}},
		{"test_rds_modify_db_enable_cloudwatch", "rds:StopDBInstance",
			func(r lookup) obj {
				return obj{"DBInstanceIdentifier": str(must(r("rds", "DescribeDBInstances")), "DBInstances.0.DBInstanceIdentifier")}
			},
			func(before any, u Undo) error {
				// The recording keeps no DBInstanceStatus: an instance StopDBInstance
				// stopped was available, so the undo starts it.
				if len(u.Calls) != 1 || u.Calls[0].Action != "StartDBInstance" || str(u.Calls[0].Parameters, "DBInstanceIdentifier") == "" {
					return fmt.Errorf("before %v undo %v", before, pretty(u))
				}
				return nil
			}},
	}
	// Known exceptions: none so far.
	pass := 0
	for _, tc := range cases {
		t.Run(tc.dir+"/"+tc.recipe, func(t *testing.T) {
			rd := recorded(t, filepath.Join(root, tc.dir))
			svc, act, _ := strings.Cut(tc.recipe, ":")
			rc := recipeFor(svc, act)
			p := tc.params(func(s, a string) (obj, error) { return rd(context.Background(), s, a, nil) })
			before, err := rc.read(context.Background(), rd, p, nil)
			if err != nil {
				t.Fatal(err)
			}
			before = normalize(before)
			u := rc.undoOf(p, before, obj{})
			if u.Irreversible != "" || len(u.Calls) == 0 {
				t.Fatalf("no undo: %+v", u)
			}
			if err := tc.check(before, u); err != nil {
				t.Fatal(err)
			}
			pass++
		})
	}
	t.Logf("recipe reads on responses recorded from real AWS (placebo): %d/%d pass", pass, len(cases))
}

func must(o obj, err error) obj {
	if err != nil {
		panic(err)
	}
	return o
}

// lookup reads one recorded response.
type lookup func(service, action string) (obj, error)
