package awssim

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	tagging "github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi"
	tagtypes "github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// BenchmarkTaggingGetResources pages GetResources (100 per page, tag
// filter env=prod) over 5,000 tagged volumes and 500 buckets.
func BenchmarkTaggingGetResources(b *testing.B) {
	s, url := newTestSim(b, Options{})
	vols := make([]Volume, 5000)
	for i := range vols {
		vols[i] = Volume{ID: fmt.Sprintf("vol-%017d", i), Tags: Tags{{Key: "env", Value: []string{"prod", "dev"}[i%2]}}}
	}
	if err := s.AddResources(testAccount, testRegion, Resources{Volumes: vols}); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 500; i++ {
		if err := s.AddBuckets(testAccount, Bucket{Name: fmt.Sprintf("bucket-%04d", i), Tags: Tags{{Key: "env", Value: "prod"}}}); err != nil {
			b.Fatal(err)
		}
	}
	c := tagging.NewFromConfig(sdkConfig(url, testRegion, testKey, "secret", ""))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n := 0
		p := tagging.NewGetResourcesPaginator(c, &tagging.GetResourcesInput{ResourcesPerPage: aws.Int32(100),
			TagFilters: []tagtypes.TagFilter{{Key: aws.String("env"), Values: []string{"prod"}}}})
		for p.HasMorePages() {
			pg, err := p.NextPage(ctx(b))
			if err != nil {
				b.Fatal(err)
			}
			n += len(pg.ResourceTagMappingList)
		}
		if n != 3000 {
			b.Fatalf("saw %d resources", n)
		}
	}
}

// BenchmarkRoute53ListRecordSets pages 3,000 records (300 per page).
func BenchmarkRoute53ListRecordSets(b *testing.B) {
	s, url := newTestSim(b, Options{})
	z := HostedZone{ID: "ZBENCH", Name: "example.com"}
	for i := 0; i < 3000; i++ {
		z.Records = append(z.Records, RecordSet{Name: fmt.Sprintf("h%04d.example.com", i), Type: "A", TTL: 60, Values: []string{"10.0.0.1"}})
	}
	if err := s.AddHostedZones(testAccount, z); err != nil {
		b.Fatal(err)
	}
	c := route53.NewFromConfig(sdkConfig(url, testRegion, testKey, "secret", ""))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n := 0
		p := route53.NewListResourceRecordSetsPaginator(c, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String("ZBENCH"), MaxItems: aws.Int32(300)})
		for p.HasMorePages() {
			pg, err := p.NextPage(ctx(b))
			if err != nil {
				b.Fatal(err)
			}
			n += len(pg.ResourceRecordSets)
		}
		if n != 3002 {
			b.Fatalf("saw %d records", n)
		}
	}
}

// BenchmarkCloudTrailLookupEvents looks up one event name (1/10 of 10,000
// events) in pages of 50.
func BenchmarkCloudTrailLookupEvents(b *testing.B) {
	clock := newFakeClock()
	s, url := newTestSim(b, Options{Now: clock.Now})
	evs := make([]CloudTrailEvent, 10000)
	for i := range evs {
		evs[i] = CloudTrailEvent{EventName: fmt.Sprint("Op", i%10), EventTime: clock.Now().Add(-time.Duration(i) * time.Second)}
	}
	if err := s.AddCloudTrailEvents(testAccount, testRegion, evs...); err != nil {
		b.Fatal(err)
	}
	c := cloudtrail.NewFromConfig(sdkConfig(url, testRegion, testKey, "secret", ""))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		got := 0
		p := cloudtrail.NewLookupEventsPaginator(c, &cloudtrail.LookupEventsInput{MaxResults: aws.Int32(50),
			LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String("Op3")}}})
		for p.HasMorePages() {
			pg, err := p.NextPage(ctx(b))
			if err != nil {
				b.Fatal(err)
			}
			got += len(pg.Events)
		}
		if got != 1000 {
			b.Fatalf("saw %d events", got)
		}
	}
}

// BenchmarkS3PutListObjects puts 100 objects and lists them (ListObjectsV2).
func BenchmarkS3PutListObjects(b *testing.B) {
	s, url := newTestSim(b, Options{})
	c := s3.NewFromConfig(sdkConfig(url, testRegion, testKey, "secret", ""), func(o *s3.Options) { o.UsePathStyle = true })
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		name := fmt.Sprintf("bench-%08d", i)
		if err := s.AddBuckets(testAccount, Bucket{Name: name}); err != nil {
			b.Fatal(err)
		}
		for k := 0; k < 100; k++ {
			if _, err := c.PutObject(ctx(b), &s3.PutObjectInput{Bucket: aws.String(name), Key: aws.String(fmt.Sprint("k", k)), Body: strings.NewReader("x")}); err != nil {
				b.Fatal(err)
			}
		}
		out, err := c.ListObjectsV2(ctx(b), &s3.ListObjectsV2Input{Bucket: aws.String(name)})
		if err != nil || len(out.Contents) != 100 {
			b.Fatalf("listed %v, %v", out, err)
		}
	}
}
