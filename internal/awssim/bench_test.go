package awssim

import (
	"fmt"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// BenchmarkListAvailableVolumes lists and filters (status=available)
// 5 accounts x 4 regions x 5,000 volumes through the sim with SDK clients,
// accounts and regions in parallel, as the ebs-unused scan does.
func BenchmarkListAvailableVolumes(b *testing.B) {
	const perRegion = 5000
	accounts := []string{"100000000001", "100000000002", "100000000003", "100000000004", "100000000005"}
	regions := []string{"us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2"}
	s := New(Options{})
	for _, a := range accounts {
		if err := s.AddAccount(AccountInfo{ID: a}); err != nil {
			b.Fatal(err)
		}
		for ri, r := range regions {
			vols := make([]Volume, perRegion)
			for i := range vols {
				vols[i] = Volume{ID: fmt.Sprintf("vol-%s%d%012d", a[len(a)-2:], ri, i)}
				if i%2 == 1 {
					vols[i].Attachments = []VolumeAttachment{{InstanceID: fmt.Sprintf("i-%017d", i), Device: "/dev/sdf"}}
				}
			}
			if err := s.AddResources(a, r, Resources{Volumes: vols}); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := s.AddCredential(Credential{AccessKeyID: testKey, SecretAccessKey: "secret", Account: accounts[0]}); err != nil {
		b.Fatal(err)
	}
	url, stop := s.Start()
	defer stop()
	home := sdkConfig(url, "us-east-1", testKey, "secret", "")
	type target struct {
		account string
		client  *ec2.Client
	}
	var targets []target
	for _, a := range accounts {
		out, err := sts.NewFromConfig(home).AssumeRole(ctx(b), &sts.AssumeRoleInput{
			RoleArn: aws.String("arn:aws:iam::" + a + ":role/StewardScan"), RoleSessionName: aws.String("bench")})
		if err != nil {
			b.Fatal(err)
		}
		c := out.Credentials
		for _, r := range regions {
			cfg := sdkConfig(url, r, aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
			targets = append(targets, target{account: a, client: ec2.NewFromConfig(cfg)})
		}
	}
	filter := []ec2types.Filter{{Name: aws.String("status"), Values: []string{"available"}}}
	s.ResetCalls()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var wg sync.WaitGroup
		counts := make([]int, len(targets))
		errs := make([]error, len(targets))
		for ti, tg := range targets {
			wg.Add(1)
			go func(ti int, c *ec2.Client) {
				defer wg.Done()
				p := ec2.NewDescribeVolumesPaginator(c, &ec2.DescribeVolumesInput{MaxResults: aws.Int32(1000), Filters: filter})
				for p.HasMorePages() {
					out, err := p.NextPage(ctx(b))
					if err != nil {
						errs[ti] = err
						return
					}
					counts[ti] += len(out.Volumes)
				}
			}(ti, tg.client)
		}
		wg.Wait()
		for ti := range targets {
			if errs[ti] != nil {
				b.Fatal(errs[ti])
			}
			if counts[ti] != perRegion/2 {
				b.Fatalf("target %d listed %d available volumes, want %d", ti, counts[ti], perRegion/2)
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(s.Calls()["total"])/float64(b.N), "calls/op")
}
