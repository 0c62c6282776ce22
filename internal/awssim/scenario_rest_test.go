package awssim

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	tagging "github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
)

const restScenario = `
regions: [us-east-1, eu-west-1]
credentials:
  - {access_key_id: AKIDHOME, secret_access_key: secret, account: "111111111111"}
accounts:
  - id: "111111111111"
    name: security
    class: management
    s3_public_access_block: {block_public_acls: true, block_public_policy: true}
    buckets:
      - name: public-site
        policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::public-site/*"}]}'
        website: {index_document: index.html, error_document: error.html}
        tags: {owner: web}
        objects: {index.html: 120}
      - {name: eu-logs, region: eu-west-1, public_access_block: {block_public_acls: true, ignore_public_acls: true, block_public_policy: true, restrict_public_buckets: true}}
    hosted_zones:
      - name: example.com
        tags: {env: prod}
        records:
          - {name: www.example.com, type: A, alias: {hosted_zone_id: Z2FDTNDATAQYW2, dns_name: d111111abcdef8.cloudfront.net}}
          - {name: mail.example.com, type: MX, ttl: 300, values: ["10 mx.example.com."]}
    distributions:
      - id: E1OQK8XICQK4UM
        comment: site
        aliases: [www.example.com]
        origins: [{domain_name: public-site.s3.amazonaws.com}, {id: api, domain_name: api-123.us-east-1.elb.amazonaws.com}]
        tags: {env: prod}
    cloudtrail_events:
      - {event_name: PutBucketPolicy, event_source: s3.amazonaws.com, username: alice, event_time: 2026-01-01T10:00:00Z, resources: [{type: "AWS::S3::Bucket", name: public-site}]}
      - {region: eu-west-1, raw: '{"eventID":"e-1","eventName":"CreateBucket","eventSource":"s3.amazonaws.com","eventTime":"2026-01-01T11:00:00Z","awsRegion":"eu-west-1","userIdentity":{"type":"Root","arn":"arn:aws:iam::111111111111:root"}}'}
    findings:
      - json: '{"SchemaVersion":"2018-10-08","Id":"f-1","ProductArn":"arn:aws:securityhub:us-east-1::product/aws/securityhub","GeneratorId":"S3.2","AwsAccountId":"111111111111","Types":["Software and Configuration Checks"],"CreatedAt":"2026-01-01T00:00:00Z","UpdatedAt":"2026-01-01T00:00:00Z","Severity":{"Label":"CRITICAL"},"Title":"S3 public read","Description":"d","Compliance":{"Status":"FAILED"},"Resources":[{"Type":"AwsS3Bucket","Id":"arn:aws:s3:::public-site"}]}'
      - region: eu-west-1
        asff:
          SchemaVersion: "2018-10-08"
          Id: f-2
          ProductArn: arn:aws:securityhub:eu-west-1::product/aws/securityhub
          GeneratorId: S3.8
          AwsAccountId: "111111111111"
          Types: [Software and Configuration Checks]
          CreatedAt: "2026-01-01T00:00:00Z"
          UpdatedAt: "2026-01-01T00:00:00Z"
          Severity: {Label: LOW, Normalized: 1}
          Title: t
          Description: d
          Resources: [{Type: AwsS3Bucket, Id: "arn:aws:s3:::eu-logs"}]
`

func TestScenarioRESTServices(t *testing.T) {
	sc, err := LoadScenario(strings.NewReader(restScenario))
	if err != nil {
		t.Fatal(err)
	}
	clock := newFakeClock()
	sim := New(Options{Now: clock.Now})
	if err := sim.Apply(sc); err != nil {
		t.Fatal(err)
	}
	url, stop := sim.Start()
	defer stop()
	cfg := sdkConfig(url, testRegion, "AKIDHOME", "secret", "")
	eu := sdkConfig(url, "eu-west-1", "AKIDHOME", "secret", "")

	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	ps, err := s3c.GetBucketPolicyStatus(ctx(t), &s3.GetBucketPolicyStatusInput{Bucket: aws.String("public-site")})
	if err != nil || !aws.ToBool(ps.PolicyStatus.IsPublic) {
		t.Fatalf("policy status = %+v, %v", ps, err)
	}
	ws, err := s3c.GetBucketWebsite(ctx(t), &s3.GetBucketWebsiteInput{Bucket: aws.String("public-site")})
	if err != nil || *ws.IndexDocument.Suffix != "index.html" || *ws.ErrorDocument.Key != "error.html" {
		t.Fatalf("website = %+v, %v", ws, err)
	}
	_, err = s3c.GetPublicAccessBlock(ctx(t), &s3.GetPublicAccessBlockInput{Bucket: aws.String("public-site")})
	wantAPIError(t, err, "NoSuchPublicAccessBlockConfiguration", 404)
	_, err = s3c.DeleteBucket(ctx(t), &s3.DeleteBucketInput{Bucket: aws.String("public-site")})
	wantAPIError(t, err, "BucketNotEmpty", 409)
	loc, err := s3c.GetBucketLocation(ctx(t), &s3.GetBucketLocationInput{Bucket: aws.String("eu-logs")})
	if err != nil || loc.LocationConstraint != "eu-west-1" {
		t.Fatalf("eu-logs location = %+v, %v", loc, err)
	}

	r53 := route53.NewFromConfig(cfg)
	zones, err := r53.ListHostedZones(ctx(t), &route53.ListHostedZonesInput{})
	if err != nil || len(zones.HostedZones) != 1 || aws.ToInt64(zones.HostedZones[0].ResourceRecordSetCount) != 4 {
		t.Fatalf("zones = %+v, %v", zones, err)
	}

	cf := cloudfront.NewFromConfig(cfg)
	d, err := cf.GetDistribution(ctx(t), &cloudfront.GetDistributionInput{Id: aws.String("E1OQK8XICQK4UM")})
	if err != nil || *d.Distribution.DistributionConfig.Origins.Items[1].DomainName != "api-123.us-east-1.elb.amazonaws.com" ||
		d.Distribution.DistributionConfig.Origins.Items[1].CustomOriginConfig == nil || d.Distribution.DistributionConfig.Aliases.Items[0] != "www.example.com" {
		t.Fatalf("distribution = %+v, %v", d, err)
	}

	ct := cloudtrail.NewFromConfig(cfg)
	evs, err := ct.LookupEvents(ctx(t), &cloudtrail.LookupEventsInput{})
	if err != nil || len(evs.Events) != 1 || *evs.Events[0].Username != "alice" || *evs.Events[0].Resources[0].ResourceName != "public-site" {
		t.Fatalf("us-east-1 events = %+v, %v", evs, err)
	}
	evs, err = cloudtrail.NewFromConfig(eu).LookupEvents(ctx(t), &cloudtrail.LookupEventsInput{})
	if err != nil || len(evs.Events) != 1 || *evs.Events[0].EventId != "e-1" || *evs.Events[0].Username != "root" {
		t.Fatalf("eu-west-1 events = %+v, %v", evs, err)
	}

	sh, err := securityhub.NewFromConfig(cfg).GetFindings(ctx(t), &securityhub.GetFindingsInput{})
	if err != nil || len(sh.Findings) != 1 || *sh.Findings[0].Id != "f-1" {
		t.Fatalf("us-east-1 findings = %+v, %v", sh, err)
	}
	sh, err = securityhub.NewFromConfig(eu).GetFindings(ctx(t), &securityhub.GetFindingsInput{})
	if err != nil || len(sh.Findings) != 1 || *sh.Findings[0].Id != "f-2" || aws.ToInt32(sh.Findings[0].Severity.Normalized) != 1 {
		t.Fatalf("eu-west-1 findings = %+v, %v", sh, err)
	}

	// The tagging API sees the bucket, the zone and the distribution.
	res, err := tagging.NewFromConfig(cfg).GetResources(ctx(t), &tagging.GetResourcesInput{})
	if err != nil || len(res.ResourceTagMappingList) != 3 {
		t.Fatalf("GetResources = %+v, %v", res, err)
	}
}
