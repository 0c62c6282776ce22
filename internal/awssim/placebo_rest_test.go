package awssim

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	tagging "github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	s3ctypes "github.com/aws/aws-sdk-go-v2/service/s3control/types"
)

// The placebo shape check for the REST and JSON services: s3-control,
// cloudfront, route53, tagging and cloudtrail recordings get adapters here.
func init() {
	for k, v := range placeboRESTCalls {
		placeboCalls[k] = v
	}
	for k, v := range placeboRESTUnmodelled {
		placeboUnmodelled[k] = v
	}
}

func s3controlFor(env placeboEnv) *s3control.Client {
	cfg := env.cfg.Copy()
	u := aws.ToString(cfg.BaseEndpoint)
	cfg.BaseEndpoint = aws.String(strings.Replace(u, "127.0.0.1", "localhost", 1))
	cfg.HTTPClient = loopbackClient(u)
	return s3control.NewFromConfig(cfg)
}

func recordedPAB(data map[string]any) *PublicAccessBlock {
	c := rObj(data, "PublicAccessBlockConfiguration")
	return &PublicAccessBlock{BlockPublicAcls: rBool(c, "BlockPublicAcls"), IgnorePublicAcls: rBool(c, "IgnorePublicAcls"),
		BlockPublicPolicy: rBool(c, "BlockPublicPolicy"), RestrictPublicBuckets: rBool(c, "RestrictPublicBuckets")}
}

// seedRecordedDistribution adds one distribution from a recorded
// DistributionConfig and returns its id.
func seedRecordedDistribution(env placeboEnv, id string, cfg map[string]any) (string, error) {
	d := Distribution{ID: orDefault(id, "E1OQK8XICQK4UM"), CallerReference: rStr(cfg, "CallerReference"), Comment: rStr(cfg, "Comment"),
		Origins: []DistributionOrigin{{DomainName: "origin.s3.amazonaws.com"}}}
	if en, ok := cfg["Enabled"].(bool); ok {
		d.Enabled = &en
	}
	if lg := rObj(cfg, "Logging"); rBool(lg, "Enabled") {
		d.Logging = &DistributionLogging{Bucket: rStr(lg, "Bucket"), Prefix: rStr(lg, "Prefix"), IncludeCookies: rBool(lg, "IncludeCookies")}
	}
	return d.ID, env.sim.AddDistributions(testAccount, d)
}

// placeboRESTUnmodelled are recorded fields of these services the sim's
// SDK answer cannot have, with the reason.
var placeboRESTUnmodelled = map[string]string{
	"route53.ListHostedZones MaxItems (type number, want string)":        "botocore models Route 53 MaxItems as a string, aws-sdk-go-v2 as int32; the wire text is the same (\"100\")",
	"route53.ListResourceRecordSets MaxItems (type number, want string)": "botocore models Route 53 MaxItems as a string, aws-sdk-go-v2 as int32; the wire text is the same (\"100\")",
}

// ctRawRecordFields are the CloudTrail record fields Custodian's
// hand-made LookupEvents fixture puts straight into Events[] (the real API
// nests the record as the CloudTrailEvent JSON string, which the sim does).
var ctRawRecordFields = []string{"eventSource", "sourceIPAddress", "userAgent", "responseElements", "recipientAccountId", "eventTime",
	"eventName", "awsRegion", "eventVersion", "requestParameters", "eventID", "userIdentity", "requestID", "eventType"}

func init() {
	for _, f := range ctRawRecordFields {
		placeboUnmodelled["cloudtrail.LookupEvents Events[]."+f] = "the fixture holds a raw CloudTrail record in Events[], not LookupEvents' shape; the sim returns the record as the CloudTrailEvent string, as AWS does"
	}
}

var placeboRESTCalls = map[string]placeboCall{
	"cloudtrail.LookupEvents": func(env placeboEnv, data map[string]any) (any, error) {
		for _, ev := range rList(data, "Events") {
			raw := ev
			if s, ok := ev["CloudTrailEvent"].(string); ok {
				raw = map[string]any{"raw": s}
				if err := env.sim.AddCloudTrailEvents(testAccount, testRegion, CloudTrailEvent{Raw: s}); err != nil {
					return nil, err
				}
				continue
			}
			b, err := json.Marshal(raw)
			if err != nil {
				return nil, err
			}
			if err := env.sim.AddCloudTrailEvents(testAccount, testRegion, CloudTrailEvent{Raw: string(b)}); err != nil {
				return nil, err
			}
		}
		start := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
		return cloudtrail.NewFromConfig(env.cfg).LookupEvents(ctx(nil), &cloudtrail.LookupEventsInput{StartTime: &start})
	},
	"s3-control.GetPublicAccessBlock": func(env placeboEnv, data map[string]any) (any, error) {
		env.sim.SetAccountPublicAccessBlock(testAccount, recordedPAB(data))
		return s3controlFor(env).GetPublicAccessBlock(ctx(nil), &s3control.GetPublicAccessBlockInput{AccountId: aws.String(testAccount)})
	},
	"s3-control.PutPublicAccessBlock": func(env placeboEnv, _ map[string]any) (any, error) {
		return s3controlFor(env).PutPublicAccessBlock(ctx(nil), &s3control.PutPublicAccessBlockInput{AccountId: aws.String(testAccount),
			PublicAccessBlockConfiguration: &s3ctypes.PublicAccessBlockConfiguration{BlockPublicAcls: aws.Bool(true), BlockPublicPolicy: aws.Bool(true)}})
	},
	"cloudfront.ListDistributions": func(env placeboEnv, data map[string]any) (any, error) {
		for _, it := range rList(rObj(data, "DistributionList"), "Items") {
			if _, err := seedRecordedDistribution(env, rStr(it, "Id"), it); err != nil {
				return nil, err
			}
		}
		return cloudfront.NewFromConfig(env.cfg).ListDistributions(ctx(nil), &cloudfront.ListDistributionsInput{})
	},
	"cloudfront.GetDistributionConfig": func(env placeboEnv, data map[string]any) (any, error) {
		id, err := seedRecordedDistribution(env, "", rObj(data, "DistributionConfig"))
		if err != nil {
			return nil, err
		}
		return cloudfront.NewFromConfig(env.cfg).GetDistributionConfig(ctx(nil), &cloudfront.GetDistributionConfigInput{Id: aws.String(id)})
	},
	"cloudfront.UpdateDistribution": func(env placeboEnv, data map[string]any) (any, error) {
		d := rObj(data, "Distribution")
		cfg := rObj(d, "DistributionConfig")
		id, err := seedRecordedDistribution(env, rStr(d, "Id"), map[string]any{"CallerReference": rStr(cfg, "CallerReference"), "Enabled": true})
		if err != nil {
			return nil, err
		}
		c := cloudfront.NewFromConfig(env.cfg)
		got, err := c.GetDistributionConfig(ctx(nil), &cloudfront.GetDistributionConfigInput{Id: aws.String(id)})
		if err != nil {
			return nil, err
		}
		lg := rObj(cfg, "Logging")
		got.DistributionConfig.Logging = &cftypes.LoggingConfig{Enabled: aws.Bool(rBool(lg, "Enabled")), Bucket: aws.String(rStr(lg, "Bucket")),
			Prefix: aws.String(rStr(lg, "Prefix")), IncludeCookies: aws.Bool(rBool(lg, "IncludeCookies"))}
		return c.UpdateDistribution(ctx(nil), &cloudfront.UpdateDistributionInput{Id: aws.String(id), IfMatch: got.ETag, DistributionConfig: got.DistributionConfig})
	},
	"route53.ListHostedZones": func(env placeboEnv, data map[string]any) (any, error) {
		for _, z := range rList(data, "HostedZones") {
			hz := HostedZone{ID: strings.TrimPrefix(rStr(z, "Id"), "/hostedzone/"), Name: rStr(z, "Name"), CallerReference: rStr(z, "CallerReference"),
				Comment: rStr(rObj(z, "Config"), "Comment"), Private: rBool(rObj(z, "Config"), "PrivateZone")}
			if err := env.sim.AddHostedZones(testAccount, hz); err != nil {
				return nil, err
			}
		}
		return route53.NewFromConfig(env.cfg).ListHostedZones(ctx(nil), &route53.ListHostedZonesInput{})
	},
	"route53.ListResourceRecordSets": func(env placeboEnv, data map[string]any) (any, error) {
		hz := HostedZone{ID: "ZPLACEBO", Name: "example.com"}
		for _, rr := range rList(data, "ResourceRecordSets") {
			rec := RecordSet{Name: rStr(rr, "Name"), Type: rStr(rr, "Type"), TTL: int64(rInt(rr, "TTL")), SetIdentifier: rStr(rr, "SetIdentifier")}
			for _, v := range rList(rr, "ResourceRecords") {
				rec.Values = append(rec.Values, rStr(v, "Value"))
			}
			if a := rObj(rr, "AliasTarget"); a != nil {
				rec.Alias = &AliasTarget{HostedZoneID: rStr(a, "HostedZoneId"), DNSName: rStr(a, "DNSName"), EvaluateTargetHealth: rBool(a, "EvaluateTargetHealth")}
			}
			if rec.Type == "SOA" {
				hz.Name = rec.Name
			}
			hz.Records = append(hz.Records, rec)
		}
		if err := env.sim.AddHostedZones(testAccount, hz); err != nil {
			return nil, err
		}
		return route53.NewFromConfig(env.cfg).ListResourceRecordSets(ctx(nil), &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String("ZPLACEBO")})
	},
	"route53.ChangeResourceRecordSets": func(env placeboEnv, _ map[string]any) (any, error) {
		rec := RecordSet{Name: "mail.example.com.", Type: "CNAME", TTL: 300, Values: []string{"mx.example.com."}}
		if err := env.sim.AddHostedZones(testAccount, HostedZone{ID: "ZPLACEBO", Name: "example.com", Records: []RecordSet{rec}}); err != nil {
			return nil, err
		}
		return route53.NewFromConfig(env.cfg).ChangeResourceRecordSets(ctx(nil), &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String("ZPLACEBO"),
			ChangeBatch: &r53types.ChangeBatch{Changes: []r53types.Change{{Action: r53types.ChangeActionDelete, ResourceRecordSet: &r53types.ResourceRecordSet{
				Name: aws.String(rec.Name), Type: r53types.RRTypeCname, TTL: aws.Int64(rec.TTL), ResourceRecords: []r53types.ResourceRecord{{Value: aws.String(rec.Values[0])}}}}}}})
	},
	"tagging.GetResources": func(env placeboEnv, data map[string]any) (any, error) {
		for i, m := range rList(data, "ResourceTagMappingList") {
			arn := rStr(m, "ResourceARN")
			tags := rTags(m, "Tags")
			parts := strings.SplitN(arn, ":", 6)
			if len(parts) != 6 {
				return nil, fmt.Errorf("recorded ARN %q", arn)
			}
			switch {
			case parts[2] == "elasticloadbalancing" && strings.HasPrefix(parts[5], "loadbalancer/"):
				name := parts[5][strings.LastIndex(parts[5], "/")+1:]
				if err := env.sim.AddResources(testAccount, testRegion, Resources{LoadBalancers: []LoadBalancer{{Name: name, Tags: tags}}}); err != nil {
					return nil, err
				}
			case parts[2] == "iam" && strings.HasPrefix(parts[5], "policy/"):
				name := parts[5][strings.LastIndex(parts[5], "/")+1:]
				if err := env.sim.AddIAM(testAccount, Resources{Policies: []Policy{{Name: name, Tags: tags}}}); err != nil {
					return nil, err
				}
			default:
				return nil, fmt.Errorf("recorded resource %d: no seeding for %s", i, arn)
			}
		}
		return tagging.NewFromConfig(env.cfg).GetResources(ctx(nil), &tagging.GetResourcesInput{})
	},
}
