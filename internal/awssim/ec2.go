package awssim

import (
	"encoding/base64"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

const ec2Namespace = "http://ec2.amazonaws.com/doc/2016-11-15/"

// ec2 serves the EC2 API (ec2query protocol).
type ec2API struct{ sim *Sim }

func newEC2(s *Sim) *queryService {
	e := &ec2API{sim: s}
	actions := map[string]queryHandler{
		"DescribeVolumes":                e.describeVolumes,
		"CreateSnapshot":                 e.createSnapshot,
		"DescribeSnapshots":              e.describeSnapshots,
		"DeleteSnapshot":                 e.deleteSnapshot,
		"DeleteVolume":                   e.deleteVolume,
		"DetachVolume":                   e.detachVolume,
		"AttachVolume":                   e.attachVolume,
		"DescribeInstances":              e.describeInstances,
		"ModifyInstanceMetadataOptions":  e.modifyInstanceMetadataOptions,
		"StopInstances":                  e.stopInstances,
		"TerminateInstances":             e.terminateInstances,
		"ModifyInstanceAttribute":        e.modifyInstanceAttribute,
		"RunInstances":                   e.runInstances,
		"DescribeSecurityGroups":         e.describeSecurityGroups,
		"DescribeSecurityGroupRules":     e.describeSecurityGroupRules,
		"CreateSecurityGroup":            e.createSecurityGroup,
		"DeleteSecurityGroup":            e.deleteSecurityGroup,
		"AuthorizeSecurityGroupIngress":  e.authorize(false),
		"AuthorizeSecurityGroupEgress":   e.authorize(true),
		"RevokeSecurityGroupIngress":     e.revoke(false),
		"RevokeSecurityGroupEgress":      e.revoke(true),
		"DescribeAddresses":              e.describeAddresses,
		"AllocateAddress":                e.allocateAddress,
		"ReleaseAddress":                 e.releaseAddress,
		"DescribeInternetGateways":       e.describeInternetGateways,
		"AttachInternetGateway":          e.attachInternetGateway,
		"DetachInternetGateway":          e.detachInternetGateway,
		"CreateVpc":                      e.createVpc,
		"DeleteVpc":                      e.deleteVpc,
		"DescribeVpcs":                   e.describeVpcs,
		"GetInstanceMetadataDefaults":    e.getInstanceMetadataDefaults,
		"ModifyInstanceMetadataDefaults": e.modifyInstanceMetadataDefaults,
		"CreateTags":                     e.createTags,
		"DeleteTags":                     e.deleteTags,
		"DescribeTags":                   e.describeTags,
	}
	for name, h := range actions {
		actions[name] = dryRunAware(h)
	}
	return &queryService{name: "ec2", xmlns: ec2Namespace, ec2: true, actions: actions}
}

// dryRunAware answers DryRun=true requests with DryRunOperation.
func dryRunAware(h queryHandler) queryHandler {
	return func(r *Request, p params) (any, error) {
		if p.bool("DryRun") {
			return nil, &APIError{Status: http.StatusPreconditionFailed, Code: "DryRunOperation",
				Message: "Request would have succeeded, but DryRun flag is set.", Sender: true}
		}
		return h(r, p)
	}
}

// ec2Filter is one Filter.N of an EC2 Describe call.
type ec2Filter struct {
	name   string
	values []string
}

func parseFilters(p params) ([]ec2Filter, error) {
	var out []ec2Filter
	for _, g := range p.indexed("Filter") {
		name := g["Name"]
		if name == "" {
			return nil, apiErr("InvalidParameterValue", "The filter 'null' is invalid")
		}
		out = append(out, ec2Filter{name: name, values: g.list("Value")})
	}
	return out, nil
}

// filterFunc returns a resource's values for a filter name; ok is false
// for a filter name the resource type does not support.
type filterFunc func(name string) (values []string, ok bool)

// matchFilters reports whether a resource passes every filter: a filter
// matches when any of its values matches any of the resource's values.
func matchFilters(filters []ec2Filter, f filterFunc) (bool, error) {
	for _, flt := range filters {
		have, ok := f(flt.name)
		if !ok {
			return false, apiErr("InvalidParameterValue", "The filter '%s' is invalid", flt.name)
		}
		if !anyMatch(flt.values, have) {
			return false, nil
		}
	}
	return true, nil
}

func anyMatch(patterns, values []string) bool {
	for _, pat := range patterns {
		for _, v := range values {
			if globMatch(pat, v) {
				return true
			}
		}
	}
	return false
}

// globMatch matches EC2 filter wildcards: * any run, ? one character,
// backslash escapes the next character.
func globMatch(pat, s string) bool {
	if !strings.ContainsAny(pat, `*?\`) {
		return pat == s
	}
	p, str := []rune(pat), []rune(s)
	// Iterative matcher with backtracking on the last star.
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(str) {
		if pi < len(p) {
			switch c := p[pi]; {
			case c == '*':
				star, mark = pi, si
				pi++
				continue
			case c == '?':
				pi++
				si++
				continue
			case c == '\\' && pi+1 < len(p):
				if p[pi+1] == str[si] {
					pi += 2
					si++
					continue
				}
			case c == str[si]:
				pi++
				si++
				continue
			}
		}
		if star < 0 {
			return false
		}
		pi = star + 1
		mark++
		si = mark
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// tagFilter serves the tag:KEY, tag-key and tag-value filters.
func tagFilter(ts Tags, name string) ([]string, bool) {
	switch {
	case strings.HasPrefix(name, "tag:"):
		if v, ok := ts.Get(name[4:]); ok {
			return []string{v}, true
		}
		return nil, true
	case name == "tag-key":
		out := make([]string, 0, len(ts))
		for _, t := range ts {
			out = append(out, t.Key)
		}
		return out, true
	case name == "tag-value":
		out := make([]string, 0, len(ts))
		for _, t := range ts {
			out = append(out, t.Value)
		}
		return out, true
	}
	return nil, false
}

func boolStr(b bool) string { return strconv.FormatBool(b) }

// ec2Page reads MaxResults and NextToken the way EC2 does: MaxResults
// must be 5..1000 (absent means "everything"), and the token is opaque.
type ec2Page struct {
	max   int    // 0: no paging
	after string // resume after this id
}

func parsePage(p params, min, maxAllowed int, idsGiven bool, listName string) (ec2Page, error) {
	var pg ec2Page
	n, ok, err := p.int("MaxResults")
	if err != nil {
		return pg, err
	}
	if ok {
		if idsGiven {
			return pg, apiErr("InvalidParameterCombination", "The parameter %s cannot be used with the parameter maxResults", listName)
		}
		if n < min || n > maxAllowed {
			return pg, apiErr("InvalidParameterValue", "Value ( %d ) for parameter maxResults is invalid. Expecting a value greater than %d.", n, min-1)
		}
		pg.max = n
	}
	if tok := p.get("NextToken"); tok != "" {
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || !strings.HasPrefix(string(raw), "after:") {
			return pg, apiErr("InvalidParameterValue", "Invalid value '%s' for nextToken", tok)
		}
		pg.after = string(raw[len("after:"):])
		if pg.max == 0 {
			pg.max = maxAllowed
		}
	}
	return pg, nil
}

// window returns the ids of one page (before filtering, as EC2 pages
// first and filters the page) and the token for the next page ("" at the end).
func (pg ec2Page) window(sorted []string) ([]string, string) {
	start := 0
	if pg.after != "" {
		start = sort.SearchStrings(sorted, pg.after)
		if start < len(sorted) && sorted[start] == pg.after {
			start++
		}
	}
	if pg.max == 0 {
		return sorted[start:], ""
	}
	end := start + pg.max
	if end >= len(sorted) {
		return sorted[start:], ""
	}
	page := sorted[start:end]
	return page, base64.RawURLEncoding.EncodeToString([]byte("after:" + page[len(page)-1]))
}

// idList reads Prefix.N ids and rejects malformed ones.
func idList(p params, key, prefix, malformedCode string) ([]string, error) {
	ids := p.list(key)
	for _, id := range ids {
		if !strings.HasPrefix(id, prefix+"-") {
			return nil, apiErr(malformedCode, "Invalid id: \"%s\" (expecting \"%s-...\")", id, prefix)
		}
	}
	return ids, nil
}

// notFoundMany builds EC2's not-found error for one or several ids.
func notFoundMany(code, noun, nounPlural string, missing []string, period string) error {
	if len(missing) == 1 {
		return apiErr(code, "The %s '%s' does not exist%s", noun, missing[0], period)
	}
	return apiErr(code, "The %s '%s' do not exist%s", nounPlural, strings.Join(missing, ", "), period)
}

func errVolumeNotFound(ids ...string) error {
	return notFoundMany("InvalidVolume.NotFound", "volume", "volumes", ids, ".")
}

func errInstanceNotFound(ids ...string) error {
	return notFoundMany("InvalidInstanceID.NotFound", "instance ID", "instance IDs", ids, "")
}

func errSnapshotNotFound(ids ...string) error {
	return notFoundMany("InvalidSnapshot.NotFound", "snapshot", "snapshots", ids, ".")
}

func errGroupNotFound(id string) error {
	return apiErr("InvalidGroup.NotFound", "The security group '%s' does not exist", id)
}

// tagSpecs reads TagSpecification.N.ResourceType / .Tag.M.Key / .Value for
// one resource type.
func tagSpecs(p params, resourceType string) Tags {
	var out Tags
	for _, g := range p.indexed("TagSpecification") {
		if rt := g["ResourceType"]; rt != "" && rt != resourceType {
			continue
		}
		out = out.set(readTags(g, "Tag"))
	}
	return out
}

// readTags reads Prefix.N.Key / Prefix.N.Value.
func readTags(p params, prefix string) []Tag {
	var out []Tag
	for _, g := range p.indexed(prefix) {
		out = append(out, Tag{Key: g["Key"], Value: g["Value"]})
	}
	return out
}

// settleAt is when a transition started now becomes final.
func (e *ec2API) settleAt(now time.Time) time.Time { return now.Add(e.sim.opts.SettleDelay) }

// resourceType names the EC2 resource type of an id, for DescribeTags.
func resourceType(id string) string {
	prefix, _, _ := strings.Cut(id, "-")
	switch prefix {
	case "vol":
		return "volume"
	case "snap":
		return "snapshot"
	case "i":
		return "instance"
	case "sg":
		return "security-group"
	case "sgr":
		return "security-group-rule"
	case "eipalloc":
		return "elastic-ip"
	case "igw":
		return "internet-gateway"
	case "vpc":
		return "vpc"
	}
	return ""
}

// tagsOf returns a pointer to the tags of any taggable EC2 resource.
func (rs *RegionState) tagsOf(id string) (*Tags, error) {
	switch resourceType(id) {
	case "volume":
		if v := rs.Volumes[id]; v != nil {
			return &v.Tags, nil
		}
		return nil, errVolumeNotFound(id)
	case "snapshot":
		if v := rs.Snapshots[id]; v != nil {
			return &v.Tags, nil
		}
		return nil, errSnapshotNotFound(id)
	case "instance":
		if v := rs.Instances[id]; v != nil {
			return &v.Tags, nil
		}
		return nil, errInstanceNotFound(id)
	case "security-group":
		if v := rs.SecurityGroups[id]; v != nil {
			return &v.Tags, nil
		}
		return nil, errGroupNotFound(id)
	case "elastic-ip":
		if v := rs.Addresses[id]; v != nil {
			return &v.Tags, nil
		}
		return nil, apiErr("InvalidAllocationID.NotFound", "The allocation ID '%s' does not exist", id)
	case "internet-gateway":
		if v := rs.InternetGateways[id]; v != nil {
			return &v.Tags, nil
		}
		return nil, apiErr("InvalidInternetGatewayID.NotFound", "The internetGateway ID '%s' does not exist", id)
	case "vpc":
		if v := rs.Vpcs[id]; v != nil {
			return &v.Tags, nil
		}
		return nil, errVpcNotFound(id)
	}
	return nil, apiErr("InvalidID", "The ID '%s' is not valid", id)
}

func (e *ec2API) createTags(r *Request, p params) (any, error) {
	ids := p.list("ResourceId")
	if len(ids) == 0 {
		return nil, apiErr("MissingParameter", "The request must contain the parameter resourceIdSet")
	}
	tags := readTags(p, "Tag")
	if len(tags) == 0 {
		return nil, apiErr("MissingParameter", "The request must contain the parameter tagSet")
	}
	for _, t := range tags {
		if strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
			return nil, apiErr("InvalidParameterValue", "Tag keys starting with 'aws:' are reserved for internal use")
		}
	}
	rs, unlock, err := e.sim.lockedRegion(r)
	if err != nil {
		return nil, err
	}
	defer unlock()
	ptrs := make([]*Tags, 0, len(ids))
	for _, id := range ids {
		tp, err := rs.tagsOf(id)
		if err != nil {
			return nil, err
		}
		ptrs = append(ptrs, tp)
	}
	for _, tp := range ptrs {
		*tp = tp.set(tags)
	}
	return returnTrue{Return: true}, nil
}

func (e *ec2API) deleteTags(r *Request, p params) (any, error) {
	ids := p.list("ResourceId")
	if len(ids) == 0 {
		return nil, apiErr("MissingParameter", "The request must contain the parameter resourceIdSet")
	}
	var del []Tag
	var matchValue []bool
	for _, g := range p.indexed("Tag") {
		v, has := g["Value"]
		del = append(del, Tag{Key: g["Key"], Value: v})
		matchValue = append(matchValue, has)
	}
	rs, unlock, err := e.sim.lockedRegion(r)
	if err != nil {
		return nil, err
	}
	defer unlock()
	for _, id := range ids {
		tp, err := rs.tagsOf(id)
		if err != nil {
			return nil, err
		}
		if len(del) == 0 {
			*tp = nil
			continue
		}
		*tp = tp.remove(del, matchValue)
	}
	return returnTrue{Return: true}, nil
}

type returnTrue struct {
	Return bool `xml:"return"`
}

func (e *ec2API) describeTags(r *Request, p params) (any, error) {
	filters, err := parseFilters(p)
	if err != nil {
		return nil, err
	}
	pg, err := parsePage(p, 5, 1000, false, "")
	if err != nil {
		return nil, err
	}
	rs, unlock, err := e.sim.lockedRegion(r)
	if err != nil {
		return nil, err
	}
	defer unlock()
	var all []xTagDescription
	add := func(id string, ts Tags) {
		for _, t := range ts {
			all = append(all, xTagDescription{ResourceID: id, ResourceType: resourceType(id), Key: t.Key, Value: t.Value})
		}
	}
	for _, id := range sortedIDs(rs.Volumes, &rs.volIDs) {
		add(id, rs.Volumes[id].Tags)
	}
	for _, id := range sortedIDs(rs.Snapshots, &rs.snapIDs) {
		add(id, rs.Snapshots[id].Tags)
	}
	for _, id := range sortedIDs(rs.Instances, &rs.instIDs) {
		add(id, rs.Instances[id].Tags)
	}
	for _, id := range sortedKeys(rs.SecurityGroups) {
		add(id, rs.SecurityGroups[id].Tags)
	}
	for _, id := range sortedKeys(rs.Addresses) {
		add(id, rs.Addresses[id].Tags)
	}
	for _, id := range sortedKeys(rs.InternetGateways) {
		add(id, rs.InternetGateways[id].Tags)
	}
	for _, id := range sortedKeys(rs.Vpcs) {
		add(id, rs.Vpcs[id].Tags)
	}
	sort.SliceStable(all, func(i, j int) bool {
		if all[i].ResourceID != all[j].ResourceID {
			return all[i].ResourceID < all[j].ResourceID
		}
		return all[i].Key < all[j].Key
	})
	keys := make([]string, len(all))
	for i, t := range all {
		keys[i] = t.ResourceID + "\x00" + t.Key
	}
	page, next := pg.window(keys)
	start := 0
	if len(page) > 0 {
		start = sort.SearchStrings(keys, page[0])
	}
	out := struct {
		Tags      set[xTagDescription] `xml:"tagSet"`
		NextToken string               `xml:"nextToken,omitempty"`
	}{NextToken: next}
	for i := start; i < start+len(page); i++ {
		t := all[i]
		ok, err := matchFilters(filters, func(name string) ([]string, bool) {
			switch name {
			case "resource-id":
				return []string{t.ResourceID}, true
			case "resource-type":
				return []string{t.ResourceType}, true
			case "key":
				return []string{t.Key}, true
			case "value":
				return []string{t.Value}, true
			}
			return nil, false
		})
		if err != nil {
			return nil, err
		}
		if ok {
			out.Tags = append(out.Tags, t)
		}
	}
	return out, nil
}
