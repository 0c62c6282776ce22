// Package playbooks is steward's built-in remediation catalogue: state
// machines in Amazon States Language (playbooks/<name>.asl.json), each with
// its metadata (playbooks/<name>.yaml), embedded in the binary and readable
// by users as examples.
//
// The metadata says how a playbook is started (a schedule and the scan that
// finds its resources, or the rules that match its events), how far it goes
// by default (stages), its limits (blast radius), how it asks a person
// (approval) and the IAM actions its calls need (permissions):
//
//	name: ebs-unused
//	description: Unattached EBS volumes: tag last-seen, snapshot and delete after 45 days.
//	trigger: schedule          # or: event
//	schedule: "0 6 * * *"      # cron, 5 fields, UTC
//	scan:
//	  service: ec2
//	  action: DescribeVolumes
//	  parameters: {Filters: [{Name: status, Values: [available]}], MaxResults: 500}
//	  items: Volumes           # where the resources are in each page
//	  nextToken: NextToken     # request field for the next page (default NextToken)
//	  outputToken: NextToken   # response field carrying it (default: nextToken)
//	rules:                     # event playbooks need them; scheduled ones may start on events too
//	  - name: ...
//	    pattern: {...}
//	stages: {default: observe}
//	blastRadius: {perRun: 25, perHour: 50}
//	approval: {deadline: 48h, default: approve}
//	permissions: [ec2:DescribeVolumes, ec2:CreateSnapshot, ec2:DeleteVolume]
//
// Every embedded playbook is checked when the package loads (Problems
// reports the ones that did not load): its definition is valid ASL, every
// Task names an aws-sdk action of a service steward serves or one of the
// steward:* built-ins (Builtins), its schedule parses, its rule patterns
// compile and its permissions are exactly the IAM actions of its aws-sdk
// tasks and scan (IAMAction names them).
package playbooks

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/adhocore/gronx"
	"go.yaml.in/yaml/v3"

	"github.com/stewardhq/steward/internal/asl"
	"github.com/stewardhq/steward/internal/iampolicy"
	"github.com/stewardhq/steward/internal/rules"
	"github.com/stewardhq/steward/internal/stage"
)

//go:embed *.asl.json *.yaml
var embedded embed.FS

// Errors.
var (
	// ErrUnknownPlaybook is returned by Get for a name not in the catalogue.
	ErrUnknownPlaybook = errors.New("unknown playbook")
	// ErrInvalidPlaybook is wrapped by every problem found in a playbook.
	ErrInvalidPlaybook = errors.New("invalid playbook")
	// ErrInvalidSchedule is wrapped by a cron expression that does not parse.
	ErrInvalidSchedule = errors.New("invalid schedule")
)

// Trigger says how a playbook is started.
type Trigger string

// Triggers.
const (
	// TriggerSchedule playbooks run on their cron schedule, once per
	// resource their scan finds.
	TriggerSchedule Trigger = "schedule"
	// TriggerEvent playbooks run when one of their rules matches an event.
	TriggerEvent Trigger = "event"
)

// ResourcePrefix begins the Resource of an aws-sdk Task.
const ResourcePrefix = "arn:aws:states:::aws-sdk:"

// Builtins are the steward:* tasks a playbook may call (see the catalogue
// contract for their inputs and outputs).
var Builtins = []string{
	"steward:approval",
	"steward:echo",
	"steward:exception",
	"steward:fail",
	"steward:last-seen",
	"steward:notify",
	"steward:owner",
	"steward:plan",
	"steward:record",
	"steward:tag",
	"steward:untag",
}

// Services are the services of the aws-sdk integration a playbook may
// call (the names Step Functions uses in aws-sdk:<service>:<action>).
var Services = []string{
	"cloudfront", "cloudtrail", "cloudwatch", "ec2", "elasticloadbalancingv2", "iam", "organizations",
	"rds", "resourcegroupstaggingapi", "route53", "s3", "securityhub", "sns", "sts",
}

// Playbook is one playbook of the catalogue.
type Playbook struct {
	// Name is the playbook's name, also the name of its state machine.
	Name string `json:"name"`
	// Description says what it does, in a sentence or two.
	Description string `json:"description"`
	// Trigger is schedule or event.
	Trigger Trigger `json:"trigger"`
	// Schedule is a 5-field cron expression (UTC) for scheduled playbooks.
	Schedule string `json:"schedule,omitempty"`
	// Scan is the list call that finds a scheduled playbook's resources.
	Scan *Scan `json:"scan,omitempty"`
	// Rules start an event playbook. Each starts this playbook when it
	// names none.
	Rules []rules.Rule `json:"rules,omitempty"`
	// Stages are the default stages by account class; "default" applies
	// to classes not listed. Configuration overrides them.
	Stages map[string]stage.Stage `json:"stages,omitempty"`
	// BlastRadius limits the changes of one run and of one hour.
	BlastRadius BlastRadius `json:"blastRadius"`
	// Approval is how the playbook asks a person, when it does.
	Approval Approval `json:"approval"`
	// Permissions are the IAM actions of its aws-sdk tasks and its scan,
	// sorted.
	Permissions []string `json:"permissions"`
	// Definition is the state machine (the .asl.json file).
	Definition []byte `json:"-"`
	// Metadata is the .yaml file as written.
	Metadata []byte `json:"-"`
}

// Scan describes the list call a scheduled playbook's scan makes in each
// account and region; every item found starts one execution with input
// {"account", "region", "resource": <item>, "trigger": "schedule", "scan"}.
type Scan struct {
	// Service and Action name the call as aws-sdk tasks do (ec2,
	// DescribeVolumes).
	Service string `json:"service" yaml:"service"`
	Action  string `json:"action" yaml:"action"`
	// Parameters are the call's input, PascalCase.
	Parameters map[string]any `json:"parameters,omitempty" yaml:"-"`
	// Items is where the resources are in each page: a field name, or
	// fields joined by dots, lists on the way flattened, e.g.
	// "Reservations.Instances" (also written "Reservations[].Instances").
	Items string `json:"items" yaml:"items"`
	// ID is the field of an item naming the resource (VolumeId,
	// DBInstanceIdentifier), for execution names and summaries.
	ID string `json:"id,omitempty" yaml:"id"`
	// NextToken is the request field that asks for the next page; default
	// "NextToken".
	NextToken string `json:"nextToken" yaml:"nextToken"`
	// OutputToken is the response field that carries it; default
	// NextToken's value (Route 53 answers NextMarker to a Marker).
	OutputToken string `json:"outputToken" yaml:"outputToken"`
	// Global scans run once per account (in its first region), for
	// services with one endpoint (route53, iam).
	Global bool `json:"global,omitempty" yaml:"global"`
}

// BlastRadius limits how many changes a playbook makes: PerRun in one
// execution (or one scan), PerHour across all of them. Zero means no limit.
type BlastRadius struct {
	PerRun  int `json:"perRun" yaml:"perRun"`
	PerHour int `json:"perHour" yaml:"perHour"`
}

// Approval says how long a person has to answer and what happens when
// no one does.
type Approval struct {
	Deadline rules.Duration `json:"deadline" yaml:"deadline"`
	Default  string         `json:"default" yaml:"default"`
}

// metadata is the .yaml file.
type metadata struct {
	Name        string            `yaml:"name"`
	Description string            `yaml:"description"`
	Trigger     string            `yaml:"trigger"`
	Schedule    string            `yaml:"schedule"`
	Scan        yaml.Node         `yaml:"scan"`
	Rules       yaml.Node         `yaml:"rules"`
	Stages      map[string]string `yaml:"stages"`
	BlastRadius BlastRadius       `yaml:"blastRadius"`
	Approval    Approval          `yaml:"approval"`
	Permissions []string          `yaml:"permissions"`
}

// Error is one problem with one playbook.
type Error struct {
	Playbook string // the playbook's name (or file)
	State    string // the state concerned, if any
	Resource string // the task resource concerned, if any
	Msg      string
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "playbook %q", e.Playbook)
	if e.State != "" {
		fmt.Fprintf(&b, ": state %q", e.State)
	}
	if e.Resource != "" {
		fmt.Fprintf(&b, ": resource %q", e.Resource)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap makes errors.Is(err, ErrInvalidPlaybook) true.
func (e *Error) Unwrap() error { return ErrInvalidPlaybook }

// Parse reads one playbook from its metadata and definition and checks
// it completely (see the package documentation). Every problem found is
// returned, joined.
func Parse(meta, definition []byte) (*Playbook, error) {
	var m metadata
	dec := yaml.NewDecoder(bytes.NewReader(meta))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		return nil, &Error{Playbook: "?", Msg: "metadata: " + err.Error()}
	}
	name := m.Name
	if name == "" {
		return nil, &Error{Playbook: "?", Msg: "metadata has no name"}
	}
	p := &Playbook{
		Name: name, Description: strings.TrimSpace(m.Description), Trigger: Trigger(m.Trigger),
		Schedule: m.Schedule, BlastRadius: m.BlastRadius, Approval: m.Approval,
		Definition: definition, Metadata: meta,
	}
	var errs []error
	bad := func(state, resource, format string, args ...any) {
		errs = append(errs, &Error{Playbook: name, State: state, Resource: resource, Msg: fmt.Sprintf(format, args...)})
	}
	if !validName(name) {
		bad("", "", "a playbook name is 1 to 64 lower-case letters, digits or '-'")
	}
	if p.Description == "" {
		bad("", "", "it has no description")
	}
	switch p.Trigger {
	case TriggerSchedule:
		if err := CheckSchedule(p.Schedule); err != nil {
			bad("", "", "schedule: %v", err)
		}
		if m.Scan.Kind == 0 {
			bad("", "", "a scheduled playbook needs a scan")
		}
	case TriggerEvent:
		if p.Schedule != "" || m.Scan.Kind != 0 {
			bad("", "", "an event playbook has no schedule or scan")
		}
		if m.Rules.Kind == 0 {
			bad("", "", "an event playbook needs rules")
		}
	default:
		bad("", "", "trigger %q: want schedule or event", m.Trigger)
	}
	if m.Scan.Kind != 0 {
		s, err := parseScan(&m.Scan)
		if err != nil {
			bad("", "", "scan: %v", err)
		} else {
			p.Scan = s
		}
	}
	if m.Rules.Kind != 0 {
		rs, err := parseRules(name, &m.Rules)
		if err != nil {
			bad("", "", "%v", err)
		}
		p.Rules = rs
	}
	p.Stages = map[string]stage.Stage{}
	for class, s := range m.Stages {
		st, err := stage.Parse(s)
		if err != nil {
			bad("", "", "stages: class %q: %v", class, err)
			continue
		}
		p.Stages[class] = st
	}
	if p.BlastRadius.PerRun < 0 || p.BlastRadius.PerHour < 0 {
		bad("", "", "blastRadius: limits must not be negative")
	}
	if p.Approval.Deadline < 0 {
		bad("", "", "approval: the deadline must not be negative")
	}
	switch p.Approval.Default {
	case "", "approve", "deny":
	default:
		bad("", "", "approval: default %q: want approve or deny", p.Approval.Default)
	}

	machine, err := asl.Parse(definition)
	if err != nil {
		bad("", "", "definition: %v", err)
	} else {
		want := map[string]bool{}
		if p.Scan != nil {
			for _, a := range IAMActions(p.Scan.Service, p.Scan.Action) {
				want[a] = true
			}
		}
		walkTasks(machine, func(state, resource string) {
			base := baseResource(resource)
			if strings.HasPrefix(base, "steward:") {
				if !slices.Contains(Builtins, base) {
					bad(state, resource, "unknown task: steward's built-ins are %s", strings.Join(Builtins, ", "))
				}
				return
			}
			rest, ok := strings.CutPrefix(base, ResourcePrefix)
			if !ok {
				bad(state, resource, "unknown task: a playbook calls %s<service>:<action> or a steward:* built-in", ResourcePrefix)
				return
			}
			service, action, ok := strings.Cut(rest, ":")
			if !ok || action == "" || strings.Contains(action, ":") {
				bad(state, resource, "unknown task: want %s<service>:<action>", ResourcePrefix)
				return
			}
			if !slices.Contains(Services, service) {
				bad(state, resource, "unknown service %q: steward calls %s", service, strings.Join(Services, ", "))
				return
			}
			for _, a := range IAMActions(service, action) {
				want[a] = true
			}
		})
		var wantList []string
		for a := range want {
			wantList = append(wantList, a)
		}
		sort.Strings(wantList)
		got := slices.Clone(m.Permissions)
		sort.Strings(got)
		if !slices.Equal(got, wantList) {
			bad("", "", "permissions %v must be exactly the IAM actions its calls need: %v", got, wantList)
		}
		p.Permissions = wantList
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return p, nil
}

func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// baseResource strips Step Functions' integration-pattern suffix.
func baseResource(r string) string {
	for _, s := range []string{".waitForTaskToken", ".sync:2", ".sync"} {
		if strings.HasSuffix(r, s) {
			return strings.TrimSuffix(r, s)
		}
	}
	return r
}

// walkTasks calls fn for every Task state, in branches and item
// processors too.
func walkTasks(m *asl.Machine, fn func(state, resource string)) {
	for _, name := range m.Order {
		s := m.States[name]
		if s.Type == asl.TypeTask {
			fn(name, s.Resource)
		}
		for _, b := range s.Branches {
			walkTasks(b, fn)
		}
		if s.Processor != nil {
			walkTasks(s.Processor, fn)
		}
	}
}

// Tasks lists the Task resources of a playbook's definition, in
// definition order, with duplicates.
func (p *Playbook) Tasks() []string {
	m, err := asl.Parse(p.Definition)
	if err != nil {
		return nil
	}
	var out []string
	walkTasks(m, func(_, r string) { out = append(out, r) })
	return out
}

func parseScan(n *yaml.Node) (*Scan, error) {
	var raw struct {
		Service     string    `yaml:"service"`
		Action      string    `yaml:"action"`
		Parameters  yaml.Node `yaml:"parameters"`
		Items       string    `yaml:"items"`
		NextToken   string    `yaml:"nextToken"`
		OutputToken string    `yaml:"outputToken"`
		ID          string    `yaml:"id"`
		Global      bool      `yaml:"global"`
	}
	if err := decodeStrict(n, &raw); err != nil {
		return nil, err
	}
	s := &Scan{Service: raw.Service, Action: raw.Action, Items: raw.Items, NextToken: raw.NextToken,
		OutputToken: raw.OutputToken, ID: raw.ID, Global: raw.Global}
	if s.Service == "" || s.Action == "" || s.Items == "" {
		return nil, errors.New("service, action and items are required")
	}
	if !slices.Contains(Services, s.Service) {
		return nil, fmt.Errorf("unknown service %q", s.Service)
	}
	if s.NextToken == "" {
		s.NextToken = "NextToken"
	}
	if s.OutputToken == "" {
		s.OutputToken = s.NextToken
	}
	if raw.Parameters.Kind != 0 {
		var v any
		if err := raw.Parameters.Decode(&v); err != nil {
			return nil, fmt.Errorf("parameters: %w", err)
		}
		conv, err := asl.FromYAML(v)
		if err != nil {
			return nil, fmt.Errorf("parameters: %w", err)
		}
		m, ok := conv.(map[string]any)
		if !ok {
			return nil, errors.New("parameters must be a mapping")
		}
		s.Parameters = m
	}
	if _, err := splitItems(s.Items); err != nil {
		return nil, err
	}
	return s, nil
}

func decodeStrict(n *yaml.Node, v any) error {
	data, err := yaml.Marshal(n)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	return dec.Decode(v)
}

func parseRules(name string, n *yaml.Node) ([]rules.Rule, error) {
	data, err := yaml.Marshal(map[string]*yaml.Node{"rules": n})
	if err != nil {
		return nil, err
	}
	f, err := rules.ParseFile(data)
	if err != nil {
		return nil, err
	}
	for i := range f.Rules {
		if len(f.Rules[i].Playbooks) == 0 {
			f.Rules[i].Playbooks = []string{name}
		}
	}
	return f.Rules, nil
}

// Input returns the request of one page of the scan: Parameters with the
// next-page token set when token is not empty.
func (s *Scan) Input(token string) map[string]any {
	in := make(map[string]any, len(s.Parameters)+1)
	for k, v := range s.Parameters {
		in[k] = v
	}
	if token != "" {
		in[s.NextToken] = token
	}
	return in
}

// ItemsOf returns the resources in one page of the scan's response (the
// JSON value model: map[string]any, []any, ...).
func (s *Scan) ItemsOf(page any) ([]any, error) {
	steps, err := splitItems(s.Items)
	if err != nil {
		return nil, err
	}
	cur := []any{page}
	for i, st := range steps {
		var next []any
		for _, v := range cur {
			m, ok := v.(map[string]any)
			if !ok {
				continue
			}
			f, ok := m[st.field]
			if !ok || f == nil {
				continue
			}
			if l, ok := f.([]any); ok && (st.flatten || i < len(steps)-1) {
				next = append(next, l...)
				continue
			}
			if st.flatten {
				return nil, fmt.Errorf("scan items %q: %s is not a list", s.Items, st.field)
			}
			next = append(next, f)
		}
		cur = next
	}
	var out []any
	for _, v := range cur {
		switch l := v.(type) {
		case []any:
			out = append(out, l...)
		case nil:
		default:
			return nil, fmt.Errorf("scan items %q: not a list", s.Items)
		}
	}
	return out, nil
}

// NextTokenOf returns the token for the next page in a response, or "" on
// the last page. A page that says it is not truncated (IsTruncated false)
// is the last whatever else it carries.
func (s *Scan) NextTokenOf(page any) string {
	m, ok := page.(map[string]any)
	if !ok {
		return ""
	}
	if t, ok := m["IsTruncated"].(bool); ok && !t {
		return ""
	}
	tok, _ := m[s.OutputToken].(string)
	return tok
}

type itemStep struct {
	field   string
	flatten bool
}

func splitItems(items string) ([]itemStep, error) {
	var out []itemStep
	for _, part := range strings.Split(items, ".") {
		st := itemStep{field: part}
		if f, ok := strings.CutSuffix(part, "[]"); ok {
			st = itemStep{field: f, flatten: true}
		}
		if st.field == "" || strings.ContainsAny(st.field, "[]") {
			return nil, fmt.Errorf("items %q: want fields joined by dots, e.g. Reservations[].Instances", items)
		}
		out = append(out, st)
	}
	return out, nil
}

// CheckSchedule checks a cron expression: 5 fields (minute hour
// day-of-month month day-of-week), read in UTC.
func CheckSchedule(expr string) error {
	if len(strings.Fields(expr)) != 5 {
		return fmt.Errorf("%w %q: want 5 fields (minute hour day-of-month month day-of-week), e.g. \"0 6 * * *\"", ErrInvalidSchedule, expr)
	}
	if !validCron(expr) {
		return fmt.Errorf("%w %q: a field is out of range or malformed", ErrInvalidSchedule, expr)
	}
	return nil
}

func validCron(expr string) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return gronx.IsValid(expr)
}

// IAMAction returns the IAM action that authorises an aws-sdk call:
// IAMAction("ec2", "deleteVolume") is "ec2:DeleteVolume", and
// IAMAction("s3", "putPublicAccessBlock") "s3:PutBucketPublicAccessBlock".
// The action may be written as in the aws-sdk resource (camelCase) or as
// the API names it (PascalCase). The mapping itself is internal/iampolicy's
// (from AWS's Service Authorization Reference); a call that needs several
// actions (S3 CopyObject) returns them joined by ","; IAMActions returns
// them as a list.
func IAMAction(service, action string) string {
	return strings.Join(IAMActions(service, action), ",")
}

// IAMActions returns every IAM action an aws-sdk call needs (none for
// sts:GetCallerIdentity; the PascalCase name under the service's own
// prefix when iampolicy does not know the service).
func IAMActions(service, action string) []string {
	acts, err := iampolicy.Actions(service, action)
	if err != nil {
		if action == "" {
			return []string{service + ":"}
		}
		return []string{service + ":" + strings.ToUpper(action[:1]) + action[1:]}
	}
	return acts
}

// PolicyActions returns every IAM action the playbook needs in a member
// account: its permissions and those of the built-ins it calls, sorted.
func (p *Playbook) PolicyActions() []string {
	set := map[string]bool{}
	for _, a := range p.Permissions {
		set[a] = true
	}
	if perms, err := iampolicy.FromDefinition(p.Definition); err == nil {
		for _, a := range perms.All() {
			set[a] = true
		}
	}
	out := make([]string, 0, len(set))
	for a := range set {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// Policy returns the playbook's least-privilege IAM policy for a member
// account (see PolicyActions).
func (p *Playbook) Policy() iampolicy.Document {
	perms, _ := iampolicy.FromDefinition(p.Definition)
	perms.Calls = p.Permissions
	return iampolicy.PlaybookPolicy(p.Name, perms)
}

// Load reads every playbook in fsys: <name>.yaml with <name>.asl.json
// beside it. It returns the playbooks that are valid, sorted by name, and
// every problem found (a file pair missing a half, a name that does not
// match its file, a name used twice, and what Parse finds).
func Load(fsys fs.FS) ([]*Playbook, error) {
	metas, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, err
	}
	defs, err := fs.Glob(fsys, "*.asl.json")
	if err != nil {
		return nil, err
	}
	var errs []error
	var out []*Playbook
	seen := map[string]bool{}
	for _, mf := range metas {
		base := strings.TrimSuffix(path.Base(mf), ".yaml")
		meta, err := fs.ReadFile(fsys, mf)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		def, err := fs.ReadFile(fsys, base+".asl.json")
		if err != nil {
			errs = append(errs, &Error{Playbook: base, Msg: "no definition " + base + ".asl.json beside " + mf})
			continue
		}
		p, err := Parse(meta, def)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", mf, err))
			continue
		}
		if p.Name != base {
			errs = append(errs, &Error{Playbook: p.Name, Msg: fmt.Sprintf("its files must be named %s.yaml and %s.asl.json, not %s", p.Name, p.Name, mf)})
			continue
		}
		if seen[p.Name] {
			errs = append(errs, &Error{Playbook: p.Name, Msg: "the name is used twice"})
			continue
		}
		seen[p.Name] = true
		out = append(out, p)
	}
	for _, df := range defs {
		base := strings.TrimSuffix(path.Base(df), ".asl.json")
		if !slices.Contains(metas, base+".yaml") {
			errs = append(errs, &Error{Playbook: base, Msg: "no metadata " + base + ".yaml beside " + df})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, errors.Join(errs...)
}

var catalogue = sync.OnceValues(func() ([]*Playbook, error) { return Load(embedded) })

// All returns the embedded playbooks that are valid, sorted by name. The
// slice and the playbooks are shared: do not modify them.
func All() []*Playbook {
	all, _ := catalogue()
	return all
}

// Problems reports the embedded playbooks that did not load, or nil.
func Problems() error {
	_, err := catalogue()
	return err
}

// Get returns the embedded playbook of that name.
func Get(name string) (*Playbook, error) {
	for _, p := range All() {
		if p.Name == name {
			return p, nil
		}
	}
	return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownPlaybook, name, strings.Join(Names(), ", "))
}

// Names lists the embedded playbooks' names, sorted.
func Names() []string {
	all := All()
	out := make([]string, len(all))
	for i, p := range all {
		out[i] = p.Name
	}
	return out
}

// Exists reports whether the catalogue has a playbook of that name; it is
// a rules.PlaybookExists.
func Exists(name string) bool {
	_, err := Get(name)
	return err == nil
}
