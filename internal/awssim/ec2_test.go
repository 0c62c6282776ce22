package awssim

import (
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestSTSAssumeRoleRoutesToRoleAccount(t *testing.T) {
	s, url := newTestSim(t, Options{})
	if err := s.AddResources(testAccount2, testRegion, Resources{Volumes: []Volume{{ID: "vol-0000000000000b002"}}}); err != nil {
		t.Fatal(err)
	}
	cfg := sdkConfig(url, testRegion, testKey, "secret", "")
	stc := sts.NewFromConfig(cfg)
	id, err := stc.GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(id.Account) != testAccount {
		t.Fatalf("home account = %s", aws.ToString(id.Account))
	}
	out, err := stc.AssumeRole(ctx(t), &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + testAccount2 + ":role/Steward"), RoleSessionName: aws.String("steward")})
	if err != nil {
		t.Fatal(err)
	}
	c := out.Credentials
	cfg2 := sdkConfig(url, testRegion, aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
	id2, err := sts.NewFromConfig(cfg2).GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(id2.Arn); got != "arn:aws:sts::"+testAccount2+":assumed-role/Steward/steward" {
		t.Fatalf("assumed arn = %s", got)
	}
	vols, err := ec2.NewFromConfig(cfg2).DescribeVolumes(ctx(t), &ec2.DescribeVolumesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(vols.Volumes) != 1 || aws.ToString(vols.Volumes[0].VolumeId) != "vol-0000000000000b002" {
		t.Fatalf("volumes in role account = %+v", vols.Volumes)
	}
	_, err = stc.AssumeRole(ctx(t), &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::999999999999:role/X"), RoleSessionName: aws.String("s1")})
	if errorCode(err) != "AccessDenied" {
		t.Fatalf("unknown account: %v", err)
	}
	bad := sdkConfig(url, testRegion, "AKIDUNKNOWN", "x", "")
	if _, err := ec2.NewFromConfig(bad).DescribeVolumes(ctx(t), &ec2.DescribeVolumesInput{}); errorCode(err) != "AuthFailure" {
		t.Fatalf("unknown key on ec2: %v", err)
	}
	if _, err := sts.NewFromConfig(bad).GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{}); errorCode(err) != "InvalidClientTokenId" {
		t.Fatalf("unknown key on sts: %v", err)
	}
}

func TestEC2VolumeLifecycle(t *testing.T) {
	clk := newFakeClock()
	s, url := newTestSim(t, Options{Now: clk.Now, SettleDelay: time.Minute})
	err := s.AddResources(testAccount, testRegion, Resources{
		Instances: []Instance{{ID: "i-0000000000000001a"}},
		Volumes: []Volume{
			{ID: "vol-00000000000000001", Tags: Tags{{Key: "owner", Value: "ann"}}},
			{ID: "vol-00000000000000002", Attachments: []VolumeAttachment{{InstanceID: "i-0000000000000001a", Device: "/dev/sdf"}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	c := ec2.NewFromConfig(sdkConfig(url, testRegion, testKey, "secret", ""))
	out, err := c.DescribeVolumes(ctx(t), &ec2.DescribeVolumesInput{Filters: []ec2types.Filter{{Name: aws.String("status"), Values: []string{"available"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Volumes) != 1 || aws.ToString(out.Volumes[0].VolumeId) != "vol-00000000000000001" || out.Volumes[0].Tags[0].Value == nil {
		t.Fatalf("available volumes: %+v", out.Volumes)
	}
	out, err = c.DescribeVolumes(ctx(t), &ec2.DescribeVolumesInput{Filters: []ec2types.Filter{{Name: aws.String("attachment.instance-id"), Values: []string{"i-0000000000000001a"}}}})
	if err != nil || len(out.Volumes) != 1 || out.Volumes[0].Attachments[0].State != ec2types.VolumeAttachmentStateAttached {
		t.Fatalf("attached volumes: %+v %v", out, err)
	}
	_, err = c.DeleteVolume(ctx(t), &ec2.DeleteVolumeInput{VolumeId: aws.String("vol-00000000000000002")})
	if errorCode(err) != "VolumeInUse" {
		t.Fatalf("delete attached: %v", err)
	}
	_, err = c.DescribeVolumes(ctx(t), &ec2.DescribeVolumesInput{VolumeIds: []string{"vol-0000000000000dead"}})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidVolume.NotFound" || ae.ErrorMessage() != "The volume 'vol-0000000000000dead' does not exist." {
		t.Fatalf("not found: %v", err)
	}
	det, err := c.DetachVolume(ctx(t), &ec2.DetachVolumeInput{VolumeId: aws.String("vol-00000000000000002")})
	if err != nil || det.State != ec2types.VolumeAttachmentStateDetaching {
		t.Fatalf("detach: %+v %v", det, err)
	}
	clk.Advance(2 * time.Minute)
	if _, err := c.DeleteVolume(ctx(t), &ec2.DeleteVolumeInput{VolumeId: aws.String("vol-00000000000000002")}); err != nil {
		t.Fatal(err)
	}
	out, _ = c.DescribeVolumes(ctx(t), &ec2.DescribeVolumesInput{VolumeIds: []string{"vol-00000000000000002"}})
	if len(out.Volumes) != 1 || out.Volumes[0].State != ec2types.VolumeStateDeleting {
		t.Fatalf("deleting: %+v", out.Volumes)
	}
	snap, err := c.CreateSnapshot(ctx(t), &ec2.CreateSnapshotInput{VolumeId: aws.String("vol-00000000000000001"), Description: aws.String("before delete")})
	if err != nil || snap.State != ec2types.SnapshotStatePending {
		t.Fatalf("snapshot: %+v %v", snap, err)
	}
	clk.Advance(2 * time.Minute)
	_, err = c.DescribeVolumes(ctx(t), &ec2.DescribeVolumesInput{VolumeIds: []string{"vol-00000000000000002"}})
	if errorCode(err) != "InvalidVolume.NotFound" {
		t.Fatalf("after delete settles: %v", err)
	}
	snaps, err := c.DescribeSnapshots(ctx(t), &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}})
	if err != nil || len(snaps.Snapshots) != 1 || snaps.Snapshots[0].State != ec2types.SnapshotStateCompleted {
		t.Fatalf("snapshots: %+v %v", snaps, err)
	}
	if _, err := c.DeleteSnapshot(ctx(t), &ec2.DeleteSnapshotInput{SnapshotId: snaps.Snapshots[0].SnapshotId}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteSnapshot(ctx(t), &ec2.DeleteSnapshotInput{SnapshotId: snaps.Snapshots[0].SnapshotId}); errorCode(err) != "InvalidSnapshot.NotFound" {
		t.Fatalf("delete snapshot twice: %v", err)
	}
	att, err := c.AttachVolume(ctx(t), &ec2.AttachVolumeInput{VolumeId: aws.String("vol-00000000000000001"), InstanceId: aws.String("i-0000000000000001a"), Device: aws.String("/dev/sdg")})
	if err != nil || att.State != ec2types.VolumeAttachmentStateAttaching {
		t.Fatalf("attach: %+v %v", att, err)
	}
	if _, err := c.CreateTags(ctx(t), &ec2.CreateTagsInput{Resources: []string{"vol-00000000000000001"}, Tags: []ec2types.Tag{{Key: aws.String("steward:last-seen"), Value: aws.String("2026-01-02")}}}); err != nil {
		t.Fatal(err)
	}
	tags, err := c.DescribeTags(ctx(t), &ec2.DescribeTagsInput{Filters: []ec2types.Filter{{Name: aws.String("resource-id"), Values: []string{"vol-00000000000000001"}}}})
	if err != nil || len(tags.Tags) != 2 {
		t.Fatalf("tags: %+v %v", tags, err)
	}
	if _, err := c.DeleteTags(ctx(t), &ec2.DeleteTagsInput{Resources: []string{"vol-00000000000000001"}, Tags: []ec2types.Tag{{Key: aws.String("owner")}}}); err != nil {
		t.Fatal(err)
	}
	out, _ = c.DescribeVolumes(ctx(t), &ec2.DescribeVolumesInput{Filters: []ec2types.Filter{{Name: aws.String("tag-key"), Values: []string{"owner"}}}})
	if len(out.Volumes) != 0 {
		t.Fatalf("tag removed but still matches: %+v", out.Volumes)
	}
	calls := s.Calls()
	if calls["ec2:DescribeVolumes"] < 5 || calls["total"] < 10 {
		t.Fatalf("calls = %v", calls)
	}
}
