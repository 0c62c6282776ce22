package awssim

// Vpc is a VPC. Only what security groups, gateways and instances refer
// to is modelled: id, CIDR, default flag, state and tags.
type Vpc struct {
	ID        string `yaml:"id"`
	CidrBlock string `yaml:"cidr"`
	IsDefault bool   `yaml:"default"`
	State     string `yaml:"state"` // pending|available
	Tags      Tags   `yaml:"tags"`
}

type xCidrState struct {
	State string `xml:"state"`
}

type xCidrAssociation struct {
	AssociationID  string     `xml:"associationId"`
	CidrBlock      string     `xml:"cidrBlock"`
	CidrBlockState xCidrState `xml:"cidrBlockState"`
}

type xVpc struct {
	VpcID                string                `xml:"vpcId"`
	OwnerID              string                `xml:"ownerId"`
	State                string                `xml:"state"`
	CidrBlock            string                `xml:"cidrBlock"`
	CidrAssociations     set[xCidrAssociation] `xml:"cidrBlockAssociationSet"`
	IPv6CidrAssociations set[xCidrAssociation] `xml:"ipv6CidrBlockAssociationSet"`
	DhcpOptionsID        string                `xml:"dhcpOptionsId"`
	InstanceTenancy      string                `xml:"instanceTenancy"`
	IsDefault            bool                  `xml:"isDefault"`
	Tags                 set[xTag]             `xml:"tagSet"`
}

func (v *Vpc) view(owner string) xVpc {
	return xVpc{VpcID: v.ID, OwnerID: owner, State: v.State, CidrBlock: v.CidrBlock,
		CidrAssociations: set[xCidrAssociation]{{AssociationID: "vpc-cidr-assoc-" + v.ID[len("vpc-"):], CidrBlock: v.CidrBlock,
			CidrBlockState: xCidrState{State: "associated"}}},
		IPv6CidrAssociations: set[xCidrAssociation]{}, DhcpOptionsID: "dopt-00000001", InstanceTenancy: "default",
		IsDefault: v.IsDefault, Tags: xTags(v.Tags)}
}

func errVpcNotFound(id string) error {
	return apiErr("InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", id)
}

func (e *ec2API) createVpc(r *Request, p params) (any, error) {
	cidr, err := p.require("CidrBlock")
	if err != nil {
		return nil, err
	}
	if !validCIDR(cidr) {
		return nil, apiErr("InvalidParameterValue", "Value (%s) for parameter cidrBlock is invalid. This is not a valid CIDR block.", cidr)
	}
	rs, unlock, err := e.sim.lockedRegion(r)
	if err != nil {
		return nil, err
	}
	defer unlock()
	v := &Vpc{ID: e.sim.newID("vpc"), CidrBlock: cidr, State: "pending", Tags: tagSpecs(p, "vpc")}
	rs.Vpcs[v.ID] = v
	sg := &SecurityGroup{ID: e.sim.newID("sg"), Name: "default", Description: "default VPC security group", VpcID: v.ID,
		Egress: []SecurityGroupRule{{ID: e.sim.newID("sgr"), Protocol: "-1", CidrIPv4: "0.0.0.0/0"}}}
	sg.Ingress = []SecurityGroupRule{{ID: e.sim.newID("sgr"), Protocol: "-1", GroupID: sg.ID}}
	rs.SecurityGroups[sg.ID] = sg
	view := v.view(r.Account)
	rs.later(e.settleAt(e.sim.Now()), func() { v.State = "available" })
	return struct {
		Vpc xVpc `xml:"vpc"`
	}{view}, nil
}

func validCIDR(c string) bool {
	ip, bits, ok := cutLast(c, "/")
	if !ok || len(bits) == 0 || len(bits) > 3 {
		return false
	}
	n := 0
	for _, d := range bits {
		if d < '0' || d > '9' {
			return false
		}
		n = n*10 + int(d-'0')
	}
	parts := 0
	for _, oct := range splitDots(ip) {
		if len(oct) == 0 || len(oct) > 3 {
			return false
		}
		v := 0
		for _, d := range oct {
			if d < '0' || d > '9' {
				return false
			}
			v = v*10 + int(d-'0')
		}
		if v > 255 {
			return false
		}
		parts++
	}
	return parts == 4 && n <= 32
}

func cutLast(s, sep string) (string, string, bool) {
	for i := len(s) - len(sep); i >= 0; i-- {
		if s[i:i+len(sep)] == sep {
			return s[:i], s[i+len(sep):], true
		}
	}
	return s, "", false
}

func splitDots(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func (e *ec2API) deleteVpc(r *Request, p params) (any, error) {
	id, err := p.require("VpcId")
	if err != nil {
		return nil, err
	}
	rs, unlock, err := e.sim.lockedRegion(r)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if rs.Vpcs[id] == nil {
		return nil, errVpcNotFound(id)
	}
	dependent := apiErr("DependencyViolation", "The vpc '%s' has dependencies and cannot be deleted.", id)
	for _, sg := range rs.SecurityGroups {
		if sg.VpcID == id && sg.Name != "default" {
			return nil, dependent
		}
	}
	for _, g := range rs.InternetGateways {
		if g.VpcID == id {
			return nil, dependent
		}
	}
	for _, in := range rs.Instances {
		if in.VpcID == id && in.State != "terminated" {
			return nil, dependent
		}
	}
	for sgID, sg := range rs.SecurityGroups {
		if sg.VpcID == id {
			delete(rs.SecurityGroups, sgID)
		}
	}
	delete(rs.Vpcs, id)
	return returnTrue{Return: true}, nil
}

func (e *ec2API) describeVpcs(r *Request, p params) (any, error) {
	ids := p.list("VpcId")
	filters, err := parseFilters(p)
	if err != nil {
		return nil, err
	}
	pg, err := parsePage(p, 5, 1000, len(ids) > 0, "vpcIdSet")
	if err != nil {
		return nil, err
	}
	rs, unlock, err := e.sim.lockedRegion(r)
	if err != nil {
		return nil, err
	}
	defer unlock()
	out := struct {
		Vpcs      set[xVpc] `xml:"vpcSet"`
		NextToken string    `xml:"nextToken,omitempty"`
	}{Vpcs: set[xVpc]{}}
	var page []string
	if len(ids) > 0 {
		for _, id := range ids {
			if rs.Vpcs[id] == nil {
				return nil, errVpcNotFound(id)
			}
		}
		page = ids
	} else {
		page, out.NextToken = pg.window(sortedKeys(rs.Vpcs))
	}
	for _, id := range page {
		v := rs.Vpcs[id]
		ok, err := matchFilters(filters, func(name string) ([]string, bool) {
			switch name {
			case "vpc-id":
				return []string{v.ID}, true
			case "cidr", "cidr-block-association.cidr-block":
				return []string{v.CidrBlock}, true
			case "is-default":
				return []string{boolStr(v.IsDefault)}, true
			case "state":
				return []string{v.State}, true
			case "owner-id":
				return []string{r.Account}, true
			}
			return tagFilter(v.Tags, name)
		})
		if err != nil {
			return nil, err
		}
		if ok {
			out.Vpcs = append(out.Vpcs, v.view(r.Account))
		}
	}
	return out, nil
}
