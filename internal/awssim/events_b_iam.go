package awssim

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// InstanceProfile is an IAM instance profile: the container through which
// EC2 hands a role to an instance (an instance's IamInstanceProfile.Arn
// names it). IAM allows at most one role per profile.
type InstanceProfile struct {
	Name       string    `yaml:"name"`
	Path       string    `yaml:"path"`
	ID         string    `yaml:"id"`
	ARN        string    `yaml:"arn"`
	CreateDate time.Time `yaml:"create_date"`
	Roles      []string  `yaml:"roles"` // role names
}

// iamProfiles holds the instance profiles of every account. Its lock is
// taken after the account's IAMState lock, never before.
type iamProfiles struct {
	mu     sync.Mutex
	byAcct map[string]map[string]*InstanceProfile // account → name → profile
}

// iamExtended is the IAM service with the actions ExtendIAM adds; it
// keeps the instance profiles, so they live and die with the sim.
type iamExtended struct {
	*queryService
	profiles *iamProfiles
}

// profiles returns the sim's instance profiles, extending IAM first.
func (s *Sim) profiles() *iamProfiles {
	s.ExtendIAM()
	s.mu.RLock()
	defer s.mu.RUnlock()
	if x, ok := s.services["iam"].(*iamExtended); ok {
		return x.profiles
	}
	return &iamProfiles{byAcct: map[string]map[string]*InstanceProfile{}}
}

// ExtendIAM adds to the sim's IAM service the actions event-driven
// quarantine needs and rollback undoes: GetInstanceProfile,
// ListInstanceProfilesForRole, GetRolePolicy, ListRolePolicies and
// DeleteRolePolicy. It is idempotent, safe while the sim serves (the IAM
// service is replaced whole), and AddInstanceProfile calls it.
func (s *Sim) ExtendIAM() {
	s.mu.Lock()
	defer s.mu.Unlock()
	base, ok := s.services["iam"].(*queryService)
	if !ok {
		return // extended already, or replaced by a test
	}
	pr := &iamProfiles{byAcct: map[string]map[string]*InstanceProfile{}}
	actions := make(map[string]queryHandler, len(base.actions)+5)
	for k, v := range base.actions {
		actions[k] = v
	}
	ext := map[string]func(*Account, *Request, params) (any, error){
		"GetInstanceProfile":          pr.getInstanceProfile,
		"ListInstanceProfilesForRole": pr.listInstanceProfilesForRole,
		"GetRolePolicy":               getRolePolicy,
		"ListRolePolicies":            listRolePolicies,
		"DeleteRolePolicy":            deleteRolePolicy,
	}
	for name, fn := range ext {
		fn := fn
		actions[name] = func(r *Request, p params) (any, error) {
			acct, err := s.account(r.Account)
			if err != nil {
				return nil, err
			}
			acct.iam.mu.Lock()
			defer acct.iam.mu.Unlock()
			return fn(acct, r, p)
		}
	}
	// Register takes s.mu: the map is replaced in place under the lock
	// held here.
	s.services["iam"] = &iamExtended{queryService: &queryService{name: base.name, xmlns: base.xmlns, ec2: base.ec2, actions: actions}, profiles: pr}
}

// AddInstanceProfile seeds an instance profile in an account. Its roles
// must exist (CreateRole or the scenario) when GetInstanceProfile is called.
func (s *Sim) AddInstanceProfile(account string, p InstanceProfile) error {
	if p.Name == "" {
		return fmt.Errorf("add instance profile to %s: %w: it has no name", account, ErrInvalidScenario)
	}
	if len(p.Roles) > 1 {
		return fmt.Errorf("add instance profile %q to %s: %w: IAM allows one role per instance profile", p.Name, account, ErrInvalidScenario)
	}
	if _, err := s.account(account); err != nil {
		return fmt.Errorf("add instance profile %q: %w", p.Name, err)
	}
	if p.Path == "" {
		p.Path = "/"
	}
	if p.ID == "" {
		p.ID = "AIPA" + strings.ToUpper(strings.TrimPrefix(s.newID("x"), "x-"))
	}
	if p.ARN == "" {
		p.ARN = fmt.Sprintf("arn:%s:iam::%s:instance-profile%s%s", s.Partition(), account, p.Path, p.Name)
	}
	if p.CreateDate.IsZero() {
		p.CreateDate = s.Now()
	}
	pr := s.profiles()
	pr.mu.Lock()
	defer pr.mu.Unlock()
	if pr.byAcct[account] == nil {
		pr.byAcct[account] = map[string]*InstanceProfile{}
	}
	cp := p
	cp.Roles = append([]string(nil), p.Roles...)
	pr.byAcct[account][p.Name] = &cp
	return nil
}

type xInstanceProfile struct {
	Path                string         `xml:"Path"`
	InstanceProfileName string         `xml:"InstanceProfileName"`
	InstanceProfileID   string         `xml:"InstanceProfileId"`
	Arn                 string         `xml:"Arn"`
	CreateDate          string         `xml:"CreateDate"`
	Roles               members[xRole] `xml:"Roles"`
}

func profileView(st *IAMState, p *InstanceProfile) xInstanceProfile {
	x := xInstanceProfile{Path: p.Path, InstanceProfileName: p.Name, InstanceProfileID: p.ID, Arn: p.ARN,
		CreateDate: isoTime(p.CreateDate), Roles: members[xRole]{}}
	for _, name := range p.Roles {
		if role := st.Roles[name]; role != nil {
			x.Roles = append(x.Roles, role.view(false))
		}
	}
	return x
}

func (pr *iamProfiles) getInstanceProfile(acct *Account, _ *Request, p params) (any, error) {
	name, err := p.require("InstanceProfileName")
	if err != nil {
		return nil, err
	}
	pr.mu.Lock()
	defer pr.mu.Unlock()
	prof := pr.byAcct[acct.ID][name]
	if prof == nil {
		return nil, noSuchEntity("Instance Profile %s cannot be found.", name)
	}
	return struct {
		InstanceProfile xInstanceProfile `xml:"InstanceProfile"`
	}{profileView(acct.iam, prof)}, nil
}

func (pr *iamProfiles) listInstanceProfilesForRole(acct *Account, _ *Request, p params) (any, error) {
	name, err := p.require("RoleName")
	if err != nil {
		return nil, err
	}
	if acct.iam.Roles[name] == nil {
		return nil, noSuchEntity("The role with name %s cannot be found.", name)
	}
	pr.mu.Lock()
	defer pr.mu.Unlock()
	var names []string
	for n, prof := range pr.byAcct[acct.ID] {
		for _, r := range prof.Roles {
			if r == name {
				names = append(names, n)
			}
		}
	}
	sort.Strings(names)
	out := members[xInstanceProfile]{}
	for _, n := range names {
		out = append(out, profileView(acct.iam, pr.byAcct[acct.ID][n]))
	}
	return struct {
		InstanceProfiles members[xInstanceProfile] `xml:"InstanceProfiles"`
		IsTruncated      bool                      `xml:"IsTruncated"`
	}{out, false}, nil
}

func roleOf(st *IAMState, p params) (*Role, error) {
	name, err := p.require("RoleName")
	if err != nil {
		return nil, err
	}
	role := st.Roles[name]
	if role == nil {
		return nil, noSuchEntity("The role with name %s cannot be found.", name)
	}
	return role, nil
}

func getRolePolicy(acct *Account, _ *Request, p params) (any, error) {
	role, err := roleOf(acct.iam, p)
	if err != nil {
		return nil, err
	}
	name, err := p.require("PolicyName")
	if err != nil {
		return nil, err
	}
	doc, ok := role.InlinePolicies[name]
	if !ok {
		return nil, noSuchEntity("The role policy with name %s cannot be found.", name)
	}
	return struct {
		RoleName       string `xml:"RoleName"`
		PolicyName     string `xml:"PolicyName"`
		PolicyDocument string `xml:"PolicyDocument"`
	}{role.Name, name, iamEncode(doc)}, nil
}

func listRolePolicies(acct *Account, _ *Request, p params) (any, error) {
	role, err := roleOf(acct.iam, p)
	if err != nil {
		return nil, err
	}
	names := members[string]{}
	for n := range role.InlinePolicies {
		names = append(names, n)
	}
	sort.Strings(names)
	return struct {
		PolicyNames members[string] `xml:"PolicyNames"`
		IsTruncated bool            `xml:"IsTruncated"`
	}{names, false}, nil
}

func deleteRolePolicy(acct *Account, _ *Request, p params) (any, error) {
	role, err := roleOf(acct.iam, p)
	if err != nil {
		return nil, err
	}
	name, err := p.require("PolicyName")
	if err != nil {
		return nil, err
	}
	if _, ok := role.InlinePolicies[name]; !ok {
		return nil, noSuchEntity("The role policy with name %s cannot be found.", name)
	}
	delete(role.InlinePolicies, name)
	return nil, nil
}
