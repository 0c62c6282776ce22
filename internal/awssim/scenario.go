package awssim

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ErrInvalidScenario reports a scenario that cannot be loaded or applied.
var ErrInvalidScenario = errors.New("awssim: invalid scenario")

// Scenario is the simulated organisation: accounts, the credentials that
// reach them, and resources per account and region. See doc.go for the YAML.
type Scenario struct {
	// Regions lists the organisation's regions (what Sim.Regions returns).
	Regions []string `yaml:"regions"`
	// Credentials are base access keys, each mapped to a "home" account.
	Credentials []ScenarioCredential `yaml:"credentials"`
	Accounts    []ScenarioAccount    `yaml:"accounts"`
}

// ScenarioCredential is a base access key.
type ScenarioCredential struct {
	AccessKeyID     string `yaml:"access_key_id"`
	SecretAccessKey string `yaml:"secret_access_key"`
	Account         string `yaml:"account"`
	// Principal is the caller ARN; empty means the account root.
	Principal string `yaml:"principal"`
}

// ScenarioAccount is one account and its resources.
type ScenarioAccount struct {
	ID      string               `yaml:"id"`
	Name    string               `yaml:"name"`
	Email   string               `yaml:"email"`
	Class   string               `yaml:"class"`
	OU      string               `yaml:"ou"`
	Tags    map[string]string    `yaml:"tags"`
	IAM     Resources            `yaml:"iam"`
	Regions map[string]Resources `yaml:"regions"`
	// Ext holds scenario data for services added by other packages, keyed
	// by signing name; they decode it themselves.
	Ext map[string]yaml.Node `yaml:"ext"`

	// Global and REST/JSON service resources of the account. Buckets,
	// CloudTrail events and findings carry their own region.
	Buckets             []Bucket           `yaml:"buckets"`
	S3PublicAccessBlock *PublicAccessBlock `yaml:"s3_public_access_block"`
	HostedZones         []HostedZone       `yaml:"hosted_zones"`
	Distributions       []Distribution     `yaml:"distributions"`
	CloudTrailEvents    []CloudTrailEvent  `yaml:"cloudtrail_events"`
	Findings            []Finding          `yaml:"findings"`
}

// Resources is a batch of resources for one account and region (IAM
// fields apply to the account). Missing ids, times and states get defaults.
type Resources struct {
	Volumes          []Volume          `yaml:"volumes"`
	Snapshots        []Snapshot        `yaml:"snapshots"`
	Instances        []Instance        `yaml:"instances"`
	SecurityGroups   []SecurityGroup   `yaml:"security_groups"`
	Addresses        []Address         `yaml:"addresses"`
	InternetGateways []InternetGateway `yaml:"internet_gateways"`
	Vpcs             []Vpc             `yaml:"vpcs"`
	// IMDSDefaults, when set, replaces the region's account-level
	// instance metadata defaults.
	IMDSDefaults  *IMDSDefaults  `yaml:"imds_defaults"`
	LoadBalancers []LoadBalancer `yaml:"load_balancers"`
	TargetGroups  []TargetGroup  `yaml:"target_groups"`
	DBInstances   []DBInstance   `yaml:"db_instances"`
	DBSnapshots   []DBSnapshot   `yaml:"db_snapshots"`
	Topics        []Topic        `yaml:"topics"`
	Metrics       []MetricSeries `yaml:"metrics"`
	Policies      []Policy       `yaml:"policies"`
	Roles         []Role         `yaml:"roles"`
	Users         []User         `yaml:"users"`
}

// LoadScenario decodes a scenario from YAML. Unknown fields are errors.
func LoadScenario(r io.Reader) (*Scenario, error) {
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	var sc Scenario
	if err := dec.Decode(&sc); err != nil {
		if errors.Is(err, io.EOF) {
			return &sc, nil
		}
		return nil, fmt.Errorf("%w: %v", ErrInvalidScenario, err)
	}
	return &sc, nil
}

// UnmarshalYAML accepts tags as a list of {key, value} or as a mapping.
func (ts *Tags) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.MappingNode:
		out := make(Tags, 0, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			out = append(out, Tag{Key: n.Content[i].Value, Value: n.Content[i+1].Value})
		}
		*ts = out
		return nil
	case yaml.SequenceNode:
		var list []Tag
		if err := n.Decode(&list); err != nil {
			return err
		}
		*ts = list
		return nil
	}
	return fmt.Errorf("line %d: tags must be a mapping or a list", n.Line)
}

// Apply adds the scenario's accounts, credentials and resources to the sim.
func (s *Sim) Apply(sc *Scenario) error {
	s.mu.Lock()
	for _, r := range sc.Regions {
		s.addRegion(r)
	}
	s.mu.Unlock()
	for _, a := range sc.Accounts {
		if err := s.AddAccount(AccountInfo{ID: a.ID, Name: a.Name, Email: a.Email, Class: a.Class, OU: a.OU, Tags: a.Tags}); err != nil {
			return err
		}
	}
	for _, c := range sc.Credentials {
		if _, err := s.account(c.Account); err != nil {
			return fmt.Errorf("credential %s: %w: unknown account %s", c.AccessKeyID, ErrInvalidScenario, c.Account)
		}
		if err := s.AddCredential(Credential{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey,
			Account: c.Account, Principal: c.Principal}); err != nil {
			return err
		}
	}
	for _, a := range sc.Accounts {
		if err := s.AddIAM(a.ID, a.IAM); err != nil {
			return err
		}
		for region, res := range a.Regions {
			s.mu.Lock()
			s.addRegion(region)
			s.mu.Unlock()
			if err := s.AddResources(a.ID, region, res); err != nil {
				return err
			}
		}
		if err := s.applyServices(a); err != nil {
			return err
		}
	}
	return nil
}

// applyServices seeds an account's S3, Route 53, CloudFront, CloudTrail and
// Security Hub resources.
func (s *Sim) applyServices(a ScenarioAccount) error {
	if err := s.AddBuckets(a.ID, a.Buckets...); err != nil {
		return err
	}
	if a.S3PublicAccessBlock != nil {
		s.SetAccountPublicAccessBlock(a.ID, a.S3PublicAccessBlock)
	}
	if err := s.AddHostedZones(a.ID, a.HostedZones...); err != nil {
		return err
	}
	if len(a.Distributions) > 0 {
		if err := s.AddDistributions(a.ID, a.Distributions...); err != nil {
			return err
		}
	}
	for _, ev := range a.CloudTrailEvents {
		if err := s.AddCloudTrailEvents(a.ID, orDefault(ev.Region, "us-east-1"), ev); err != nil {
			return err
		}
	}
	for _, f := range a.Findings {
		doc := f.ASFF
		if f.JSON != "" {
			if err := decodeUseNumber([]byte(f.JSON), &doc); err != nil {
				return fmt.Errorf("account %s finding: %w: json: %v", a.ID, ErrInvalidScenario, err)
			}
		}
		region := f.Region
		if region == "" {
			region, _ = doc["Region"].(string)
		}
		if err := s.AddFindings(a.ID, orDefault(region, "us-east-1"), doc); err != nil {
			return err
		}
	}
	return nil
}

// AddResources adds a batch of regional resources to one account and
// region, filling defaults. It takes the region's lock once, so it is the
// fast way to seed thousands of resources.
func (s *Sim) AddResources(account, region string, res Resources) error {
	now := s.Now()
	return s.WithRegion(account, region, func(rs *RegionState) error {
		for i := range res.Volumes {
			v := res.Volumes[i]
			if v.ID == "" {
				v.ID = s.newID("vol")
			}
			if v.Size == 0 {
				v.Size = 8
			}
			if v.VolumeType == "" {
				v.VolumeType = "gp3"
			}
			if v.Iops == 0 && (v.VolumeType == "gp3" || v.VolumeType == "gp2" || v.VolumeType == "io1" || v.VolumeType == "io2") {
				v.Iops = 3000
				if v.VolumeType == "gp2" {
					v.Iops = max(100, 3*v.Size)
				}
			}
			if v.Throughput == 0 && v.VolumeType == "gp3" {
				v.Throughput = 125
			}
			if v.AvailabilityZone == "" {
				v.AvailabilityZone = region + "a"
			}
			if v.CreateTime.IsZero() {
				v.CreateTime = now
			}
			v.Attachments = append([]VolumeAttachment(nil), v.Attachments...)
			for j := range v.Attachments {
				if v.Attachments[j].State == "" {
					v.Attachments[j].State = "attached"
				}
				if v.Attachments[j].AttachTime.IsZero() {
					v.Attachments[j].AttachTime = v.CreateTime
				}
				if v.Attachments[j].Device == "" {
					v.Attachments[j].Device = fmt.Sprintf("/dev/sd%c", 'f'+j)
				}
			}
			if v.State == "" {
				v.State = "available"
				if len(v.Attachments) > 0 {
					v.State = "in-use"
				}
			}
			v.Tags = v.Tags.clone()
			rs.Volumes[v.ID] = &v
		}
		for i := range res.Snapshots {
			sn := res.Snapshots[i]
			if sn.ID == "" {
				sn.ID = s.newID("snap")
			}
			if sn.State == "" {
				sn.State = "completed"
			}
			if sn.Progress == "" && sn.State == "completed" {
				sn.Progress = "100%"
			}
			if sn.StartTime.IsZero() {
				sn.StartTime = now
			}
			if sn.StorageTier == "" {
				sn.StorageTier = "standard"
			}
			if sn.VolumeSize == 0 {
				sn.VolumeSize = 8
			}
			sn.Tags = sn.Tags.clone()
			rs.Snapshots[sn.ID] = &sn
		}
		for i := range res.Instances {
			in := res.Instances[i]
			if in.ID == "" {
				in.ID = s.newID("i")
			}
			if in.State == "" {
				in.State = "running"
			}
			if _, ok := instanceStateCodes[in.State]; !ok {
				return fmt.Errorf("account %s region %s instance %s: %w: state %q", account, region, in.ID, ErrInvalidScenario, in.State)
			}
			if in.LaunchTime.IsZero() {
				in.LaunchTime = now
			}
			if in.ImageID == "" {
				in.ImageID = "ami-0abcdef1234567890"
			}
			if in.InstanceType == "" {
				in.InstanceType = "t3.micro"
			}
			if in.AvailabilityZone == "" {
				in.AvailabilityZone = region + "a"
			}
			if in.HTTPTokens == "" {
				in.HTTPTokens = "optional"
			}
			if in.ReservationID == "" {
				in.ReservationID = "r-" + strings.TrimPrefix(in.ID, "i-")
			}
			in.SecurityGroupIDs = append([]string(nil), in.SecurityGroupIDs...)
			in.Tags = in.Tags.clone()
			rs.Instances[in.ID] = &in
		}
		for i := range res.SecurityGroups {
			sg := res.SecurityGroups[i]
			if sg.ID == "" {
				sg.ID = s.newID("sg")
			}
			if sg.Name == "" {
				sg.Name = sg.ID
			}
			if sg.Description == "" {
				sg.Description = sg.Name
			}
			if sg.Egress == nil {
				sg.Egress = []SecurityGroupRule{{Protocol: "-1", CidrIPv4: "0.0.0.0/0"}}
			}
			sg.Ingress = append([]SecurityGroupRule(nil), sg.Ingress...)
			sg.Egress = append([]SecurityGroupRule(nil), sg.Egress...)
			for _, rules := range [][]SecurityGroupRule{sg.Ingress, sg.Egress} {
				for j := range rules {
					if rules[j].ID == "" {
						rules[j].ID = s.newID("sgr")
					}
					p, err := normalizeProtocol(orDefault(rules[j].Protocol, "tcp"))
					if err != nil {
						return fmt.Errorf("security group %s: %w: %v", sg.ID, ErrInvalidScenario, err)
					}
					rules[j].Protocol = p
				}
			}
			sg.Tags = sg.Tags.clone()
			rs.SecurityGroups[sg.ID] = &sg
		}
		for i := range res.Addresses {
			a := res.Addresses[i]
			if a.AllocationID == "" {
				a.AllocationID = s.newID("eipalloc")
			}
			if a.PublicIP == "" {
				n := s.nextID()
				a.PublicIP = fmt.Sprintf("203.0.%d.%d", (n>>8)&0xff, n&0xff)
			}
			if a.Domain == "" {
				a.Domain = "vpc"
			}
			if a.InstanceID != "" && a.AssociationID == "" {
				a.AssociationID = s.newID("eipassoc")
			}
			a.Tags = a.Tags.clone()
			rs.Addresses[a.AllocationID] = &a
		}
		for i := range res.InternetGateways {
			g := res.InternetGateways[i]
			if g.ID == "" {
				g.ID = s.newID("igw")
			}
			g.Tags = g.Tags.clone()
			rs.InternetGateways[g.ID] = &g
		}
		if res.IMDSDefaults != nil {
			rs.IMDSDefaults = *res.IMDSDefaults
		}
		for i := range res.Vpcs {
			v := res.Vpcs[i]
			if v.ID == "" {
				v.ID = s.newID("vpc")
			}
			v.CidrBlock = orDefault(v.CidrBlock, "10.0.0.0/16")
			v.State = orDefault(v.State, "available")
			v.Tags = v.Tags.clone()
			rs.Vpcs[v.ID] = &v
		}
		if err := s.addELBResources(rs, res, now); err != nil {
			return err
		}
		s.addRDSResources(rs, res, now)
		for i := range res.Topics {
			t := res.Topics[i]
			if t.Name == "" && t.ARN == "" {
				return fmt.Errorf("account %s region %s topic %d: %w: name or arn required", account, region, i, ErrInvalidScenario)
			}
			if t.ARN == "" {
				t.ARN = s.arn("sns", region, account, t.Name)
			}
			if t.Name == "" {
				t.Name = t.ARN[strings.LastIndex(t.ARN, ":")+1:]
			}
			rs.Topics[t.ARN] = &t
		}
		for i := range res.Metrics {
			m := res.Metrics[i]
			rs.Metrics = append(rs.Metrics, &m)
		}
		rs.Changed()
		return nil
	})
}

// AddIAM adds IAM policies, roles and users to an account; active user
// access keys become credentials the sim accepts.
func (s *Sim) AddIAM(account string, res Resources) error {
	now := s.Now()
	var creds []Credential
	err := s.WithIAM(account, func(st *IAMState) error {
		for i := range res.Policies {
			p := res.Policies[i]
			if p.Name == "" {
				return fmt.Errorf("account %s policy %d: %w: name required", account, i, ErrInvalidScenario)
			}
			p.Path = orDefault(p.Path, "/")
			if p.ID == "" {
				p.ID = iamID("ANPA", account+p.Name)
			}
			if p.ARN == "" {
				p.ARN = fmt.Sprintf("arn:%s:iam::%s:policy%s%s", s.Partition(), account, p.Path, p.Name)
			}
			if p.CreateDate.IsZero() {
				p.CreateDate = now
			}
			if p.UpdateDate.IsZero() {
				p.UpdateDate = p.CreateDate
			}
			p.Versions = append([]PolicyVersion(nil), p.Versions...)
			if len(p.Versions) == 0 {
				doc := orDefault(p.Document, `{"Version":"2012-10-17","Statement":[]}`)
				p.Versions = []PolicyVersion{{ID: "v1", Document: doc, IsDefault: true, CreateDate: p.CreateDate}}
			}
			hasDefault := false
			for j := range p.Versions {
				if p.Versions[j].ID == "" {
					p.Versions[j].ID = fmt.Sprintf("v%d", j+1)
				}
				if p.Versions[j].CreateDate.IsZero() {
					p.Versions[j].CreateDate = p.CreateDate
				}
				hasDefault = hasDefault || p.Versions[j].IsDefault
			}
			if !hasDefault {
				p.Versions[len(p.Versions)-1].IsDefault = true
			}
			p.Tags = p.Tags.clone()
			st.Policies[p.ARN] = &p
		}
		for i := range res.Roles {
			r := res.Roles[i]
			if r.Name == "" {
				return fmt.Errorf("account %s role %d: %w: name required", account, i, ErrInvalidScenario)
			}
			r.Path = orDefault(r.Path, "/")
			if r.ID == "" {
				r.ID = iamID("AROA", account+r.Name)
			}
			if r.ARN == "" {
				r.ARN = fmt.Sprintf("arn:%s:iam::%s:role%s%s", s.Partition(), account, r.Path, r.Name)
			}
			if r.CreateDate.IsZero() {
				r.CreateDate = now
			}
			if r.MaxSessionDuration == 0 {
				r.MaxSessionDuration = 3600
			}
			if r.AssumeRolePolicyDocument == "" {
				r.AssumeRolePolicyDocument = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + account + `:root"},"Action":"sts:AssumeRole"}]}`
			}
			inline := map[string]string{}
			for k, v := range r.InlinePolicies {
				inline[k] = v
			}
			r.InlinePolicies = inline
			r.AttachedPolicies = append([]string(nil), r.AttachedPolicies...)
			r.Tags = r.Tags.clone()
			st.Roles[r.Name] = &r
		}
		for i := range res.Users {
			u := res.Users[i]
			if u.Name == "" {
				return fmt.Errorf("account %s user %d: %w: name required", account, i, ErrInvalidScenario)
			}
			u.Path = orDefault(u.Path, "/")
			if u.ID == "" {
				u.ID = iamID("AIDA", account+u.Name)
			}
			if u.ARN == "" {
				u.ARN = fmt.Sprintf("arn:%s:iam::%s:user%s%s", s.Partition(), account, u.Path, u.Name)
			}
			if u.CreateDate.IsZero() {
				u.CreateDate = now
			}
			u.AccessKeys = append([]AccessKey(nil), u.AccessKeys...)
			for j := range u.AccessKeys {
				k := &u.AccessKeys[j]
				if k.ID == "" {
					k.ID = fmt.Sprintf("AKIASIM%013X", s.nextID())
				}
				k.Status = orDefault(k.Status, "Active")
				if k.CreateDate.IsZero() {
					k.CreateDate = u.CreateDate
				}
				if k.Status == "Active" {
					creds = append(creds, Credential{AccessKeyID: k.ID, SecretAccessKey: k.Secret, Account: account,
						Principal: u.ARN, UserID: u.ID})
				}
			}
			u.Tags = u.Tags.clone()
			st.Users[u.Name] = &u
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, c := range creds {
		if err := s.AddCredential(c); err != nil {
			return err
		}
	}
	return nil
}

// iamID makes a stable IAM unique id with the given prefix.
func iamID(prefix, seed string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	h := hashString(seed)
	b := []byte(prefix)
	for i := 0; i < 17; i++ {
		b = append(b, alphabet[h%32])
		h = h/32 ^ hashString(string(rune(i))+seed)
	}
	return string(b)
}
