package awssim

import (
	"encoding/base64"
	"fmt"
	"sort"
	"strings"
	"time"
)

const elbv2Namespace = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"

// elbv2API serves Elastic Load Balancing v2 (awsquery, API 2015-12-01).
// Classic ELB (2012-06-01) shares the signing name and is not simulated.
type elbv2API struct{ sim *Sim }

func newELBv2(s *Sim) *queryService {
	a := &elbv2API{sim: s}
	h := map[string]func(*RegionState, *Request, params) (any, error){
		"DescribeLoadBalancers":          a.describeLoadBalancers,
		"DescribeTargetGroups":           a.describeTargetGroups,
		"DescribeTargetHealth":           a.describeTargetHealth,
		"DeleteLoadBalancer":             a.deleteLoadBalancer,
		"DescribeTags":                   a.describeTags,
		"DescribeLoadBalancerAttributes": a.describeLoadBalancerAttributes,
	}
	actions := map[string]queryHandler{}
	for name, fn := range h {
		fn := fn
		actions[name] = func(r *Request, p params) (any, error) {
			if v := p.get("Version"); v != "" && v != "2015-12-01" {
				return nil, apiErr("InvalidAction", "The sim serves Elastic Load Balancing API 2015-12-01 only, not %s.", v)
			}
			rs, unlock, err := s.lockedRegion(r)
			if err != nil {
				return nil, err
			}
			defer unlock()
			return fn(rs, r, p)
		}
	}
	return &queryService{name: "elasticloadbalancing", xmlns: elbv2Namespace, actions: actions}
}

func (s *Sim) addELBResources(rs *RegionState, res Resources, now time.Time) error {
	for i := range res.LoadBalancers {
		lb := res.LoadBalancers[i]
		if lb.Name == "" && lb.ARN == "" {
			return fmt.Errorf("account %s region %s load balancer %d: %w: name or arn required", rs.Account, rs.Region, i, ErrInvalidScenario)
		}
		lb.Type = orDefault(lb.Type, "application")
		if lb.Name == "" {
			parts := strings.Split(lb.ARN, "/")
			if len(parts) >= 3 {
				lb.Name = parts[len(parts)-2]
			}
		}
		if lb.ARN == "" {
			kind := map[string]string{"application": "app", "network": "net", "gateway": "gwy"}[lb.Type]
			lb.ARN = s.arn("elasticloadbalancing", rs.Region, rs.Account, fmt.Sprintf("loadbalancer/%s/%s/%016x", orDefault(kind, "app"), lb.Name, hashString(rs.Account+lb.Name)))
		}
		lb.Scheme = orDefault(lb.Scheme, "internet-facing")
		lb.State = orDefault(lb.State, "active")
		if lb.DNSName == "" {
			prefix := ""
			if lb.Scheme == "internal" {
				prefix = "internal-"
			}
			lb.DNSName = fmt.Sprintf("%s%s-%d.%s.elb.amazonaws.com", prefix, lb.Name, hashString(lb.ARN)%1000000000, rs.Region)
		}
		if lb.CreatedTime.IsZero() {
			lb.CreatedTime = now
		}
		if len(lb.AvailabilityZones) == 0 {
			lb.AvailabilityZones = []string{rs.Region + "a", rs.Region + "b"}
		}
		lb.Tags = lb.Tags.clone()
		rs.LoadBalancers[lb.ARN] = &lb
	}
	for i := range res.TargetGroups {
		tg := res.TargetGroups[i]
		if tg.Name == "" && tg.ARN == "" {
			return fmt.Errorf("account %s region %s target group %d: %w: name or arn required", rs.Account, rs.Region, i, ErrInvalidScenario)
		}
		if tg.ARN == "" {
			tg.ARN = s.arn("elasticloadbalancing", rs.Region, rs.Account, fmt.Sprintf("targetgroup/%s/%016x", tg.Name, hashString(rs.Account+tg.Name)))
		}
		if tg.Name == "" {
			parts := strings.Split(tg.ARN, "/")
			if len(parts) >= 2 {
				tg.Name = parts[len(parts)-2]
			}
		}
		tg.Protocol = orDefault(tg.Protocol, "HTTP")
		tg.Port = orInt(tg.Port, 80)
		tg.TargetType = orDefault(tg.TargetType, "instance")
		tg.Targets = append([]Target(nil), tg.Targets...)
		for j := range tg.Targets {
			tg.Targets[j].Health = orDefault(tg.Targets[j].Health, "healthy")
			tg.Targets[j].Port = orInt(tg.Targets[j].Port, tg.Port)
		}
		tg.LoadBalancerARNs = append([]string(nil), tg.LoadBalancerARNs...)
		tg.Tags = tg.Tags.clone()
		rs.TargetGroups[tg.ARN] = &tg
	}
	return nil
}

func lbNotFound() *APIError {
	return apiErr("LoadBalancerNotFound", "One or more load balancers not found")
}

func tgNotFound() *APIError {
	return apiErr("TargetGroupNotFound", "One or more target groups not found")
}

// elbPage pages sorted keys with Marker/PageSize (1..400).
func elbPage(p params, keys []string) ([]string, string, error) {
	size := 400
	if n, ok, err := p.int("PageSize"); err != nil {
		return nil, "", err
	} else if ok {
		if n < 1 || n > 400 {
			return nil, "", apiErr("ValidationError", "1 validation error detected: Value '%d' at 'pageSize' failed to satisfy constraint: Member must have value between 1 and 400", n)
		}
		size = n
	}
	start := 0
	if m := p.get("Marker"); m != "" {
		raw, err := base64.RawURLEncoding.DecodeString(m)
		if err != nil || !strings.HasPrefix(string(raw), "m:") {
			return nil, "", apiErr("ValidationError", "Invalid marker")
		}
		after := string(raw[2:])
		start = sort.SearchStrings(keys, after)
		if start < len(keys) && keys[start] == after {
			start++
		}
	}
	if start+size >= len(keys) {
		return keys[start:], "", nil
	}
	page := keys[start : start+size]
	return page, base64.RawURLEncoding.EncodeToString([]byte("m:" + page[len(page)-1])), nil
}

type xLBState struct {
	Code string `xml:"Code"`
}

type xAZ struct {
	ZoneName string `xml:"ZoneName"`
	SubnetID string `xml:"SubnetId"`
}

type xLoadBalancer struct {
	LoadBalancerArn       string          `xml:"LoadBalancerArn"`
	DNSName               string          `xml:"DNSName"`
	CanonicalHostedZoneID string          `xml:"CanonicalHostedZoneId"`
	CreatedTime           string          `xml:"CreatedTime"`
	LoadBalancerName      string          `xml:"LoadBalancerName"`
	Scheme                string          `xml:"Scheme"`
	VpcID                 string          `xml:"VpcId"`
	State                 xLBState        `xml:"State"`
	Type                  string          `xml:"Type"`
	AvailabilityZones     members[xAZ]    `xml:"AvailabilityZones"`
	SecurityGroups        members[string] `xml:"SecurityGroups"`
	IPAddressType         string          `xml:"IpAddressType"`
}

func (lb *LoadBalancer) view() xLoadBalancer {
	x := xLoadBalancer{LoadBalancerArn: lb.ARN, DNSName: lb.DNSName, CanonicalHostedZoneID: "Z35SXDOTRQ7X7K",
		CreatedTime: isoTime(lb.CreatedTime), LoadBalancerName: lb.Name, Scheme: lb.Scheme, VpcID: lb.VpcID,
		State: xLBState{Code: lb.State}, Type: lb.Type, AvailabilityZones: members[xAZ]{},
		SecurityGroups: members[string](append([]string{}, lb.SecurityGroups...)), IPAddressType: "ipv4"}
	for i, z := range lb.AvailabilityZones {
		x.AvailabilityZones = append(x.AvailabilityZones, xAZ{ZoneName: z, SubnetID: fmt.Sprintf("subnet-%08x", hashString(lb.ARN+z)%0xffffffff+uint64(i))})
	}
	return x
}

func (a *elbv2API) describeLoadBalancers(rs *RegionState, _ *Request, p params) (any, error) {
	arns := p.list("LoadBalancerArns.member")
	names := p.list("Names.member")
	var keys []string
	switch {
	case len(arns) > 0:
		for _, arn := range arns {
			if rs.LoadBalancers[arn] == nil {
				return nil, lbNotFound()
			}
		}
		keys = append(keys, arns...)
	case len(names) > 0:
		for _, n := range names {
			found := false
			for arn, lb := range rs.LoadBalancers {
				if lb.Name == n {
					keys = append(keys, arn)
					found = true
				}
			}
			if !found {
				return nil, apiErr("LoadBalancerNotFound", "Load balancers '[%s]' not found", n)
			}
		}
	default:
		keys = sortedKeys(rs.LoadBalancers)
	}
	sort.Strings(keys)
	page, next, err := elbPage(p, keys)
	if err != nil {
		return nil, err
	}
	out := struct {
		LoadBalancers members[xLoadBalancer] `xml:"LoadBalancers"`
		NextMarker    string                 `xml:"NextMarker,omitempty"`
	}{LoadBalancers: members[xLoadBalancer]{}, NextMarker: next}
	for _, arn := range page {
		out.LoadBalancers = append(out.LoadBalancers, rs.LoadBalancers[arn].view())
	}
	return out, nil
}

type xTargetGroup struct {
	TargetGroupArn             string          `xml:"TargetGroupArn"`
	TargetGroupName            string          `xml:"TargetGroupName"`
	Protocol                   string          `xml:"Protocol"`
	Port                       int             `xml:"Port"`
	VpcID                      string          `xml:"VpcId"`
	HealthCheckProtocol        string          `xml:"HealthCheckProtocol"`
	HealthCheckPort            string          `xml:"HealthCheckPort"`
	HealthCheckEnabled         bool            `xml:"HealthCheckEnabled"`
	HealthCheckIntervalSeconds int             `xml:"HealthCheckIntervalSeconds"`
	HealthCheckTimeoutSeconds  int             `xml:"HealthCheckTimeoutSeconds"`
	HealthyThresholdCount      int             `xml:"HealthyThresholdCount"`
	UnhealthyThresholdCount    int             `xml:"UnhealthyThresholdCount"`
	HealthCheckPath            string          `xml:"HealthCheckPath,omitempty"`
	LoadBalancerArns           members[string] `xml:"LoadBalancerArns"`
	TargetType                 string          `xml:"TargetType"`
	IPAddressType              string          `xml:"IpAddressType"`
}

func (a *elbv2API) describeTargetGroups(rs *RegionState, _ *Request, p params) (any, error) {
	arns := p.list("TargetGroupArns.member")
	names := p.list("Names.member")
	lbArn := p.get("LoadBalancerArn")
	if lbArn != "" && rs.LoadBalancers[lbArn] == nil {
		return nil, lbNotFound()
	}
	var keys []string
	for arn, tg := range rs.TargetGroups {
		if len(arns) > 0 && !contains(arns, arn) {
			continue
		}
		if len(names) > 0 && !contains(names, tg.Name) {
			continue
		}
		if lbArn != "" && !contains(tg.LoadBalancerARNs, lbArn) {
			continue
		}
		keys = append(keys, arn)
	}
	if (len(arns) > 0 && len(keys) < len(arns)) || (len(names) > 0 && len(keys) == 0) {
		return nil, tgNotFound()
	}
	sort.Strings(keys)
	page, next, err := elbPage(p, keys)
	if err != nil {
		return nil, err
	}
	out := struct {
		TargetGroups members[xTargetGroup] `xml:"TargetGroups"`
		NextMarker   string                `xml:"NextMarker,omitempty"`
	}{TargetGroups: members[xTargetGroup]{}, NextMarker: next}
	for _, arn := range page {
		tg := rs.TargetGroups[arn]
		x := xTargetGroup{TargetGroupArn: tg.ARN, TargetGroupName: tg.Name, Protocol: tg.Protocol, Port: tg.Port, VpcID: tg.VpcID,
			HealthCheckProtocol: tg.Protocol, HealthCheckPort: "traffic-port", HealthCheckEnabled: true, HealthCheckIntervalSeconds: 30,
			HealthCheckTimeoutSeconds: 5, HealthyThresholdCount: 5, UnhealthyThresholdCount: 2,
			LoadBalancerArns: members[string](append([]string{}, tg.LoadBalancerARNs...)), TargetType: tg.TargetType, IPAddressType: "ipv4"}
		if strings.HasPrefix(tg.Protocol, "HTTP") {
			x.HealthCheckPath = "/"
		}
		out.TargetGroups = append(out.TargetGroups, x)
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (a *elbv2API) describeTargetHealth(rs *RegionState, _ *Request, p params) (any, error) {
	arn, err := p.require("TargetGroupArn")
	if err != nil {
		return nil, err
	}
	tg := rs.TargetGroups[arn]
	if tg == nil {
		return nil, tgNotFound()
	}
	type xTarget struct {
		ID   string `xml:"Id"`
		Port int    `xml:"Port"`
	}
	type xHealth struct {
		State       string `xml:"State"`
		Reason      string `xml:"Reason,omitempty"`
		Description string `xml:"Description,omitempty"`
	}
	type xDesc struct {
		Target          xTarget `xml:"Target"`
		HealthCheckPort string  `xml:"HealthCheckPort"`
		TargetHealth    xHealth `xml:"TargetHealth"`
	}
	want := p.indexed("Targets.member")
	out := struct {
		Descriptions members[xDesc] `xml:"TargetHealthDescriptions"`
	}{Descriptions: members[xDesc]{}}
	for _, t := range tg.Targets {
		if len(want) > 0 {
			match := false
			for _, w := range want {
				match = match || w["Id"] == t.ID
			}
			if !match {
				continue
			}
		}
		h := xHealth{State: t.Health}
		switch t.Health {
		case "unhealthy":
			h.Reason, h.Description = "Target.FailedHealthChecks", "Health checks failed"
		case "unused":
			h.Reason, h.Description = "Target.NotInUse", "Target group is not configured to receive traffic from the load balancer"
		}
		if len(tg.LoadBalancerARNs) == 0 && t.Health != "unused" {
			h = xHealth{State: "unused", Reason: "Target.NotInUse", Description: "Target group is not configured to receive traffic from the load balancer"}
		}
		out.Descriptions = append(out.Descriptions, xDesc{Target: xTarget{ID: t.ID, Port: t.Port}, HealthCheckPort: fmt.Sprint(t.Port), TargetHealth: h})
	}
	return out, nil
}

// deleteLoadBalancer succeeds for an unknown ARN, as ELBv2 does.
func (a *elbv2API) deleteLoadBalancer(rs *RegionState, _ *Request, p params) (any, error) {
	arn, err := p.require("LoadBalancerArn")
	if err != nil {
		return nil, err
	}
	delete(rs.LoadBalancers, arn)
	for _, tg := range rs.TargetGroups {
		kept := tg.LoadBalancerARNs[:0]
		for _, x := range tg.LoadBalancerARNs {
			if x != arn {
				kept = append(kept, x)
			}
		}
		tg.LoadBalancerARNs = kept
	}
	return struct{}{}, nil
}

func (a *elbv2API) describeTags(rs *RegionState, _ *Request, p params) (any, error) {
	arns := p.list("ResourceArns.member")
	if len(arns) == 0 {
		return nil, apiErr("ValidationError", "1 validation error detected: Value null at 'resourceArns' failed to satisfy constraint: Member must not be null")
	}
	type xDesc struct {
		ResourceArn string         `xml:"ResourceArn"`
		Tags        members[xqTag] `xml:"Tags"`
	}
	out := struct {
		TagDescriptions members[xDesc] `xml:"TagDescriptions"`
	}{TagDescriptions: members[xDesc]{}}
	for _, arn := range arns {
		var tags Tags
		switch {
		case rs.LoadBalancers[arn] != nil:
			tags = rs.LoadBalancers[arn].Tags
		case rs.TargetGroups[arn] != nil:
			tags = rs.TargetGroups[arn].Tags
		case strings.Contains(arn, ":targetgroup/"):
			return nil, tgNotFound()
		default:
			return nil, lbNotFound()
		}
		out.TagDescriptions = append(out.TagDescriptions, xDesc{ResourceArn: arn, Tags: xqTags(tags)})
	}
	return out, nil
}

func (a *elbv2API) describeLoadBalancerAttributes(rs *RegionState, _ *Request, p params) (any, error) {
	arn, err := p.require("LoadBalancerArn")
	if err != nil {
		return nil, err
	}
	lb := rs.LoadBalancers[arn]
	if lb == nil {
		return nil, lbNotFound()
	}
	attrs := [][2]string{{"deletion_protection.enabled", "false"}, {"load_balancing.cross_zone.enabled", "true"},
		{"access_logs.s3.enabled", "false"}, {"access_logs.s3.bucket", ""}, {"access_logs.s3.prefix", ""}}
	if lb.Type == "application" {
		attrs = append(attrs, [2]string{"idle_timeout.timeout_seconds", "60"}, [2]string{"routing.http2.enabled", "true"},
			[2]string{"routing.http.drop_invalid_header_fields.enabled", "false"})
	}
	out := struct {
		Attributes members[xqTag] `xml:"Attributes"`
	}{Attributes: members[xqTag]{}}
	for _, kv := range attrs {
		out.Attributes = append(out.Attributes, xqTag{Key: kv[0], Value: kv[1]})
	}
	return out, nil
}
