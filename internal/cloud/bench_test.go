package cloud

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/stewardhq/steward/internal/awssim"
)

// BenchmarkScanVolumes lists and filters 5 accounts x 4 regions x 5,000
// volumes (a fifth of them attached) through the simulator: every account
// and region at once, each within its own rate limit (steward's default,
// 20 calls/s, burst 40), pages of 1,000 (EC2's largest) and the state
// filter done by the server. It reports API calls and unattached volumes
// found per scan.
func BenchmarkScanVolumes(b *testing.B) {
	const perRegion = 5000
	e := newEnv(b)
	e.needSim(b, "seeding 100,000 volumes")
	// steward's defaults for rate limits and backoff.
	c := e.cloud(b, func(cfg *Config) { cfg.Rate = Rate{}; cfg.BaseDelay, cfg.MaxBackoff = 0, 0 })
	for _, tg := range allTargets() {
		vols := make([]awssim.Volume, perRegion)
		for i := range vols {
			if i%5 == 0 {
				vols[i].Attachments = []awssim.VolumeAttachment{{InstanceID: fmt.Sprintf("i-%017x", i)}}
			}
		}
		if err := e.sim.AddResources(tg.Account, tg.Region, awssim.Resources{Volumes: vols}); err != nil {
			b.Fatal(err)
		}
	}
	filters := []ec2types.Filter{{Name: aws.String("status"), Values: []string{"available"}}}
	scan := func() int64 {
		var found atomic.Int64
		err := ForEachTarget(context.Background(), allTargets(), func(ctx context.Context, tg Target) error {
			cl, err := ClientFor[*ec2.Client](ctx, c, "ec2", tg.Account, tg.Region)
			if err != nil {
				return err
			}
			p := ec2.NewDescribeVolumesPaginator(cl, &ec2.DescribeVolumesInput{MaxResults: aws.Int32(1000), Filters: filters})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					return err
				}
				found.Add(int64(len(page.Volumes)))
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		return found.Load()
	}
	scan() // warm: assume the roles, open connections
	before := c.TotalStats()
	b.ResetTimer()
	var found int64
	for range b.N {
		found = scan()
	}
	b.StopTimer()
	after := c.TotalStats()
	want := int64(len(allTargets()) * perRegion * 4 / 5)
	if found != want {
		b.Fatalf("found %d unattached volumes, want %d", found, want)
	}
	b.ReportMetric(float64(after.Attempts-before.Attempts)/float64(b.N), "calls/op")
	b.ReportMetric(float64(found), "volumes/op")
	b.ReportMetric(float64(after.Throttles-before.Throttles)/float64(b.N), "throttles/op")
}
