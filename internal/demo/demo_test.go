package demo

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/stewardhq/steward/internal/cloud"
)

func TestScenarioLoads(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	org, err := Start(func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	defer org.Close()
	if got := org.Classes(); strings.Join(got, ",") != "development,production,sandbox" {
		t.Fatalf("classes %v", got)
	}
	// Through an SDK client with the demo's key, as steward will call it.
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(org.URL),
		Credentials: credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, "")}
	out, err := ec2.NewFromConfig(cfg).DescribeVolumes(context.Background(), &ec2.DescribeVolumesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Volumes) != 0 {
		t.Fatalf("the security account should hold no volumes, got %d", len(out.Volumes))
	}
	inv, err := cloud.ParseInventory(strings.NewReader(string(org.Inventory())))
	if err != nil {
		t.Fatalf("inventory: %v\n%s", err, org.Inventory())
	}
	if len(inv.Accounts) != 3 {
		t.Fatalf("inventory accounts %d, want 3", len(inv.Accounts))
	}
	// Assume the remediator role in a member account and see its volumes.
	c, err := cloud.New(context.Background(), cloud.Config{Inventory: inv.Inventory(), Endpoint: org.URL,
		Credentials: credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	cl, err := cloud.ClientFor[*ec2.Client](context.Background(), c, "ec2", "111111111111", "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	vols, err := cl.DescribeVolumes(context.Background(), &ec2.DescribeVolumesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(vols.Volumes) != 3 {
		t.Fatalf("production us-east-1 volumes %d, want 3", len(vols.Volumes))
	}
	for _, v := range vols.Volumes {
		if aws.ToString(v.VolumeId) != "vol-0a1100000000old1" {
			continue
		}
		for _, tg := range v.Tags {
			if aws.ToString(tg.Key) == "steward:last-seen" && aws.ToString(tg.Value) != now.AddDate(0, 0, -60).Format(time.RFC3339) {
				t.Fatalf("last-seen %s", aws.ToString(tg.Value))
			}
		}
	}
}

func TestEvents(t *testing.T) {
	evs, err := Events(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) < 4 {
		t.Fatalf("%d events", len(evs))
	}
	for _, e := range evs {
		var m map[string]any
		if err := json.Unmarshal(e.Body, &m); err != nil {
			t.Fatalf("%s: %v", e.Name, err)
		}
		for _, k := range []string{"source", "detail-type", "account", "region", "detail", "time"} {
			if m[k] == nil {
				t.Fatalf("%s lacks %s", e.Name, k)
			}
		}
	}
}
