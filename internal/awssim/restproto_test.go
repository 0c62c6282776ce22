package awssim

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	tagging "github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
)

// TestRESTAndJSONThrottling checks each new service's throttling error
// (code and status, as the services' Smithy models give them), that the SDK classifies it as retryable, and that
// paging through 30% throttling sees every item once.
func TestRESTAndJSONThrottling(t *testing.T) {
	s, u := newTestSim(t, Options{})
	_ = s.AddAccount(AccountInfo{ID: testAccount, Name: "mgmt", Class: "management"})
	s.SetFaults(Faults{ThrottleRate: 1})
	cfg := sdkConfig(u, testRegion, testKey, "secret", "")
	cases := []struct {
		service, op, code string
		status            int
		call              func() error
	}{
		{"s3", "ListBuckets", "SlowDown", 503, func() error {
			_, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).ListBuckets(ctx(t), &s3.ListBucketsInput{})
			return err
		}},
		{"route53", "ListHostedZones", "Throttling", 400, func() error {
			_, err := route53.NewFromConfig(cfg).ListHostedZones(ctx(t), &route53.ListHostedZonesInput{})
			return err
		}},
		{"cloudfront", "ListDistributions", "Throttling", 400, func() error {
			_, err := cloudfront.NewFromConfig(cfg).ListDistributions(ctx(t), &cloudfront.ListDistributionsInput{})
			return err
		}},
		{"cloudtrail", "LookupEvents", "ThrottlingException", 400, func() error {
			_, err := cloudtrail.NewFromConfig(cfg).LookupEvents(ctx(t), &cloudtrail.LookupEventsInput{})
			return err
		}},
		{"organizations", "ListAccounts", "TooManyRequestsException", 429, func() error {
			_, err := organizations.NewFromConfig(cfg).ListAccounts(ctx(t), &organizations.ListAccountsInput{})
			return err
		}},
		{"tagging", "GetResources", "ThrottledException", 400, func() error {
			_, err := tagging.NewFromConfig(cfg).GetResources(ctx(t), &tagging.GetResourcesInput{})
			return err
		}},
		{"securityhub", "GetFindings", "LimitExceededException", 429, func() error {
			_, err := securityhub.NewFromConfig(cfg).GetFindings(ctx(t), &securityhub.GetFindingsInput{})
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.service, func(t *testing.T) {
			wantAPIError(t, tc.call(), tc.code, tc.status)
			// sdkConfig allows 5 attempts: the SDK retried the error as a
			// throttle. (An attempt lost with a dropped keep-alive
			// connection, aws-sdk-go-v2#2737, never reaches the sim.)
			if n := s.Calls()[tc.service+":"+tc.op]; n < 2 || n > 5 {
				t.Fatalf("%s:%s called %d times, want 2..5 (retried)", tc.service, tc.op, n)
			}
		})
	}
	s.SetFaults(Faults{ErrorRate: 1})
	_, err := route53.NewFromConfig(cfg).ListHostedZones(ctx(t), &route53.ListHostedZonesInput{})
	wantAPIError(t, err, "InternalError", 500)
	s.SetFaults(Faults{})

	// Paging under 30% throttling.
	var zones []HostedZone
	for i := 0; i < 40; i++ {
		zones = append(zones, HostedZone{Name: strings.Repeat("a", i+1) + ".example.com"})
	}
	if err := s.AddHostedZones(testAccount, zones...); err != nil {
		t.Fatal(err)
	}
	s.SetFaults(Faults{ThrottleRate: 0.3, Seed: 7})
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 30
			o.RateLimiter = noRateLimit{}
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		})
	}
	p := route53.NewListHostedZonesPaginator(route53.NewFromConfig(cfg), &route53.ListHostedZonesInput{MaxItems: aws.Int32(3)})
	seen := map[string]int{}
	for p.HasMorePages() {
		pg, err := p.NextPage(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		for _, z := range pg.HostedZones {
			seen[*z.Id]++
		}
	}
	if len(seen) != 40 {
		t.Fatalf("saw %d zones through throttling, want 40", len(seen))
	}
	t.Logf("40 hosted zones paged through 30%% throttling with %d ListHostedZones calls", s.Calls()["route53:ListHostedZones"])
}

// FuzzRESTRoute feeds arbitrary methods, hosts, paths, queries and bodies
// to the routers of the REST and JSON services and through the HTTP
// handler to every new service: nothing may panic, and every answer is a
// well-formed HTTP status.
func FuzzRESTRoute(f *testing.F) {
	seeds := []struct {
		svc, method, host, target, path, body string
	}{
		{"s3", "GET", "127.0.0.1:1", "", "/", ""},
		{"s3", "PUT", "127.0.0.1:1", "", "/bucket-a", "<CreateBucketConfiguration><LocationConstraint>us-east-1</LocationConstraint></CreateBucketConfiguration>"},
		{"s3", "PUT", "bucket-a.localhost:1", "", "/key/with%2Fslash?x-id=PutObject", "data"},
		{"s3", "PUT", "127.0.0.1:1", "", "/bucket-a?tagging", "<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>"},
		{"s3", "PUT", "127.0.0.1:1", "", "/bucket-a?policy", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":["*"]}}]}`},
		{"s3", "GET", "127.0.0.1:1", "", "/bucket-a?list-type=2&max-keys=1&continuation-token=%%", ""},
		{"s3", "PUT", "111111111111.localhost:1", "", "/v20180820/configuration/publicAccessBlock", "<PublicAccessBlockConfiguration><BlockPublicAcls>true</BlockPublicAcls></PublicAccessBlockConfiguration>"},
		{"route53", "POST", "h", "", "/2013-04-01/hostedzone", "<CreateHostedZoneRequest><Name>x.com</Name><CallerReference>r</CallerReference></CreateHostedZoneRequest>"},
		{"route53", "POST", "h", "", "/2013-04-01/hostedzone/Z1/rrset/", "<ChangeResourceRecordSetsRequest><ChangeBatch><Changes><Change><Action>DELETE</Action><ResourceRecordSet><Name>a.x.com</Name><Type>A</Type></ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>"},
		{"route53", "GET", "h", "", "/2013-04-01/hostedzone/Z1/rrset?name=a.&type=A&maxitems=0", ""},
		{"cloudfront", "PUT", "h", "", "/2020-05-31/distribution/E1/config", "<DistributionConfig><CallerReference>x</CallerReference></DistributionConfig>"},
		{"cloudfront", "POST", "h", "", "/2020-05-31/distribution", "<DistributionConfig><CallerReference>x</CallerReference><Origins><Items><Origin><Id>o</Id><DomainName>d</DomainName></Origin></Items></Origins><DefaultCacheBehavior><TargetOriginId>o</TargetOriginId></DefaultCacheBehavior><Comment/><Enabled>true</Enabled></DistributionConfig>"},
		{"cloudtrail", "POST", "h", "CloudTrail_20131101.LookupEvents", "/", `{"LookupAttributes":[{"AttributeKey":"EventName","AttributeValue":"x"}],"StartTime":1.5,"MaxResults":3,"NextToken":"ctnt00000003"}`},
		{"organizations", "POST", "h", "AWSOrganizationsV20161128.ListAccounts", "/", `{"MaxResults":1,"NextToken":"orgt00000001"}`},
		{"tagging", "POST", "h", "ResourceGroupsTaggingAPI_20170126.GetResources", "/", `{"TagFilters":[{"Key":"a","Values":["b"]}],"ResourceTypeFilters":["ec2:volume"]}`},
		{"tagging", "POST", "h", "ResourceGroupsTaggingAPI_20170126.TagResources", "/", `{"ResourceARNList":["arn:aws:s3:::bucket-a"],"Tags":{"k":"v"}}`},
		{"securityhub", "POST", "h", "", "/findings", `{"Filters":{"Id":[{"Value":"x","Comparison":"PREFIX"}]},"MaxResults":1}`},
		{"securityhub", "POST", "h", "", "/findings", `{"Filters":{"UpdatedAt":[{"DateRange":{"Value":7,"Unit":"DAYS"}}],"SeverityNormalized":[{"Gte":40}],"ResourceTags":[{"Key":"a","Value":"b","Comparison":"EQUALS"}]}}`},
		{"securityhub", "PATCH", "h", "", "/findings/batchupdate", `{"FindingIdentifiers":[{"Id":"x","ProductArn":"p"}],"Workflow":{"Status":"RESOLVED"},"Note":{"Text":"t","UpdatedBy":"u"}}`},
		{"securityhub", "POST", "h", "", "/findings/import", `{"Findings":[{"Id":1}]}`},
	}
	for _, s := range seeds {
		f.Add(s.svc, s.method, s.host, s.target, s.path, []byte(s.body))
	}
	sim := fuzzSim(f)
	_ = sim.AddBuckets(testAccount, Bucket{Name: "bucket-a", Objects: map[string]int64{"k": 1}})
	_ = sim.AddHostedZones(testAccount, HostedZone{ID: "Z1", Name: "x.com", Records: []RecordSet{{Name: "a.x.com", Type: "A", TTL: 60, Values: []string{"1.2.3.4"}}}})
	_ = sim.AddDistributions(testAccount, Distribution{ID: "E1", Origins: []DistributionOrigin{{DomainName: "bucket-a.s3.amazonaws.com"}}})
	h := sim.Handler()
	f.Fuzz(func(t *testing.T, svc, method, host, target, path string, body []byte) {
		// The routers alone, on raw input.
		q, _ := url.ParseQuery(path)
		_, _ = routeS3(method, host, path, q)
		_, _, _ = route53Route(method, path)
		_, _, _ = cloudfrontRoute(method, path)
		_, _ = securityhubRoute(method, path)
		_ = virtualHostBucket(host)

		if strings.ContainsAny(method, " \t\r\n()<>@,;:\\\"/[]?={}") || method == "" {
			method = "GET"
		}
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		u, err := url.ParseRequestURI(path)
		if err != nil {
			return
		}
		req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1/", bytes.NewReader(body))
		req.Method = method
		req.URL = u
		req.RequestURI = path
		req.Host = host
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+testKey+"/20260101/us-east-1/"+svc+"/aws4_request, SignedHeaders=host, Signature=00")
		if target != "" {
			req.Header.Set("X-Amz-Target", target)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code < 200 || rec.Code > 599 {
			t.Fatalf("status %d", rec.Code)
		}
	})
}

// noRateLimit turns off the SDK's client-side retry quota, so a test can
// retry through heavy injected throttling.
type noRateLimit struct{}

func (noRateLimit) GetToken(context.Context, uint) (func() error, error) {
	return func() error { return nil }, nil
}
func (noRateLimit) AddTokens(uint) error { return nil }
