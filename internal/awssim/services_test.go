package awssim

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

func TestELBv2(t *testing.T) {
	s, u := newTestSim(t, Options{})
	err := s.AddResources(testAccount, testRegion, Resources{
		LoadBalancers: []LoadBalancer{{Name: "web", Tags: Tags{{Key: "team", Value: "a"}}}, {Name: "idle"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	c := elb.NewFromConfig(sdkConfig(u, testRegion, testKey, "secret", ""))
	lbs, err := c.DescribeLoadBalancers(ctx(t), &elb.DescribeLoadBalancersInput{})
	if err != nil || len(lbs.LoadBalancers) != 2 {
		t.Fatalf("lbs: %+v %v", lbs, err)
	}
	var web, idle string
	for _, lb := range lbs.LoadBalancers {
		if aws.ToString(lb.LoadBalancerName) == "web" {
			web = aws.ToString(lb.LoadBalancerArn)
		} else {
			idle = aws.ToString(lb.LoadBalancerArn)
		}
	}
	if err := s.AddResources(testAccount, testRegion, Resources{TargetGroups: []TargetGroup{
		{Name: "web-tg", LoadBalancerARNs: []string{web}, Targets: []Target{{ID: "i-00000000000000001"}, {ID: "i-00000000000000002", Health: "unhealthy"}}},
	}}); err != nil {
		t.Fatal(err)
	}
	tgs, err := c.DescribeTargetGroups(ctx(t), &elb.DescribeTargetGroupsInput{LoadBalancerArn: &web})
	if err != nil || len(tgs.TargetGroups) != 1 {
		t.Fatalf("tgs: %+v %v", tgs, err)
	}
	th, err := c.DescribeTargetHealth(ctx(t), &elb.DescribeTargetHealthInput{TargetGroupArn: tgs.TargetGroups[0].TargetGroupArn})
	if err != nil || len(th.TargetHealthDescriptions) != 2 {
		t.Fatalf("health: %+v %v", th, err)
	}
	tags, err := c.DescribeTags(ctx(t), &elb.DescribeTagsInput{ResourceArns: []string{web, idle}})
	if err != nil || len(tags.TagDescriptions) != 2 || len(tags.TagDescriptions[0].Tags) != 1 {
		t.Fatalf("tags: %+v %v", tags, err)
	}
	if _, err := c.DeleteLoadBalancer(ctx(t), &elb.DeleteLoadBalancerInput{LoadBalancerArn: &idle}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DescribeLoadBalancers(ctx(t), &elb.DescribeLoadBalancersInput{LoadBalancerArns: []string{idle}}); errorCode(err) != "LoadBalancerNotFound" {
		t.Fatalf("deleted lb: %v", err)
	}
}

func TestRDSDeleteWithFinalSnapshot(t *testing.T) {
	clk := newFakeClock()
	s, u := newTestSim(t, Options{Now: clk.Now, SettleDelay: time.Minute})
	if err := s.AddResources(testAccount, testRegion, Resources{DBInstances: []DBInstance{{ID: "idle-db", Tags: Tags{{Key: "owner", Value: "bob"}}}}}); err != nil {
		t.Fatal(err)
	}
	c := rds.NewFromConfig(sdkConfig(u, testRegion, testKey, "secret", ""))
	dbs, err := c.DescribeDBInstances(ctx(t), &rds.DescribeDBInstancesInput{})
	if err != nil || len(dbs.DBInstances) != 1 || len(dbs.DBInstances[0].TagList) != 1 {
		t.Fatalf("dbs: %+v %v", dbs, err)
	}
	arn := aws.ToString(dbs.DBInstances[0].DBInstanceArn)
	if _, err := c.AddTagsToResource(ctx(t), &rds.AddTagsToResourceInput{ResourceName: &arn, Tags: []rdstypes.Tag{{Key: aws.String("steward:seen"), Value: aws.String("1")}}}); err != nil {
		t.Fatal(err)
	}
	lt, err := c.ListTagsForResource(ctx(t), &rds.ListTagsForResourceInput{ResourceName: &arn})
	if err != nil || len(lt.TagList) != 2 {
		t.Fatalf("tags: %+v %v", lt, err)
	}
	if _, err := c.DeleteDBInstance(ctx(t), &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("idle-db")}); errorCode(err) != "InvalidParameterCombination" {
		t.Fatalf("no final snapshot choice: %v", err)
	}
	del, err := c.DeleteDBInstance(ctx(t), &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("idle-db"), FinalDBSnapshotIdentifier: aws.String("idle-db-final")})
	if err != nil || aws.ToString(del.DBInstance.DBInstanceStatus) != "deleting" {
		t.Fatalf("delete: %+v %v", del, err)
	}
	clk.Advance(2 * time.Minute)
	if _, err := c.DescribeDBInstances(ctx(t), &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("idle-db")}); errorCode(err) != "DBInstanceNotFound" {
		t.Fatalf("deleted db: %v", err)
	}
	snaps, err := c.DescribeDBSnapshots(ctx(t), &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String("idle-db-final")})
	if err != nil || aws.ToString(snaps.DBSnapshots[0].Status) != "available" {
		t.Fatalf("final snapshot: %+v %v", snaps, err)
	}
	if _, err := c.DeleteDBSnapshot(ctx(t), &rds.DeleteDBSnapshotInput{DBSnapshotIdentifier: aws.String("idle-db-final")}); err != nil {
		t.Fatal(err)
	}
}

func TestSNSPublish(t *testing.T) {
	s, u := newTestSim(t, Options{})
	c := sns.NewFromConfig(sdkConfig(u, testRegion, testKey, "secret", ""))
	ct, err := c.CreateTopic(ctx(t), &sns.CreateTopicInput{Name: aws.String("steward-alerts")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Publish(ctx(t), &sns.PublishInput{TopicArn: ct.TopicArn, Message: aws.String("hello"), Subject: aws.String("s")}); err != nil {
		t.Fatal(err)
	}
	msgs, err := s.Published(testAccount, testRegion, aws.ToString(ct.TopicArn))
	if err != nil || len(msgs) != 1 || msgs[0].Body != "hello" {
		t.Fatalf("published: %+v %v", msgs, err)
	}
	lt, err := c.ListTopics(ctx(t), &sns.ListTopicsInput{})
	if err != nil || len(lt.Topics) != 1 {
		t.Fatalf("topics: %+v %v", lt, err)
	}
	if _, err := c.Publish(ctx(t), &sns.PublishInput{TopicArn: aws.String("arn:aws:sns:us-east-1:111111111111:nope"), Message: aws.String("x")}); errorCode(err) != "NotFound" {
		t.Fatalf("missing topic: %v", err)
	}
}
