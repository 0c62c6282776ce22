package awssim

import (
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	tagging "github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi"
	tagtypes "github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi/types"
)

func getAllResources(t *testing.T, c *tagging.Client, in *tagging.GetResourcesInput) []string {
	t.Helper()
	var arns []string
	p := tagging.NewGetResourcesPaginator(c, in)
	for p.HasMorePages() {
		pg, err := p.NextPage(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range pg.ResourceTagMappingList {
			arns = append(arns, *m.ResourceARN)
		}
	}
	sort.Strings(arns)
	return arns
}

func TestTaggingAPI(t *testing.T) {
	sim, url := newTestSim(t, Options{})
	res := Resources{}
	for i := 0; i < 7; i++ {
		res.Volumes = append(res.Volumes, Volume{Tags: Tags{{Key: "env", Value: []string{"prod", "dev"}[i%2]}}})
	}
	res.Volumes = append(res.Volumes, Volume{}) // untagged: never listed
	res.Instances = []Instance{{ID: "i-0123456789abcdef0", Tags: Tags{{Key: "env", Value: "prod"}, {Key: "team", Value: "web"}}}}
	res.LoadBalancers = []LoadBalancer{{Name: "web", Tags: Tags{{Key: "team", Value: "web"}}}}
	res.DBInstances = []DBInstance{{ID: "orders", Tags: Tags{{Key: "env", Value: "prod"}}}}
	if err := sim.AddResources(testAccount, testRegion, res); err != nil {
		t.Fatal(err)
	}
	if err := sim.AddBuckets(testAccount, Bucket{Name: "site", Tags: Tags{{Key: "env", Value: "prod"}}}, Bucket{Name: "eu-logs", Region: "eu-west-1", Tags: Tags{{Key: "env", Value: "prod"}}}); err != nil {
		t.Fatal(err)
	}
	c := tagging.NewFromConfig(sdkConfig(url, testRegion, testKey, "secret", ""))
	all := getAllResources(t, c, &tagging.GetResourcesInput{ResourcesPerPage: aws.Int32(3)})
	if len(all) != 11 {
		t.Fatalf("GetResources listed %d: %v", len(all), all)
	}
	cases := []struct {
		name string
		in   tagging.GetResourcesInput
		want int
	}{
		{"env=prod", tagging.GetResourcesInput{TagFilters: []tagtypes.TagFilter{{Key: aws.String("env"), Values: []string{"prod"}}}}, 7},
		{"env any", tagging.GetResourcesInput{TagFilters: []tagtypes.TagFilter{{Key: aws.String("env")}}}, 10},
		{"env=prod and team", tagging.GetResourcesInput{TagFilters: []tagtypes.TagFilter{{Key: aws.String("env"), Values: []string{"prod"}}, {Key: aws.String("team")}}}, 1},
		{"ec2", tagging.GetResourcesInput{ResourceTypeFilters: []string{"ec2"}}, 8},
		{"ec2:instance", tagging.GetResourcesInput{ResourceTypeFilters: []string{"ec2:instance"}}, 1},
		{"s3", tagging.GetResourcesInput{ResourceTypeFilters: []string{"s3"}}, 1},
		{"elb+rds", tagging.GetResourcesInput{ResourceTypeFilters: []string{"elasticloadbalancing:loadbalancer", "rds:db"}}, 2},
	}
	for _, tc := range cases {
		in := tc.in
		if got := getAllResources(t, c, &in); len(got) != tc.want {
			t.Errorf("%s: %d resources, want %d: %v", tc.name, len(got), tc.want, got)
		}
	}
	inst := "arn:aws:ec2:us-east-1:111111111111:instance/i-0123456789abcdef0"
	tr, err := c.TagResources(ctx(t), &tagging.TagResourcesInput{ResourceARNList: []string{inst, "arn:aws:s3:::site", "arn:aws:ec2:us-east-1:111111111111:volume/vol-nope"},
		Tags: map[string]string{"owner": "alice"}})
	if err != nil || len(tr.FailedResourcesMap) != 1 {
		t.Fatalf("TagResources = %+v, %v", tr, err)
	}
	if got := getAllResources(t, c, &tagging.GetResourcesInput{TagFilters: []tagtypes.TagFilter{{Key: aws.String("owner"), Values: []string{"alice"}}}}); len(got) != 2 {
		t.Fatalf("after TagResources: %v", got)
	}
	if _, err := c.UntagResources(ctx(t), &tagging.UntagResourcesInput{ResourceARNList: []string{inst}, TagKeys: []string{"owner", "team", "env"}}); err != nil {
		t.Fatal(err)
	}
	if got := getAllResources(t, c, &tagging.GetResourcesInput{ResourceTypeFilters: []string{"ec2:instance"}}); len(got) != 0 {
		t.Fatalf("untagged instance still listed: %v", got)
	}
	_ = sim.WithRegion(testAccount, testRegion, func(rs *RegionState) error {
		if len(rs.Instances["i-0123456789abcdef0"].Tags) != 0 {
			t.Errorf("instance tags = %v", rs.Instances["i-0123456789abcdef0"].Tags)
		}
		return nil
	})
	_, err = c.GetResources(ctx(t), &tagging.GetResourcesInput{PaginationToken: aws.String("junk")})
	wantAPIError(t, err, "InvalidParameterException", 400)
	eu := tagging.NewFromConfig(sdkConfig(url, "eu-west-1", testKey, "secret", ""))
	if got := getAllResources(t, eu, &tagging.GetResourcesInput{}); len(got) != 1 || got[0] != "arn:aws:s3:::eu-logs" {
		t.Fatalf("eu-west-1: %v", got)
	}
}
