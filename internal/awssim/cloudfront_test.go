package awssim

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
)

func TestCloudFront(t *testing.T) {
	clock := newFakeClock()
	sim, url := newTestSim(t, Options{Now: clock.Now})
	c := cloudfront.NewFromConfig(sdkConfig(url, testRegion, testKey, "secret", ""))
	for i := 0; i < 3; i++ {
		err := sim.AddDistributions(testAccount, Distribution{Comment: fmt.Sprint("d", i),
			Origins: []DistributionOrigin{{DomainName: "site.s3.amazonaws.com"}, {ID: "elb", DomainName: "web-1.us-east-1.elb.amazonaws.com"}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	p := cloudfront.NewListDistributionsPaginator(c, &cloudfront.ListDistributionsInput{MaxItems: aws.Int32(2)})
	var ids []string
	for p.HasMorePages() {
		pg, err := p.NextPage(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range pg.DistributionList.Items {
			ids = append(ids, *d.Id)
			if !strings.HasSuffix(*d.DomainName, ".cloudfront.net") || len(*d.DomainName) != len("d111111abcdef8.cloudfront.net") || *d.Status != "Deployed" || aws.ToInt32(d.Origins.Quantity) != 2 || *d.Origins.Items[0].DomainName != "site.s3.amazonaws.com" || d.Origins.Items[0].S3OriginConfig == nil {
				t.Fatalf("summary = %+v", d)
			}
		}
	}
	if len(ids) != 3 {
		t.Fatalf("listed %d distributions", len(ids))
	}
	id := ids[0]
	gc, err := c.GetDistributionConfig(ctx(t), &cloudfront.GetDistributionConfigInput{Id: aws.String(id)})
	if err != nil || gc.ETag == nil || *gc.DistributionConfig.Origins.Items[1].DomainName != "web-1.us-east-1.elb.amazonaws.com" {
		t.Fatalf("GetDistributionConfig = %+v, %v", gc, err)
	}
	cfg := gc.DistributionConfig
	cfg.Logging = &cftypes.LoggingConfig{Enabled: aws.Bool(true), Bucket: aws.String("logs.s3.amazonaws.com"), Prefix: aws.String("cf/"), IncludeCookies: aws.Bool(false)}
	_, err = c.UpdateDistribution(ctx(t), &cloudfront.UpdateDistributionInput{Id: aws.String(id), DistributionConfig: cfg})
	wantAPIError(t, err, "InvalidIfMatchVersion", 400)
	_, err = c.UpdateDistribution(ctx(t), &cloudfront.UpdateDistributionInput{Id: aws.String(id), DistributionConfig: cfg, IfMatch: aws.String("EWRONG")})
	wantAPIError(t, err, "PreconditionFailed", 412)
	up, err := c.UpdateDistribution(ctx(t), &cloudfront.UpdateDistributionInput{Id: aws.String(id), DistributionConfig: cfg, IfMatch: gc.ETag})
	if err != nil {
		t.Fatal(err)
	}
	if *up.ETag == *gc.ETag || *up.Distribution.Status != "InProgress" || !*up.Distribution.DistributionConfig.Logging.Enabled {
		t.Fatalf("UpdateDistribution = %+v", up.Distribution)
	}
	// The old ETag is stale now.
	_, err = c.UpdateDistribution(ctx(t), &cloudfront.UpdateDistributionInput{Id: aws.String(id), DistributionConfig: cfg, IfMatch: gc.ETag})
	wantAPIError(t, err, "PreconditionFailed", 412)
	gd, err := c.GetDistribution(ctx(t), &cloudfront.GetDistributionInput{Id: aws.String(id)})
	if err != nil || *gd.ETag != *up.ETag || *gd.Distribution.DistributionConfig.Logging.Bucket != "logs.s3.amazonaws.com" {
		t.Fatalf("GetDistribution = %+v, %v", gd, err)
	}
	_, err = c.GetDistribution(ctx(t), &cloudfront.GetDistributionInput{Id: aws.String("ENOPE")})
	wantAPIError(t, err, "NoSuchDistribution", 404)

	// CreateDistribution from a config, minimal.
	newCfg := *cfg
	newCfg.CallerReference = aws.String("new-one")
	cr, err := c.CreateDistribution(ctx(t), &cloudfront.CreateDistributionInput{DistributionConfig: &newCfg})
	if err != nil || cr.ETag == nil || *cr.Distribution.Status != "InProgress" || cr.Location == nil {
		t.Fatalf("CreateDistribution = %+v, %v", cr, err)
	}
	_, err = c.CreateDistribution(ctx(t), &cloudfront.CreateDistributionInput{DistributionConfig: &newCfg})
	wantAPIError(t, err, "DistributionAlreadyExists", 409)
	clock.Advance(1)
	gd, err = c.GetDistribution(ctx(t), &cloudfront.GetDistributionInput{Id: cr.Distribution.Id})
	if err != nil || *gd.Distribution.Status != "Deployed" {
		t.Fatalf("after settle = %+v, %v", gd, err)
	}
}
