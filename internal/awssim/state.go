package awssim

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"
)

// ErrNoSuchAccount reports an account id the sim does not know.
var ErrNoSuchAccount = errors.New("awssim: no such account")

// Account is one simulated AWS account: its organisation attributes, its
// global IAM state and one RegionState per region.
type Account struct {
	ID    string            `yaml:"id"`
	Name  string            `yaml:"name"`
	Email string            `yaml:"email"`
	Class string            `yaml:"class"`
	OU    string            `yaml:"ou"`
	Tags  map[string]string `yaml:"tags"`

	mu      sync.Mutex
	iam     *IAMState
	regions map[string]*RegionState
}

// Info returns a copy of the account's organisation attributes.
func (a *Account) Info() AccountInfo {
	tags := make(map[string]string, len(a.Tags))
	for k, v := range a.Tags {
		tags[k] = v
	}
	return AccountInfo{ID: a.ID, Name: a.Name, Email: a.Email, Class: a.Class, OU: a.OU, Tags: tags}
}

// AccountInfo describes an account of the simulated organisation.
type AccountInfo struct {
	ID, Name, Email, Class, OU string
	Tags                       map[string]string
}

// AddAccount adds an account (or updates the attributes of a known one).
func (s *Sim) AddAccount(info AccountInfo) error {
	if !validAccountID(info.ID) {
		return fmt.Errorf("add account %q: %w: account id must be 12 digits", info.ID, ErrInvalidScenario)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[info.ID]
	if a == nil {
		a = &Account{ID: info.ID, regions: map[string]*RegionState{}, iam: newIAMState()}
		s.accounts[info.ID] = a
	}
	a.Name, a.Email, a.Class, a.OU, a.Tags = info.Name, info.Email, info.Class, info.OU, info.Tags
	return nil
}

// Accounts lists the accounts of the simulated organisation, by id.
func (s *Sim) Accounts() []AccountInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]AccountInfo, 0, len(s.accounts))
	for _, a := range s.accounts {
		out = append(out, a.Info())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func validAccountID(id string) bool {
	if len(id) != 12 {
		return false
	}
	for _, c := range id {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func (s *Sim) account(id string) (*Account, error) {
	s.mu.RLock()
	a := s.accounts[id]
	s.mu.RUnlock()
	if a == nil {
		return nil, fmt.Errorf("account %s: %w", id, ErrNoSuchAccount)
	}
	return a, nil
}

// region returns the state of one account and region, creating it empty.
func (s *Sim) region(account, region string) (*RegionState, error) {
	a, err := s.account(account)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	rs := a.regions[region]
	if rs == nil {
		rs = newRegionState(account, region)
		a.regions[region] = rs
	}
	return rs, nil
}

// WithRegion runs fn with exclusive access to the state of one account and
// region. Services added by other packages keep their state in
// RegionState.Ext under their signing name.
func (s *Sim) WithRegion(account, region string, fn func(*RegionState) error) error {
	rs, err := s.region(account, region)
	if err != nil {
		return err
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.settle(s.Now())
	return fn(rs)
}

// WithIAM runs fn with exclusive access to an account's IAM state.
func (s *Sim) WithIAM(account string, fn func(*IAMState) error) error {
	a, err := s.account(account)
	if err != nil {
		return err
	}
	a.iam.mu.Lock()
	defer a.iam.mu.Unlock()
	return fn(a.iam)
}

// RegionState is the state of one account in one region. Access it only
// through Sim.WithRegion (or inside a service handler holding its lock).
type RegionState struct {
	Account, Region string

	Volumes          map[string]*Volume
	Snapshots        map[string]*Snapshot
	Instances        map[string]*Instance
	SecurityGroups   map[string]*SecurityGroup
	Addresses        map[string]*Address
	InternetGateways map[string]*InternetGateway
	Vpcs             map[string]*Vpc
	LoadBalancers    map[string]*LoadBalancer // by ARN
	TargetGroups     map[string]*TargetGroup  // by ARN
	DBInstances      map[string]*DBInstance   // by identifier
	DBSnapshots      map[string]*DBSnapshot   // by identifier
	Topics           map[string]*Topic        // by ARN
	Metrics          []*MetricSeries
	// IMDSDefaults are the account-level instance metadata defaults.
	IMDSDefaults IMDSDefaults
	// Ext holds the state of services registered by other packages, keyed
	// by their signing name.
	Ext map[string]any

	mu       sync.Mutex
	pending  []transition
	volIDs   []string // sorted volume ids, nil when stale
	instIDs  []string // sorted instance ids, nil when stale
	snapIDs  []string
	ruleOwns map[string]string // security group rule id -> group id
}

func newRegionState(account, region string) *RegionState {
	return &RegionState{
		Account: account, Region: region,
		Volumes: map[string]*Volume{}, Snapshots: map[string]*Snapshot{}, Instances: map[string]*Instance{},
		SecurityGroups: map[string]*SecurityGroup{}, Addresses: map[string]*Address{},
		InternetGateways: map[string]*InternetGateway{}, Vpcs: map[string]*Vpc{}, LoadBalancers: map[string]*LoadBalancer{},
		TargetGroups: map[string]*TargetGroup{}, DBInstances: map[string]*DBInstance{},
		DBSnapshots: map[string]*DBSnapshot{}, Topics: map[string]*Topic{}, Ext: map[string]any{},
		ruleOwns: map[string]string{},
	}
}

// transition is a state change due at a time ("eventual state").
type transition struct {
	at    time.Time
	apply func()
}

// later schedules fn to run once the clock reaches at.
func (rs *RegionState) later(at time.Time, fn func()) {
	rs.pending = append(rs.pending, transition{at: at, apply: fn})
}

// settle applies every transition that is due at now.
func (rs *RegionState) settle(now time.Time) {
	if len(rs.pending) == 0 {
		return
	}
	keep := rs.pending[:0]
	var due []transition
	for _, t := range rs.pending {
		if now.Before(t.at) {
			keep = append(keep, t)
		} else {
			due = append(due, t)
		}
	}
	rs.pending = keep
	sort.SliceStable(due, func(i, j int) bool { return due[i].at.Before(due[j].at) })
	for _, t := range due {
		t.apply()
	}
}

// Changed marks cached orderings stale; call it after adding or removing
// volumes, instances or snapshots directly in the maps.
func (rs *RegionState) Changed() { rs.volIDs, rs.instIDs, rs.snapIDs = nil, nil, nil }

func sortedIDs[T any](m map[string]T, cache *[]string) []string {
	if *cache != nil && len(*cache) == len(m) {
		return *cache
	}
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	*cache = ids
	return ids
}

func sortedKeys[T any](m map[string]T) []string {
	var c []string
	return sortedIDs(m, &c)
}

// lockedRegion locks the state of the request's account and region and
// settles due transitions. The caller must call the returned unlock.
func (s *Sim) lockedRegion(r *Request) (*RegionState, func(), error) {
	rs, err := s.region(r.Account, r.Region)
	if err != nil {
		return nil, nil, &APIError{Status: 403, Code: "AuthFailure", Message: "account not found", Sender: true}
	}
	rs.mu.Lock()
	rs.settle(s.Now())
	return rs, rs.mu.Unlock, nil
}

// Tag is a resource tag.
type Tag struct {
	Key   string `yaml:"key"`
	Value string `yaml:"value"`
}

// Tags is a tag list; in YAML it may also be written as a mapping.
type Tags []Tag

// Get returns the value of a tag key and whether it is present.
func (ts Tags) Get(key string) (string, bool) {
	for _, t := range ts {
		if t.Key == key {
			return t.Value, true
		}
	}
	return "", false
}

// set adds or replaces tags, keeping the order of first appearance.
func (ts Tags) set(add []Tag) Tags {
	for _, a := range add {
		found := false
		for i := range ts {
			if ts[i].Key == a.Key {
				ts[i].Value = a.Value
				found = true
				break
			}
		}
		if !found {
			ts = append(ts, a)
		}
	}
	return ts
}

// remove deletes tags by key; a tag with a non-empty value is removed only
// when the value matches too (EC2 DeleteTags semantics).
func (ts Tags) remove(del []Tag, matchValue []bool) Tags {
	out := ts[:0]
	for _, t := range ts {
		drop := false
		for i, d := range del {
			if d.Key == t.Key && (!matchValue[i] || d.Value == t.Value) {
				drop = true
				break
			}
		}
		if !drop {
			out = append(out, t)
		}
	}
	return out
}

func (ts Tags) clone() Tags { return append(Tags(nil), ts...) }
