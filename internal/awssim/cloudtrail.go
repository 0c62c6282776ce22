package awssim

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// CloudTrailEvent is one recorded management event that LookupEvents
// returns. Seed it from the fields, from Raw (a CloudTrail record, as
// delivered to S3 or EventBridge's "detail"), or both: fields left empty
// are taken from Raw, and Raw is built from the fields when empty.
type CloudTrailEvent struct {
	EventID     string               `yaml:"event_id"`
	EventName   string               `yaml:"event_name"`
	EventSource string               `yaml:"event_source"`
	EventTime   time.Time            `yaml:"event_time"`
	Username    string               `yaml:"username"`
	AccessKeyID string               `yaml:"access_key_id"`
	ReadOnly    *bool                `yaml:"read_only"`
	Region      string               `yaml:"region"`
	Resources   []CloudTrailResource `yaml:"resources"`
	// Raw is the event's CloudTrail record JSON (LookupEvents' CloudTrailEvent).
	Raw string `yaml:"raw"`
}

// CloudTrailResource is a resource an event names.
type CloudTrailResource struct {
	Type string `yaml:"type" json:"ResourceType"`
	Name string `yaml:"name" json:"ResourceName"`
}

// cloudtrailService serves LookupEvents (awsJson1_1) over seeded events,
// kept per (account, region).
type cloudtrailService struct {
	*jsonService
	sim *Sim

	mu     sync.Mutex
	events map[string][]CloudTrailEvent // "account/region" -> newest first
}

func newCloudTrail(s *Sim) *cloudtrailService {
	c := &cloudtrailService{sim: s, events: map[string][]CloudTrailEvent{}}
	c.jsonService = &jsonService{name: "cloudtrail", prefix: "CloudTrail_20131101",
		ops: map[string]jsonHandler{"LookupEvents": c.lookupEvents}}
	return c
}

// fill completes an event from its Raw record, and Raw from its fields.
func (ev *CloudTrailEvent) fill(account, region string, now time.Time, id func() string) error {
	var raw map[string]any
	if ev.Raw != "" {
		if err := json.Unmarshal([]byte(ev.Raw), &raw); err != nil {
			return fmt.Errorf("cloudtrail event %s: %w: raw is not JSON: %v", ev.EventID, ErrInvalidScenario, err)
		}
	}
	str := func(m map[string]any, k string) string { s, _ := m[k].(string); return s }
	if raw != nil {
		if ev.EventID == "" {
			ev.EventID = str(raw, "eventID")
		}
		if ev.EventName == "" {
			ev.EventName = str(raw, "eventName")
		}
		if ev.EventSource == "" {
			ev.EventSource = str(raw, "eventSource")
		}
		if ev.EventTime.IsZero() {
			ev.EventTime = parseEventTime(str(raw, "eventTime"))
		}
		if ev.Region == "" {
			ev.Region = str(raw, "awsRegion")
		}
		uid, _ := raw["userIdentity"].(map[string]any)
		if ev.AccessKeyID == "" {
			ev.AccessKeyID = str(uid, "accessKeyId")
		}
		if ev.Username == "" {
			ev.Username = cloudTrailUsername(uid)
		}
		if ev.ReadOnly == nil {
			if b, ok := raw["readOnly"].(bool); ok {
				ev.ReadOnly = &b
			}
		}
		if len(ev.Resources) == 0 {
			rs, _ := raw["resources"].([]any)
			for _, x := range rs {
				m, _ := x.(map[string]any)
				if arn := str(m, "ARN"); arn != "" {
					ev.Resources = append(ev.Resources, CloudTrailResource{Type: str(m, "type"), Name: arn})
				}
			}
		}
		if len(ev.Resources) == 0 {
			// CloudTrail derives a call's resources from its parameters
			// (AttachVolume names the volume and the instance).
			seen := map[CloudTrailResource]bool{}
			collectResources(raw["requestParameters"], 0, seen, &ev.Resources)
			collectResources(raw["responseElements"], 0, seen, &ev.Resources)
		}
	}
	if ev.EventID == "" {
		ev.EventID = id()
	}
	if ev.EventTime.IsZero() {
		ev.EventTime = now
	}
	ev.EventTime = ev.EventTime.UTC()
	if ev.Region == "" {
		ev.Region = region
	}
	if ev.Raw == "" {
		rec := map[string]any{"eventVersion": "1.08", "eventID": ev.EventID, "eventName": ev.EventName,
			"eventSource": ev.EventSource, "eventTime": ev.EventTime.Format(time.RFC3339), "awsRegion": ev.Region,
			"eventType": "AwsApiCall", "recipientAccountId": account, "managementEvent": true, "eventCategory": "Management",
			"userIdentity": map[string]any{"type": "IAMUser", "accountId": account, "userName": ev.Username,
				"accessKeyId": ev.AccessKeyID, "arn": fmt.Sprintf("arn:aws:iam::%s:user/%s", account, ev.Username)}}
		if ev.ReadOnly != nil {
			rec["readOnly"] = *ev.ReadOnly
		}
		var res []any
		for _, r := range ev.Resources {
			res = append(res, map[string]any{"ARN": r.Name, "type": r.Type, "accountId": account})
		}
		if res != nil {
			rec["resources"] = res
		}
		b, _ := json.Marshal(rec)
		ev.Raw = string(b)
	}
	ev.Resources = append([]CloudTrailResource(nil), ev.Resources...)
	return nil
}

// resourceParams maps request parameter names to the resource types
// LookupEvents reports for them.
var resourceParams = map[string]string{
	"volumeId": "AWS::EC2::Volume", "instanceId": "AWS::EC2::Instance", "groupId": "AWS::EC2::SecurityGroup",
	"snapshotId": "AWS::EC2::Snapshot", "allocationId": "AWS::EC2::EIP", "internetGatewayId": "AWS::EC2::InternetGateway",
	"vpcId": "AWS::EC2::VPC", "subnetId": "AWS::EC2::Subnet", "bucketName": "AWS::S3::Bucket", "userName": "AWS::IAM::User",
	"roleName": "AWS::IAM::Role", "policyArn": "AWS::IAM::Policy", "accessKeyId": "AWS::IAM::AccessKey",
	"dBInstanceIdentifier": "AWS::RDS::DBInstance", "dBSnapshotIdentifier": "AWS::RDS::DBSnapshot",
	"loadBalancerArn": "AWS::ElasticLoadBalancingV2::LoadBalancer", "targetGroupArn": "AWS::ElasticLoadBalancingV2::TargetGroup",
	"hostedZoneId": "AWS::Route53::HostedZone", "topicArn": "AWS::SNS::Topic",
}

// collectResources walks request or response parameters (a few levels
// deep, through lists) for the names resourceParams knows.
func collectResources(v any, depth int, seen map[CloudTrailResource]bool, out *[]CloudTrailResource) {
	if depth > 6 {
		return
	}
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if typ, ok := resourceParams[k]; ok {
				if name, ok := x[k].(string); ok && name != "" {
					r := CloudTrailResource{Type: typ, Name: name}
					if !seen[r] {
						seen[r] = true
						*out = append(*out, r)
					}
					continue
				}
			}
			collectResources(x[k], depth+1, seen, out)
		}
	case []any:
		for _, e := range x {
			collectResources(e, depth+1, seen, out)
		}
	}
}

// parseEventTime reads a record's eventTime: RFC 3339 as CloudTrail
// writes it, or the "2006-01-02 15:04:05.000" UTC form some log pipelines
// (Panther) rewrite it to. It returns the zero time for anything else.
func parseEventTime(s string) time.Time {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// cloudTrailUsername is the Username LookupEvents shows for an identity.
func cloudTrailUsername(uid map[string]any) string {
	if uid == nil {
		return ""
	}
	if n, _ := uid["userName"].(string); n != "" {
		return n
	}
	t, _ := uid["type"].(string)
	arn, _ := uid["arn"].(string)
	switch t {
	case "Root":
		return "root"
	case "AssumedRole", "FederatedUser":
		if i := strings.LastIndex(arn, "/"); i >= 0 {
			return arn[i+1:]
		}
	}
	if sc, ok := uid["sessionContext"].(map[string]any); ok {
		if si, ok := sc["sessionIssuer"].(map[string]any); ok {
			n, _ := si["userName"].(string)
			return n
		}
	}
	return ""
}

// AddCloudTrailEvents records events for LookupEvents in an account; an
// event's region is its Region, else the one of its Raw record, else region.
func (s *Sim) AddCloudTrailEvents(account, region string, events ...CloudTrailEvent) error {
	if _, err := s.account(account); err != nil {
		return err
	}
	c, _ := s.service("cloudtrail").(*cloudtrailService)
	if c == nil {
		return fmt.Errorf("add cloudtrail events: %w: cloudtrail not registered", ErrInvalidScenario)
	}
	now := s.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	touched := map[string]bool{}
	for _, ev := range events {
		if err := ev.fill(account, region, now, s.requestID); err != nil {
			return err
		}
		k := account + "/" + ev.Region
		c.events[k] = append(c.events[k], ev)
		touched[k] = true
	}
	for k := range touched {
		evs := c.events[k]
		sort.SliceStable(evs, func(i, j int) bool {
			if !evs[i].EventTime.Equal(evs[j].EventTime) {
				return evs[i].EventTime.After(evs[j].EventTime)
			}
			return evs[i].EventID < evs[j].EventID
		})
	}
	return nil
}

type lookupAttribute struct {
	AttributeKey   string
	AttributeValue string
}

type xTrailEvent struct {
	EventID         string               `json:"EventId"`
	EventName       string               `json:"EventName"`
	ReadOnly        string               `json:"ReadOnly,omitempty"`
	AccessKeyID     string               `json:"AccessKeyId,omitempty"`
	EventTime       epochSeconds         `json:"EventTime"`
	EventSource     string               `json:"EventSource"`
	Username        string               `json:"Username,omitempty"`
	Resources       []CloudTrailResource `json:"Resources"`
	CloudTrailEvent string               `json:"CloudTrailEvent"`
}

func (ev *CloudTrailEvent) matches(a lookupAttribute) bool {
	v := a.AttributeValue
	switch a.AttributeKey {
	case "EventId":
		return ev.EventID == v
	case "EventName":
		return ev.EventName == v
	case "EventSource":
		return ev.EventSource == v
	case "Username":
		return ev.Username == v
	case "AccessKeyId":
		return ev.AccessKeyID == v
	case "ReadOnly":
		return ev.ReadOnly != nil && strconv.FormatBool(*ev.ReadOnly) == v
	case "ResourceType", "ResourceName":
		for _, r := range ev.Resources {
			if (a.AttributeKey == "ResourceType" && r.Type == v) || (a.AttributeKey == "ResourceName" && r.Name == v) {
				return true
			}
		}
	}
	return false
}

var lookupKeys = map[string]bool{"EventId": true, "EventName": true, "ReadOnly": true, "Username": true,
	"ResourceType": true, "ResourceName": true, "EventSource": true, "AccessKeyId": true}

func (c *cloudtrailService) lookupEvents(r *Request, body []byte) (any, error) {
	var in struct {
		LookupAttributes []lookupAttribute
		StartTime        *epochSeconds
		EndTime          *epochSeconds
		EventCategory    string
		MaxResults       *int
		NextToken        *string
	}
	if err := decodeJSONBody(body, &in); err != nil {
		return nil, err
	}
	if len(in.LookupAttributes) > 1 {
		return nil, apiErr("InvalidLookupAttributesException", "You cannot specify more than one lookup attribute.")
	}
	for _, a := range in.LookupAttributes {
		if !lookupKeys[a.AttributeKey] {
			return nil, apiErr("InvalidLookupAttributesException", "Invalid attribute key: %s", a.AttributeKey)
		}
		if a.AttributeValue == "" {
			return nil, apiErr("InvalidLookupAttributesException", "AttributeValue cannot be empty.")
		}
	}
	if in.EventCategory != "" && in.EventCategory != "insight" {
		return nil, apiErr("InvalidEventCategoryException", "Invalid EventCategory: %s", in.EventCategory)
	}
	limit := 50
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 50 {
			return nil, apiErr("InvalidMaxResultsException", "Value %d for MaxResults is invalid. It must be between 1 and 50.", *in.MaxResults)
		}
		limit = *in.MaxResults
	}
	now := c.sim.Now()
	start, end := now.Add(-90*24*time.Hour), now
	if in.StartTime != nil {
		start = time.Time(*in.StartTime)
	}
	if in.EndTime != nil {
		end = time.Time(*in.EndTime)
	}
	if start.After(end) {
		return nil, apiErr("InvalidTimeRangeException", "Start time must be before end time.")
	}
	skip := 0
	if in.NextToken != nil {
		n, ok := parsePageToken("ctnt", *in.NextToken)
		if !ok {
			return nil, apiErr("InvalidNextTokenException", "Invalid NextToken: %s", *in.NextToken)
		}
		skip = n
	}
	out := struct {
		Events    []xTrailEvent `json:"Events"`
		NextToken string        `json:"NextToken,omitempty"`
	}{Events: []xTrailEvent{}}
	if in.EventCategory == "insight" {
		return out, nil
	}
	c.mu.Lock()
	evs := c.events[r.Account+"/"+r.Region]
	seen := 0
	for i := range evs {
		ev := &evs[i]
		if ev.EventTime.Before(start) || ev.EventTime.After(end) {
			continue
		}
		if len(in.LookupAttributes) == 1 && !ev.matches(in.LookupAttributes[0]) {
			continue
		}
		seen++
		if seen <= skip {
			continue
		}
		if len(out.Events) == limit {
			out.NextToken = pageToken("ctnt", skip+limit)
			break
		}
		x := xTrailEvent{EventID: ev.EventID, EventName: ev.EventName, AccessKeyID: ev.AccessKeyID,
			EventTime: epochSeconds(ev.EventTime), EventSource: ev.EventSource, Username: ev.Username,
			Resources: append([]CloudTrailResource{}, ev.Resources...), CloudTrailEvent: ev.Raw}
		if ev.ReadOnly != nil {
			x.ReadOnly = strconv.FormatBool(*ev.ReadOnly)
		}
		out.Events = append(out.Events, x)
	}
	c.mu.Unlock()
	return out, nil
}
