package awssim

import (
	"sort"
	"strings"
)

// taggingService serves the Resource Groups Tagging API (awsJson1_1):
// GetResources, TagResources and UntagResources over the tagged resources
// the sim holds in the request's account and region: EC2 volumes,
// snapshots, instances, security groups, Elastic IPs, internet gateways and
// VPCs, ELBv2 load balancers and target groups, RDS instances and
// snapshots, and S3 buckets whose home region it is; in us-east-1 also the
// global Route 53 hosted zones, CloudFront distributions and IAM policies,
// roles and users. As in AWS, only resources with at least one tag are
// listed.
type taggingService struct {
	*jsonService
	sim *Sim
}

func newTagging(s *Sim) *taggingService {
	t := &taggingService{sim: s}
	t.jsonService = &jsonService{name: "tagging", prefix: "ResourceGroupsTaggingAPI_20170126", ops: map[string]jsonHandler{
		"GetResources":   t.getResources,
		"TagResources":   t.tagResources,
		"UntagResources": t.untagResources,
	}}
	return t
}

// tagVisit sees one taggable resource; it may change *tags.
type tagVisit func(arn, typ string, tags *Tags)

// walkTaggable calls fn for every taggable resource of an account and
// region, holding the lock of the state each one lives in.
func (s *Sim) walkTaggable(account, region string, fn tagVisit) error {
	err := s.WithRegion(account, region, func(rs *RegionState) error {
		ec2 := func(kind, id string) string { return s.arn("ec2", region, account, kind+"/"+id) }
		for _, id := range sortedKeys(rs.Volumes) {
			fn(ec2("volume", id), "ec2:volume", &rs.Volumes[id].Tags)
		}
		for _, id := range sortedKeys(rs.Snapshots) {
			fn(s.arn("ec2", region, "", "snapshot/"+id), "ec2:snapshot", &rs.Snapshots[id].Tags)
		}
		for _, id := range sortedKeys(rs.Instances) {
			fn(ec2("instance", id), "ec2:instance", &rs.Instances[id].Tags)
		}
		for _, id := range sortedKeys(rs.SecurityGroups) {
			fn(ec2("security-group", id), "ec2:security-group", &rs.SecurityGroups[id].Tags)
		}
		for _, id := range sortedKeys(rs.Addresses) {
			fn(ec2("elastic-ip", id), "ec2:elastic-ip", &rs.Addresses[id].Tags)
		}
		for _, id := range sortedKeys(rs.InternetGateways) {
			fn(ec2("internet-gateway", id), "ec2:internet-gateway", &rs.InternetGateways[id].Tags)
		}
		for _, id := range sortedKeys(rs.Vpcs) {
			fn(ec2("vpc", id), "ec2:vpc", &rs.Vpcs[id].Tags)
		}
		for _, arn := range sortedKeys(rs.LoadBalancers) {
			fn(arn, "elasticloadbalancing:loadbalancer", &rs.LoadBalancers[arn].Tags)
		}
		for _, arn := range sortedKeys(rs.TargetGroups) {
			fn(arn, "elasticloadbalancing:targetgroup", &rs.TargetGroups[arn].Tags)
		}
		for _, id := range sortedKeys(rs.DBInstances) {
			fn(s.arn("rds", region, account, "db:"+id), "rds:db", &rs.DBInstances[id].Tags)
		}
		for _, id := range sortedKeys(rs.DBSnapshots) {
			fn(s.arn("rds", region, account, "snapshot:"+id), "rds:snapshot", &rs.DBSnapshots[id].Tags)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if s3, _ := s.service("s3").(*s3Service); s3 != nil {
		s3.mu.Lock()
		for _, name := range sortedKeys(s3.buckets) {
			b := s3.buckets[name]
			if b.owner == account && b.Region == region {
				fn(s.arn("s3", "", "", name), "s3:bucket", &b.Tags)
			}
		}
		s3.mu.Unlock()
	}
	if region != "us-east-1" {
		return nil
	}
	if r53, _ := s.service("route53").(*route53Service); r53 != nil {
		r53.mu.Lock()
		st := r53.state(account)
		for _, id := range sortedKeys(st.zones) {
			fn(s.arn("route53", "", "", "hostedzone/"+id), "route53:hostedzone", &st.zones[id].Tags)
		}
		r53.mu.Unlock()
	}
	if cf, _ := s.service("cloudfront").(*cloudfrontService); cf != nil {
		cf.mu.Lock()
		ds := cf.dists[account]
		for _, id := range sortedKeys(ds) {
			fn(ds[id].arn, "cloudfront:distribution", &ds[id].tags)
		}
		cf.mu.Unlock()
	}
	return s.WithIAM(account, func(st *IAMState) error {
		for _, arn := range sortedKeys(st.Policies) {
			fn(arn, "iam:policy", &st.Policies[arn].Tags)
		}
		for _, n := range sortedKeys(st.Roles) {
			fn(st.Roles[n].ARN, "iam:role", &st.Roles[n].Tags)
		}
		for _, n := range sortedKeys(st.Users) {
			fn(st.Users[n].ARN, "iam:user", &st.Users[n].Tags)
		}
		return nil
	})
}

type xJSONTag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

type xTagMapping struct {
	ResourceARN string     `json:"ResourceARN"`
	Tags        []xJSONTag `json:"Tags"`
}

// typeMatches reports whether a resource type ("ec2:volume") matches a
// ResourceTypeFilter ("ec2" or "ec2:volume"; "s3" means buckets).
func typeMatches(typ string, filters []string) bool {
	if len(filters) == 0 {
		return true
	}
	for _, f := range filters {
		if f == typ || strings.HasPrefix(typ, f+":") {
			return true
		}
	}
	return false
}

func (t *taggingService) getResources(r *Request, body []byte) (any, error) {
	var in struct {
		PaginationToken string
		TagFilters      []struct {
			Key    string
			Values []string
		}
		ResourcesPerPage    *int
		ResourceTypeFilters []string
		ResourceARNList     []string
	}
	if err := decodeJSONBody(body, &in); err != nil {
		return nil, err
	}
	if len(in.ResourceARNList) > 0 && (len(in.TagFilters) > 0 || len(in.ResourceTypeFilters) > 0) {
		return nil, apiErr("InvalidParameterException", "Specify either ResourceARNList or TagFilters/ResourceTypeFilters, not both.")
	}
	if len(in.TagFilters) > 50 {
		return nil, apiErr("InvalidParameterException", "TagFilters can contain at most 50 filters.")
	}
	for _, f := range in.ResourceTypeFilters {
		if f == "" || strings.Count(f, ":") > 1 {
			return nil, apiErr("InvalidParameterException", "Unsupported service=%s", f)
		}
	}
	perPage := 50
	if in.ResourcesPerPage != nil {
		if *in.ResourcesPerPage < 1 || *in.ResourcesPerPage > 100 {
			return nil, apiErr("InvalidParameterException", "ResourcesPerPage must be between 1 and 100.")
		}
		perPage = *in.ResourcesPerPage
	}
	start := 0
	if in.PaginationToken != "" {
		n, ok := parsePageToken("tagt", in.PaginationToken)
		if !ok {
			return nil, apiErr("InvalidParameterException", "The specified pagination token is invalid.")
		}
		start = n
	}
	typeFilters := make([]string, len(in.ResourceTypeFilters))
	for i, f := range in.ResourceTypeFilters {
		typeFilters[i] = f
		if f == "s3" {
			typeFilters[i] = "s3:bucket"
		}
	}
	arnSet := map[string]bool{}
	for _, a := range in.ResourceARNList {
		arnSet[a] = true
	}
	var all []xTagMapping
	err := t.sim.walkTaggable(r.Account, r.Region, func(arn, typ string, tags *Tags) {
		if len(*tags) == 0 || !typeMatches(typ, typeFilters) || (len(arnSet) > 0 && !arnSet[arn]) {
			return
		}
		for _, f := range in.TagFilters {
			v, ok := tags.Get(f.Key)
			if !ok {
				return
			}
			if len(f.Values) > 0 {
				hit := false
				for _, want := range f.Values {
					hit = hit || want == v
				}
				if !hit {
					return
				}
			}
		}
		m := xTagMapping{ResourceARN: arn, Tags: []xJSONTag{}}
		for _, tg := range *tags {
			m.Tags = append(m.Tags, xJSONTag(tg))
		}
		all = append(all, m)
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(all, func(i, j int) bool { return all[i].ResourceARN < all[j].ResourceARN })
	start = min(start, len(all))
	end := min(len(all), start+perPage)
	out := struct {
		PaginationToken        string        `json:"PaginationToken"`
		ResourceTagMappingList []xTagMapping `json:"ResourceTagMappingList"`
	}{ResourceTagMappingList: append([]xTagMapping{}, all[start:end]...)}
	if end < len(all) {
		out.PaginationToken = pageToken("tagt", end)
	}
	return out, nil
}

type xFailure struct {
	StatusCode   int    `json:"StatusCode"`
	ErrorCode    string `json:"ErrorCode"`
	ErrorMessage string `json:"ErrorMessage"`
}

func (t *taggingService) changeTags(r *Request, arns []string, apply func(*Tags)) (any, error) {
	if len(arns) == 0 || len(arns) > 20 {
		return nil, apiErr("InvalidParameterException", "ResourceARNList must contain between 1 and 20 ARNs.")
	}
	want := map[string]bool{}
	for _, a := range arns {
		want[a] = true
	}
	done := map[string]bool{}
	err := t.sim.walkTaggable(r.Account, r.Region, func(arn, _ string, tags *Tags) {
		if want[arn] {
			apply(tags)
			done[arn] = true
		}
	})
	if err != nil {
		return nil, err
	}
	failed := map[string]xFailure{}
	for _, a := range arns {
		if !done[a] {
			failed[a] = xFailure{StatusCode: 400, ErrorCode: "InvalidParameterException",
				ErrorMessage: "The resource " + a + " does not exist or is not supported in this region."}
		}
	}
	return map[string]any{"FailedResourcesMap": failed}, nil
}

func (t *taggingService) tagResources(r *Request, body []byte) (any, error) {
	var in struct {
		ResourceARNList []string
		Tags            map[string]string
	}
	if err := decodeJSONBody(body, &in); err != nil {
		return nil, err
	}
	if len(in.Tags) == 0 || len(in.Tags) > 50 {
		return nil, apiErr("InvalidParameterException", "Tags must contain between 1 and 50 tags.")
	}
	keys := make([]string, 0, len(in.Tags))
	for k := range in.Tags {
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return nil, apiErr("InvalidParameterException", "Tag keys starting with aws: are reserved.")
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	add := make([]Tag, len(keys))
	for i, k := range keys {
		add[i] = Tag{Key: k, Value: in.Tags[k]}
	}
	return t.changeTags(r, in.ResourceARNList, func(ts *Tags) {
		if *ts == nil {
			*ts = Tags{}
		}
		*ts = ts.set(add)
	})
}

func (t *taggingService) untagResources(r *Request, body []byte) (any, error) {
	var in struct {
		ResourceARNList []string
		TagKeys         []string
	}
	if err := decodeJSONBody(body, &in); err != nil {
		return nil, err
	}
	if len(in.TagKeys) == 0 {
		return nil, apiErr("InvalidParameterException", "TagKeys must contain at least one key.")
	}
	del := make([]Tag, len(in.TagKeys))
	for i, k := range in.TagKeys {
		del[i] = Tag{Key: k}
	}
	return t.changeTags(r, in.ResourceARNList, func(ts *Tags) {
		if *ts != nil {
			*ts = ts.remove(del, make([]bool, len(del)))
		}
	})
}
