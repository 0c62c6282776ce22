package awssim

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func seedVolumes(t testing.TB, s *Sim, account, region string, n int) {
	t.Helper()
	vols := make([]Volume, n)
	for i := range vols {
		vols[i] = Volume{ID: fmt.Sprintf("vol-%017x", i+1)}
		if i%2 == 1 {
			vols[i].State = "in-use"
			vols[i].Attachments = []VolumeAttachment{{InstanceID: "i-00000000000000001", Device: "/dev/sdf"}}
		}
	}
	if err := s.AddResources(account, region, Resources{Volumes: vols}); err != nil {
		t.Fatal(err)
	}
}

// listAll pages DescribeVolumes and counts how often each id is seen.
func listAll(t testing.TB, c *ec2.Client, filters []ec2types.Filter) (map[string]int, int) {
	t.Helper()
	seen := map[string]int{}
	pages := 0
	p := ec2.NewDescribeVolumesPaginator(c, &ec2.DescribeVolumesInput{MaxResults: aws.Int32(1000), Filters: filters})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx(t))
		if err != nil {
			t.Fatalf("page %d: %v", pages, err)
		}
		pages++
		for _, v := range out.Volumes {
			seen[aws.ToString(v.VolumeId)]++
		}
	}
	return seen, pages
}

func TestDescribeVolumesPagination(t *testing.T) {
	s, url := newTestSim(t, Options{})
	seedVolumes(t, s, testAccount, testRegion, 2500)
	c := ec2.NewFromConfig(sdkConfig(url, testRegion, testKey, "secret", ""))
	seen, pages := listAll(t, c, nil)
	if len(seen) != 2500 || pages != 3 {
		t.Fatalf("saw %d volumes in %d pages, want 2500 in 3", len(seen), pages)
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("%s seen %d times", id, n)
		}
	}
	avail, _ := listAll(t, c, []ec2types.Filter{{Name: aws.String("status"), Values: []string{"available"}}})
	if len(avail) != 1250 {
		t.Fatalf("available = %d, want 1250", len(avail))
	}
	for _, bad := range []int32{4, 1001} {
		_, err := c.DescribeVolumes(ctx(t), &ec2.DescribeVolumesInput{MaxResults: aws.Int32(bad)})
		if errorCode(err) != "InvalidParameterValue" {
			t.Fatalf("MaxResults %d: %v", bad, err)
		}
	}
	_, err := c.DescribeVolumes(ctx(t), &ec2.DescribeVolumesInput{MaxResults: aws.Int32(5), VolumeIds: []string{"vol-00000000000000001"}})
	if errorCode(err) != "InvalidParameterCombination" {
		t.Fatalf("ids with MaxResults: %v", err)
	}
	_, err = c.DescribeVolumes(ctx(t), &ec2.DescribeVolumesInput{NextToken: aws.String("garbage!")})
	if errorCode(err) != "InvalidParameterValue" {
		t.Fatalf("bad token: %v", err)
	}
}

func TestThrottledListingWithStandardRetries(t *testing.T) {
	s, url := newTestSim(t, Options{})
	seedVolumes(t, s, testAccount, testRegion, 2500)
	s.SetFaults(Faults{ThrottleRate: 0.3, Seed: 42})
	cfg := sdkConfig(url, testRegion, testKey, "secret", "")
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 20
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		})
	}
	c := ec2.NewFromConfig(cfg)
	seen, _ := listAll(t, c, nil)
	if len(seen) != 2500 {
		t.Fatalf("saw %d volumes, want 2500", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("%s seen %d times", id, n)
		}
	}
	calls := s.Calls()
	if calls["ec2:DescribeVolumes"] <= 3 {
		t.Fatalf("expected throttled retries, calls = %v", calls)
	}
	t.Logf("2500 volumes listed exactly once through 30%% throttling with %d DescribeVolumes calls", calls["ec2:DescribeVolumes"])
}
