package awssim

import (
	"fmt"
	"strconv"
	"strings"
)

// normalizeProtocol maps protocol names and numbers to AWS's stored form.
func normalizeProtocol(p string) (string, error) {
	switch strings.ToLower(p) {
	case "tcp", "6":
		return "tcp", nil
	case "udp", "17":
		return "udp", nil
	case "icmp", "1":
		return "icmp", nil
	case "icmpv6", "58":
		return "icmpv6", nil
	case "-1", "all":
		return "-1", nil
	}
	if n, err := strconv.Atoi(p); err == nil && n >= 0 && n <= 255 {
		return p, nil
	}
	return "", apiErr("InvalidParameterValue", "Invalid value '%s' for IP protocol. Unknown protocol.", p)
}

// permissionsToRules expands IpPermissions.N (or the legacy flat
// parameters) into one rule per source.
func permissionsToRules(p params) ([]SecurityGroupRule, error) {
	perms := p.indexed("IpPermissions")
	if len(perms) == 0 && p.has("IpProtocol") {
		legacy := params{"IpProtocol": p.get("IpProtocol"), "FromPort": p.get("FromPort"), "ToPort": p.get("ToPort")}
		if c := p.get("CidrIp"); c != "" {
			legacy["IpRanges.1.CidrIp"] = c
		}
		if g := p.get("SourceSecurityGroupId"); g != "" {
			legacy["Groups.1.GroupId"] = g
		}
		perms = []params{legacy}
	}
	var out []SecurityGroupRule
	for _, perm := range perms {
		proto, err := normalizeProtocol(perm.get("IpProtocol"))
		if err != nil {
			return nil, err
		}
		from, hasFrom, err := perm.int("FromPort")
		if err != nil {
			return nil, err
		}
		to, hasTo, err := perm.int("ToPort")
		if err != nil {
			return nil, err
		}
		switch proto {
		case "tcp", "udp":
			if !hasFrom || !hasTo {
				return nil, apiErr("InvalidParameterValue", "Invalid value 'Must specify both from and to ports with TCP/UDP.' for portRange")
			}
			if from < 0 || to > 65535 || from > to {
				return nil, apiErr("InvalidParameterValue", "Invalid value 'Invalid port range (%d-%d)' for portRange", from, to)
			}
		case "-1":
			from, to = 0, 0
		default:
			if !hasFrom {
				from = -1
			}
			if !hasTo {
				to = -1
			}
		}
		base := SecurityGroupRule{Protocol: proto, FromPort: from, ToPort: to}
		n := 0
		for _, g := range perm.indexed("IpRanges") {
			rule := base
			rule.CidrIPv4, rule.Description = g["CidrIp"], g["Description"]
			if !strings.Contains(rule.CidrIPv4, "/") {
				return nil, apiErr("InvalidParameterValue", "CIDR block %s is malformed", rule.CidrIPv4)
			}
			out = append(out, rule)
			n++
		}
		for _, g := range perm.indexed("Ipv6Ranges") {
			rule := base
			rule.CidrIPv6, rule.Description = g["CidrIpv6"], g["Description"]
			if !strings.Contains(rule.CidrIPv6, "/") {
				return nil, apiErr("InvalidParameterValue", "CIDR block %s is malformed", rule.CidrIPv6)
			}
			out = append(out, rule)
			n++
		}
		for _, g := range perm.indexed("Groups") {
			rule := base
			rule.GroupID, rule.Description = g["GroupId"], g["Description"]
			if rule.GroupID == "" {
				return nil, apiErr("InvalidParameterValue", "A group id is required for a group source")
			}
			out = append(out, rule)
			n++
		}
		for _, g := range perm.indexed("PrefixListIds") {
			rule := base
			rule.PrefixList, rule.Description = g["PrefixListId"], g["Description"]
			out = append(out, rule)
			n++
		}
		if n == 0 {
			return nil, apiErr("MissingParameter", "Either IpRanges, Ipv6Ranges, PrefixListIds or Groups must be specified")
		}
	}
	if len(out) == 0 {
		return nil, apiErr("MissingParameter", "The request must contain the parameter ipPermissions")
	}
	return out, nil
}

// sameRule compares rules by what they allow, ignoring id and description.
func sameRule(a, b SecurityGroupRule) bool {
	return a.Protocol == b.Protocol && a.FromPort == b.FromPort && a.ToPort == b.ToPort && a.CidrIPv4 == b.CidrIPv4 &&
		a.CidrIPv6 == b.CidrIPv6 && a.GroupID == b.GroupID && a.PrefixList == b.PrefixList
}

func (r SecurityGroupRule) peer() string {
	switch {
	case r.CidrIPv4 != "":
		return r.CidrIPv4
	case r.CidrIPv6 != "":
		return r.CidrIPv6
	case r.GroupID != "":
		return r.GroupID
	}
	return r.PrefixList
}

// permissions groups rules into IpPermissions by protocol and port range.
func permissions(rules []SecurityGroupRule, owner string) set[xIPPermission] {
	out := set[xIPPermission]{}
	idx := map[string]int{}
	for _, r := range rules {
		key := fmt.Sprintf("%s/%d/%d", r.Protocol, r.FromPort, r.ToPort)
		i, ok := idx[key]
		if !ok {
			perm := xIPPermission{IPProtocol: r.Protocol, Groups: set[xUserIDGroupPair]{}, IPRanges: set[xIPRange]{},
				IPv6Ranges: set[xIPv6Range]{}, PrefixListIDs: set[xPrefixListID]{}}
			if r.Protocol != "-1" {
				from, to := r.FromPort, r.ToPort
				perm.FromPort, perm.ToPort = &from, &to
			}
			i = len(out)
			idx[key] = i
			out = append(out, perm)
		}
		p := &out[i]
		switch {
		case r.CidrIPv4 != "":
			p.IPRanges = append(p.IPRanges, xIPRange{CidrIP: r.CidrIPv4, Description: r.Description})
		case r.CidrIPv6 != "":
			p.IPv6Ranges = append(p.IPv6Ranges, xIPv6Range{CidrIPv6: r.CidrIPv6, Description: r.Description})
		case r.GroupID != "":
			p.Groups = append(p.Groups, xUserIDGroupPair{UserID: owner, GroupID: r.GroupID, Description: r.Description})
		case r.PrefixList != "":
			p.PrefixListIDs = append(p.PrefixListIDs, xPrefixListID{PrefixListID: r.PrefixList, Description: r.Description})
		}
	}
	return out
}

func (sg *SecurityGroup) view(s *Sim, rs *RegionState) xSecurityGroup {
	return xSecurityGroup{OwnerID: rs.Account, GroupID: sg.ID, GroupName: sg.Name, GroupDescription: sg.Description,
		VpcID: sg.VpcID, SecurityGroupArn: s.arn("ec2", rs.Region, rs.Account, "security-group/"+sg.ID),
		IPPermissions: permissions(sg.Ingress, rs.Account), IPPermissionsEgress: permissions(sg.Egress, rs.Account),
		Tags: xTags(sg.Tags)}
}

func ruleFilter(rules []SecurityGroupRule, name string) []string {
	var out []string
	for _, r := range rules {
		switch name {
		case "cidr":
			if r.CidrIPv4 != "" {
				out = append(out, r.CidrIPv4)
			}
		case "ipv6-cidr":
			if r.CidrIPv6 != "" {
				out = append(out, r.CidrIPv6)
			}
		case "from-port":
			out = append(out, strconv.Itoa(r.FromPort))
		case "to-port":
			out = append(out, strconv.Itoa(r.ToPort))
		case "protocol":
			out = append(out, r.Protocol)
		case "group-id":
			if r.GroupID != "" {
				out = append(out, r.GroupID)
			}
		case "prefix-list-id":
			if r.PrefixList != "" {
				out = append(out, r.PrefixList)
			}
		}
	}
	return out
}

func (sg *SecurityGroup) filter(owner string) filterFunc {
	return func(name string) ([]string, bool) {
		one := func(s string) ([]string, bool) { return []string{s}, true }
		switch name {
		case "group-id":
			return one(sg.ID)
		case "group-name":
			return one(sg.Name)
		case "description":
			return one(sg.Description)
		case "vpc-id":
			return one(sg.VpcID)
		case "owner-id":
			return one(owner)
		}
		for prefix, rules := range map[string][]SecurityGroupRule{"ip-permission.": sg.Ingress, "egress.ip-permission.": sg.Egress} {
			if strings.HasPrefix(name, prefix) {
				sub := name[len(prefix):]
				switch sub {
				case "cidr", "ipv6-cidr", "from-port", "to-port", "protocol", "group-id", "prefix-list-id":
					return ruleFilter(rules, sub), true
				}
			}
		}
		return tagFilter(sg.Tags, name)
	}
}

func (e *ec2API) describeSecurityGroups(r *Request, p params) (any, error) {
	ids, err := idList(p, "GroupId", "sg", "InvalidGroupId.Malformed")
	if err != nil {
		return nil, err
	}
	names := p.list("GroupName")
	filters, err := parseFilters(p)
	if err != nil {
		return nil, err
	}
	pg, err := parsePage(p, 5, 1000, len(ids) > 0 || len(names) > 0, "groupIdSet")
	if err != nil {
		return nil, err
	}
	rs, unlock, err := e.sim.lockedRegion(r)
	if err != nil {
		return nil, err
	}
	defer unlock()
	out := struct {
		Groups    set[xSecurityGroup] `xml:"securityGroupInfo"`
		NextToken string              `xml:"nextToken,omitempty"`
	}{Groups: set[xSecurityGroup]{}}
	var page []string
	switch {
	case len(ids) > 0:
		for _, id := range ids {
			if rs.SecurityGroups[id] == nil {
				return nil, errGroupNotFound(id)
			}
		}
		page = ids
	case len(names) > 0:
		for _, n := range names {
			found := false
			for _, id := range sortedKeys(rs.SecurityGroups) {
				if rs.SecurityGroups[id].Name == n {
					page = append(page, id)
					found = true
				}
			}
			if !found {
				return nil, apiErr("InvalidGroup.NotFound", "The security group '%s' does not exist in default VPC", n)
			}
		}
	default:
		page, out.NextToken = pg.window(sortedKeys(rs.SecurityGroups))
	}
	for _, id := range page {
		sg := rs.SecurityGroups[id]
		ok, err := matchFilters(filters, sg.filter(r.Account))
		if err != nil {
			return nil, err
		}
		if ok {
			out.Groups = append(out.Groups, sg.view(e.sim, rs))
		}
	}
	return out, nil
}

func (e *ec2API) ruleView(rs *RegionState, sg *SecurityGroup, rule SecurityGroupRule, egress bool) xSecurityGroupRule {
	x := xSecurityGroupRule{SecurityGroupRuleID: rule.ID, GroupID: sg.ID, GroupOwnerID: rs.Account, IsEgress: egress,
		IPProtocol: rule.Protocol, FromPort: rule.FromPort, ToPort: rule.ToPort, CidrIPv4: rule.CidrIPv4,
		CidrIPv6: rule.CidrIPv6, PrefixListID: rule.PrefixList, Description: rule.Description, Tags: set[xTag]{},
		SecurityGroupRuleArn: e.sim.arn("ec2", rs.Region, rs.Account, "security-group-rule/"+rule.ID)}
	if rule.Protocol == "-1" {
		x.FromPort, x.ToPort = -1, -1
	}
	if rule.GroupID != "" {
		x.ReferencedGroupInfo = &xReferencedGroup{GroupID: rule.GroupID, UserID: rs.Account}
	}
	return x
}

func (e *ec2API) describeSecurityGroupRules(r *Request, p params) (any, error) {
	ids := p.list("SecurityGroupRuleId")
	filters, err := parseFilters(p)
	if err != nil {
		return nil, err
	}
	pg, err := parsePage(p, 5, 1000, len(ids) > 0, "securityGroupRuleIdSet")
	if err != nil {
		return nil, err
	}
	rs, unlock, err := e.sim.lockedRegion(r)
	if err != nil {
		return nil, err
	}
	defer unlock()
	type ref struct {
		sg     *SecurityGroup
		rule   SecurityGroupRule
		egress bool
	}
	byID := map[string]ref{}
	for _, sg := range rs.SecurityGroups {
		for _, rule := range sg.Ingress {
			byID[rule.ID] = ref{sg, rule, false}
		}
		for _, rule := range sg.Egress {
			byID[rule.ID] = ref{sg, rule, true}
		}
	}
	out := struct {
		Rules     set[xSecurityGroupRule] `xml:"securityGroupRuleSet"`
		NextToken string                  `xml:"nextToken,omitempty"`
	}{Rules: set[xSecurityGroupRule]{}}
	var page []string
	if len(ids) > 0 {
		for _, id := range ids {
			if _, ok := byID[id]; !ok {
				return nil, apiErr("InvalidSecurityGroupRuleId.NotFound", "The security group rule ID '%s' does not exist", id)
			}
		}
		page = ids
	} else {
		page, out.NextToken = pg.window(sortedKeys(byID))
	}
	for _, id := range page {
		x := byID[id]
		ok, err := matchFilters(filters, func(name string) ([]string, bool) {
			switch name {
			case "group-id":
				return []string{x.sg.ID}, true
			case "security-group-rule-id":
				return []string{x.rule.ID}, true
			}
			return tagFilter(nil, name)
		})
		if err != nil {
			return nil, err
		}
		if ok {
			out.Rules = append(out.Rules, e.ruleView(rs, x.sg, x.rule, x.egress))
		}
	}
	return out, nil
}

func (e *ec2API) createSecurityGroup(r *Request, p params) (any, error) {
	name, err := p.require("GroupName")
	if err != nil {
		return nil, err
	}
	desc, err := p.require("GroupDescription")
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(strings.ToLower(name), "sg-") {
		return nil, apiErr("InvalidParameterValue", "Group names may not be in the format sg-*.")
	}
	vpc := p.get("VpcId")
	rs, unlock, err := e.sim.lockedRegion(r)
	if err != nil {
		return nil, err
	}
	defer unlock()
	for _, sg := range rs.SecurityGroups {
		if sg.Name == name && sg.VpcID == vpc {
			return nil, apiErr("InvalidGroup.Duplicate", "The security group '%s' already exists for VPC '%s'", name, vpc)
		}
	}
	sg := &SecurityGroup{ID: e.sim.newID("sg"), Name: name, Description: desc, VpcID: vpc, Tags: tagSpecs(p, "security-group")}
	sg.Egress = []SecurityGroupRule{{ID: e.sim.newID("sgr"), Protocol: "-1", CidrIPv4: "0.0.0.0/0"}}
	rs.SecurityGroups[sg.ID] = sg
	return struct {
		Return  bool      `xml:"return"`
		GroupID string    `xml:"groupId"`
		Arn     string    `xml:"securityGroupArn"`
		Tags    set[xTag] `xml:"tagSet"`
	}{true, sg.ID, e.sim.arn("ec2", rs.Region, rs.Account, "security-group/"+sg.ID), xTags(sg.Tags)}, nil
}

func (e *ec2API) groupFromParams(rs *RegionState, p params) (*SecurityGroup, error) {
	if id := p.get("GroupId"); id != "" {
		sg := rs.SecurityGroups[id]
		if sg == nil {
			return nil, errGroupNotFound(id)
		}
		return sg, nil
	}
	name := p.get("GroupName")
	if name == "" {
		return nil, apiErr("MissingParameter", "The request must contain the parameter groupName or groupId")
	}
	for _, id := range sortedKeys(rs.SecurityGroups) {
		if sg := rs.SecurityGroups[id]; sg.Name == name {
			return sg, nil
		}
	}
	return nil, apiErr("InvalidGroup.NotFound", "The security group '%s' does not exist in default VPC", name)
}

func (e *ec2API) deleteSecurityGroup(r *Request, p params) (any, error) {
	rs, unlock, err := e.sim.lockedRegion(r)
	if err != nil {
		return nil, err
	}
	defer unlock()
	sg, err := e.groupFromParams(rs, p)
	if err != nil {
		return nil, err
	}
	if sg.Name == "default" {
		return nil, apiErr("CannotDelete", "the specified group: \"%s\" name: \"default\" cannot be deleted by a user", sg.ID)
	}
	for _, in := range rs.Instances {
		if in.State == "terminated" {
			continue
		}
		for _, g := range in.SecurityGroupIDs {
			if g == sg.ID {
				return nil, apiErr("DependencyViolation", "resource %s has a dependent object", sg.ID)
			}
		}
	}
	for _, other := range rs.SecurityGroups {
		if other == sg {
			continue
		}
		for _, rule := range append(append([]SecurityGroupRule(nil), other.Ingress...), other.Egress...) {
			if rule.GroupID == sg.ID {
				return nil, apiErr("DependencyViolation", "resource %s has a dependent object", sg.ID)
			}
		}
	}
	delete(rs.SecurityGroups, sg.ID)
	return struct {
		Return  bool   `xml:"return"`
		GroupID string `xml:"groupId"`
	}{true, sg.ID}, nil
}

func (e *ec2API) authorize(egress bool) queryHandler {
	return func(r *Request, p params) (any, error) {
		rules, err := permissionsToRules(p)
		if err != nil {
			return nil, err
		}
		rs, unlock, err := e.sim.lockedRegion(r)
		if err != nil {
			return nil, err
		}
		defer unlock()
		sg, err := e.groupFromParams(rs, p)
		if err != nil {
			return nil, err
		}
		existing := &sg.Ingress
		if egress {
			existing = &sg.Egress
		}
		for i, rule := range rules {
			if rule.GroupID != "" && rs.SecurityGroups[rule.GroupID] == nil {
				return nil, errGroupNotFound(rule.GroupID)
			}
			for _, have := range *existing {
				if sameRule(have, rule) {
					return nil, apiErr("InvalidPermission.Duplicate", "the specified rule \"peer: %s, %s, from port: %d, to port: %d, ALLOW\" already exists",
						rule.peer(), strings.ToUpper(rule.Protocol), rule.FromPort, rule.ToPort)
				}
			}
			for _, prev := range rules[:i] {
				if sameRule(prev, rule) {
					return nil, apiErr("InvalidPermission.Duplicate", "the specified rule \"peer: %s, %s, from port: %d, to port: %d, ALLOW\" already exists",
						rule.peer(), strings.ToUpper(rule.Protocol), rule.FromPort, rule.ToPort)
				}
			}
		}
		out := struct {
			Return bool                    `xml:"return"`
			Rules  set[xSecurityGroupRule] `xml:"securityGroupRuleSet"`
		}{Return: true, Rules: set[xSecurityGroupRule]{}}
		for _, rule := range rules {
			rule.ID = e.sim.newID("sgr")
			*existing = append(*existing, rule)
			out.Rules = append(out.Rules, e.ruleView(rs, sg, rule, egress))
		}
		return out, nil
	}
}

func (e *ec2API) revoke(egress bool) queryHandler {
	return func(r *Request, p params) (any, error) {
		ruleIDs := p.list("SecurityGroupRuleId")
		var rules []SecurityGroupRule
		if len(ruleIDs) == 0 {
			var err error
			if rules, err = permissionsToRules(p); err != nil {
				return nil, err
			}
		}
		rs, unlock, err := e.sim.lockedRegion(r)
		if err != nil {
			return nil, err
		}
		defer unlock()
		sg, err := e.groupFromParams(rs, p)
		if err != nil {
			return nil, err
		}
		existing := &sg.Ingress
		if egress {
			existing = &sg.Egress
		}
		drop := map[string]bool{}
		var unknown []SecurityGroupRule
		if len(ruleIDs) > 0 {
			for _, id := range ruleIDs {
				found := false
				for _, have := range *existing {
					if have.ID == id {
						found = true
						drop[id] = true
					}
				}
				if !found {
					return nil, apiErr("InvalidSecurityGroupRuleId.NotFound", "The security group rule ID '%s' does not exist", id)
				}
			}
		} else {
			for _, rule := range rules {
				found := false
				for _, have := range *existing {
					if sameRule(have, rule) {
						found = true
						drop[have.ID] = true
					}
				}
				if !found {
					unknown = append(unknown, rule)
				}
			}
			if len(drop) == 0 {
				return nil, apiErr("InvalidPermission.NotFound", "The specified rule does not exist in this security group.")
			}
		}
		out := struct {
			Return  bool               `xml:"return"`
			Revoked set[xRevokedRule]  `xml:"revokedSecurityGroupRuleSet"`
			Unknown set[xIPPermission] `xml:"unknownIpPermissionSet,omitempty"`
		}{Return: true, Revoked: set[xRevokedRule]{}}
		kept := (*existing)[:0]
		for _, have := range *existing {
			if drop[have.ID] {
				x := xRevokedRule{SecurityGroupRuleID: have.ID, GroupID: sg.ID, IsEgress: egress, IPProtocol: have.Protocol,
					FromPort: have.FromPort, ToPort: have.ToPort, CidrIPv4: have.CidrIPv4, CidrIPv6: have.CidrIPv6,
					PrefixListID: have.PrefixList, ReferencedGroupID: have.GroupID, Description: have.Description}
				if have.Protocol == "-1" {
					x.FromPort, x.ToPort = -1, -1
				}
				out.Revoked = append(out.Revoked, x)
				continue
			}
			kept = append(kept, have)
		}
		*existing = kept
		if len(unknown) > 0 {
			out.Unknown = permissions(unknown, rs.Account)
		}
		return out, nil
	}
}

func (a *Address) view(region string) xAddress {
	return xAddress{PublicIP: a.PublicIP, AllocationID: a.AllocationID, Domain: orDefault(a.Domain, "vpc"),
		InstanceID: a.InstanceID, AssociationID: a.AssociationID, NetworkInterfaceID: a.NetworkInterfaceID,
		PrivateIPAddress: a.PrivateIP, PublicIPv4Pool: "amazon", NetworkBorderGroup: region, Tags: xTags(a.Tags)}
}

func (a *Address) filter(name string) ([]string, bool) {
	one := func(s string) ([]string, bool) { return []string{s}, true }
	switch name {
	case "allocation-id":
		return one(a.AllocationID)
	case "public-ip":
		return one(a.PublicIP)
	case "domain":
		return one(orDefault(a.Domain, "vpc"))
	case "instance-id":
		return one(a.InstanceID)
	case "association-id":
		return one(a.AssociationID)
	case "network-interface-id":
		return one(a.NetworkInterfaceID)
	case "private-ip-address":
		return one(a.PrivateIP)
	}
	return tagFilter(a.Tags, name)
}

func (e *ec2API) describeAddresses(r *Request, p params) (any, error) {
	allocs := p.list("AllocationId")
	ips := p.list("PublicIp")
	filters, err := parseFilters(p)
	if err != nil {
		return nil, err
	}
	rs, unlock, err := e.sim.lockedRegion(r)
	if err != nil {
		return nil, err
	}
	defer unlock()
	var ids []string
	for _, id := range allocs {
		if rs.Addresses[id] == nil {
			return nil, apiErr("InvalidAllocationID.NotFound", "The allocation ID '%s' does not exist", id)
		}
		ids = append(ids, id)
	}
	for _, ip := range ips {
		found := false
		for _, id := range sortedKeys(rs.Addresses) {
			if rs.Addresses[id].PublicIP == ip {
				ids = append(ids, id)
				found = true
			}
		}
		if !found {
			return nil, apiErr("InvalidAddress.NotFound", "Address '%s' not found.", ip)
		}
	}
	if len(allocs) == 0 && len(ips) == 0 {
		ids = sortedKeys(rs.Addresses)
	}
	out := struct {
		Addresses set[xAddress] `xml:"addressesSet"`
	}{Addresses: set[xAddress]{}}
	for _, id := range ids {
		a := rs.Addresses[id]
		ok, err := matchFilters(filters, a.filter)
		if err != nil {
			return nil, err
		}
		if ok {
			out.Addresses = append(out.Addresses, a.view(rs.Region))
		}
	}
	return out, nil
}

func (e *ec2API) allocateAddress(r *Request, p params) (any, error) {
	rs, unlock, err := e.sim.lockedRegion(r)
	if err != nil {
		return nil, err
	}
	defer unlock()
	n := e.sim.nextID()
	a := &Address{AllocationID: e.sim.newID("eipalloc"), PublicIP: fmt.Sprintf("198.51.%d.%d", (n>>8)&0xff, n&0xff),
		Domain: "vpc", Tags: tagSpecs(p, "elastic-ip")}
	rs.Addresses[a.AllocationID] = a
	return struct {
		PublicIP           string `xml:"publicIp"`
		Domain             string `xml:"domain"`
		AllocationID       string `xml:"allocationId"`
		PublicIPv4Pool     string `xml:"publicIpv4Pool"`
		NetworkBorderGroup string `xml:"networkBorderGroup"`
	}{a.PublicIP, a.Domain, a.AllocationID, "amazon", rs.Region}, nil
}

func (e *ec2API) releaseAddress(r *Request, p params) (any, error) {
	rs, unlock, err := e.sim.lockedRegion(r)
	if err != nil {
		return nil, err
	}
	defer unlock()
	id := p.get("AllocationId")
	if id == "" {
		ip, err := p.require("PublicIp")
		if err != nil {
			return nil, apiErr("MissingParameter", "The request must contain the parameter AllocationId")
		}
		for k, a := range rs.Addresses {
			if a.PublicIP == ip {
				id = k
			}
		}
		if id == "" {
			return nil, apiErr("InvalidAddress.NotFound", "Address '%s' not found.", ip)
		}
	}
	a := rs.Addresses[id]
	if a == nil {
		return nil, apiErr("InvalidAllocationID.NotFound", "The allocation ID '%s' does not exist", id)
	}
	if a.AssociationID != "" || a.InstanceID != "" {
		return nil, apiErr("InvalidIPAddress.InUse", "Address %s is in use.", a.PublicIP)
	}
	delete(rs.Addresses, id)
	return returnTrue{Return: true}, nil
}

func (g *InternetGateway) view(owner string) xInternetGateway {
	x := xInternetGateway{InternetGatewayID: g.ID, OwnerID: owner, Attachments: set[xIGWAttachment]{}, Tags: xTags(g.Tags)}
	if g.VpcID != "" {
		x.Attachments = append(x.Attachments, xIGWAttachment{VpcID: g.VpcID, State: "available"})
	}
	return x
}

func (e *ec2API) describeInternetGateways(r *Request, p params) (any, error) {
	ids := p.list("InternetGatewayId")
	filters, err := parseFilters(p)
	if err != nil {
		return nil, err
	}
	pg, err := parsePage(p, 5, 1000, len(ids) > 0, "internetGatewayIdSet")
	if err != nil {
		return nil, err
	}
	rs, unlock, err := e.sim.lockedRegion(r)
	if err != nil {
		return nil, err
	}
	defer unlock()
	out := struct {
		IGWs      set[xInternetGateway] `xml:"internetGatewaySet"`
		NextToken string                `xml:"nextToken,omitempty"`
	}{IGWs: set[xInternetGateway]{}}
	var page []string
	if len(ids) > 0 {
		for _, id := range ids {
			if rs.InternetGateways[id] == nil {
				return nil, apiErr("InvalidInternetGatewayID.NotFound", "The internetGateway ID '%s' does not exist", id)
			}
		}
		page = ids
	} else {
		page, out.NextToken = pg.window(sortedKeys(rs.InternetGateways))
	}
	for _, id := range page {
		g := rs.InternetGateways[id]
		ok, err := matchFilters(filters, func(name string) ([]string, bool) {
			switch name {
			case "internet-gateway-id":
				return []string{g.ID}, true
			case "owner-id":
				return []string{r.Account}, true
			case "attachment.vpc-id":
				if g.VpcID == "" {
					return nil, true
				}
				return []string{g.VpcID}, true
			case "attachment.state":
				if g.VpcID == "" {
					return nil, true
				}
				return []string{"available"}, true
			}
			return tagFilter(g.Tags, name)
		})
		if err != nil {
			return nil, err
		}
		if ok {
			out.IGWs = append(out.IGWs, g.view(r.Account))
		}
	}
	return out, nil
}

func (e *ec2API) igw(rs *RegionState, p params) (*InternetGateway, string, error) {
	id, err := p.require("InternetGatewayId")
	if err != nil {
		return nil, "", err
	}
	vpc, err := p.require("VpcId")
	if err != nil {
		return nil, "", err
	}
	g := rs.InternetGateways[id]
	if g == nil {
		return nil, "", apiErr("InvalidInternetGatewayID.NotFound", "The internetGateway ID '%s' does not exist", id)
	}
	return g, vpc, nil
}

func (e *ec2API) attachInternetGateway(r *Request, p params) (any, error) {
	rs, unlock, err := e.sim.lockedRegion(r)
	if err != nil {
		return nil, err
	}
	defer unlock()
	g, vpc, err := e.igw(rs, p)
	if err != nil {
		return nil, err
	}
	if g.VpcID != "" {
		return nil, apiErr("Resource.AlreadyAssociated", "resource %s is already attached to network %s", g.ID, g.VpcID)
	}
	g.VpcID = vpc
	return returnTrue{Return: true}, nil
}

func (e *ec2API) detachInternetGateway(r *Request, p params) (any, error) {
	rs, unlock, err := e.sim.lockedRegion(r)
	if err != nil {
		return nil, err
	}
	defer unlock()
	g, vpc, err := e.igw(rs, p)
	if err != nil {
		return nil, err
	}
	if g.VpcID != vpc {
		return nil, apiErr("Gateway.NotAttached", "resource %s is not attached to network %s", g.ID, vpc)
	}
	g.VpcID = ""
	return returnTrue{Return: true}, nil
}
