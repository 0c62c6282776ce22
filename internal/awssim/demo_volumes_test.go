package awssim

import (
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
)

func TestCreateVolume(t *testing.T) {
	clk := newFakeClock()
	s, url := newTestSim(t, Options{Now: clk.Now, SettleDelay: time.Second})
	s.ExtendEC2Volumes()
	s.ExtendEC2Volumes() // idempotent
	if err := s.AddResources(testAccount, "us-east-1", Resources{Snapshots: []Snapshot{{ID: "snap-0123456789abcdef0", VolumeSize: 20, Encrypted: true}}}); err != nil {
		t.Fatal(err)
	}
	cl := ec2.NewFromConfig(sdkConfig(url, "us-east-1", testKey, "secret", ""))

	out, err := cl.CreateVolume(ctx(t), &ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1a"), Size: aws.Int32(10),
		VolumeType: ec2types.VolumeTypeGp3, ClientToken: aws.String("tok-1"),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeVolume, Tags: []ec2types.Tag{{Key: aws.String("team"), Value: aws.String("blue")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.VolumeId)
	if out.State != ec2types.VolumeStateCreating || aws.ToInt32(out.Size) != 10 || aws.ToInt32(out.Iops) != 3000 || aws.ToInt32(out.Throughput) != 125 ||
		aws.ToString(out.AvailabilityZone) != "us-east-1a" || len(out.Tags) != 1 || out.CreateTime == nil {
		t.Fatalf("created %+v", out)
	}
	again, err := cl.CreateVolume(ctx(t), &ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1a"), Size: aws.Int32(10), VolumeType: ec2types.VolumeTypeGp3, ClientToken: aws.String("tok-1")})
	if err != nil || aws.ToString(again.VolumeId) != id {
		t.Fatalf("same client token: %v %v, want %s", err, aws.ToString(again.VolumeId), id)
	}
	clk.Advance(2 * time.Second)
	desc, err := cl.DescribeVolumes(ctx(t), &ec2.DescribeVolumesInput{VolumeIds: []string{id}})
	if err != nil || len(desc.Volumes) != 1 || desc.Volumes[0].State != ec2types.VolumeStateAvailable {
		t.Fatalf("after settling: %v %+v", err, desc)
	}

	// From a snapshot: its size by default, encrypted as it is; gp2 IOPS.
	fromSnap, err := cl.CreateVolume(ctx(t), &ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1b"), SnapshotId: aws.String("snap-0123456789abcdef0")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(fromSnap.Size) != 20 || !aws.ToBool(fromSnap.Encrypted) || fromSnap.VolumeType != ec2types.VolumeTypeGp2 || aws.ToInt32(fromSnap.Iops) != 100 {
		t.Fatalf("from snapshot %+v", fromSnap)
	}

	bad := []struct {
		name string
		in   ec2.CreateVolumeInput
		code string
	}{
		{"no zone", ec2.CreateVolumeInput{Size: aws.Int32(8)}, "MissingParameter"},
		{"no size", ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1a")}, "MissingParameter"},
		{"zone elsewhere", ec2.CreateVolumeInput{AvailabilityZone: aws.String("eu-west-1a"), Size: aws.Int32(8)}, "InvalidParameterValue"},
		{"too large", ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1a"), Size: aws.Int32(20000)}, "InvalidParameterValue"},
		{"st1 too small", ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1a"), Size: aws.Int32(8), VolumeType: ec2types.VolumeTypeSt1}, "InvalidParameterValue"},
		{"io1 without iops", ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1a"), Size: aws.Int32(8), VolumeType: ec2types.VolumeTypeIo1}, "MissingParameter"},
		{"gp2 with iops", ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1a"), Size: aws.Int32(8), Iops: aws.Int32(3000)}, "InvalidParameterCombination"},
		{"gp2 with throughput", ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1a"), Size: aws.Int32(8), Throughput: aws.Int32(200)}, "InvalidParameterCombination"},
		{"gp3 iops too high", ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1a"), Size: aws.Int32(8), VolumeType: ec2types.VolumeTypeGp3, Iops: aws.Int32(20000)}, "InvalidParameterValue"},
		{"unknown snapshot", ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1a"), SnapshotId: aws.String("snap-0000000000000000f")}, "InvalidSnapshot.NotFound"},
		{"smaller than snapshot", ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1a"), Size: aws.Int32(8), SnapshotId: aws.String("snap-0123456789abcdef0")}, "InvalidParameterValue"},
		{"dry run", ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1a"), Size: aws.Int32(8), DryRun: aws.Bool(true)}, "DryRunOperation"},
	}
	for _, tt := range bad {
		in := tt.in
		_, err := cl.CreateVolume(ctx(t), &in)
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != tt.code {
			t.Errorf("%s: error %v, want %s", tt.name, err, tt.code)
		}
	}
	if n := len(s.Calls()); n == 0 {
		t.Fatal("no calls counted")
	}
}
