package cloud

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Sentinel errors of the inventory.
var (
	// ErrInvalidInventory reports an inventory file that cannot be used.
	ErrInvalidInventory = errors.New("invalid inventory")
	// ErrUnknownAccount reports an account that is not in the inventory.
	ErrUnknownAccount = errors.New("unknown account")
	// ErrUnknownRegion reports a region the account is not set to act in.
	ErrUnknownRegion = errors.New("unknown region")
)

// InventoryError says what is wrong with an inventory file, and where.
type InventoryError struct {
	// Line is the line in the file, or 0 when unknown.
	Line int
	// Field is the field at fault, e.g. "accounts[2].id".
	Field string
	// Msg says what is wrong.
	Msg string
}

func (e *InventoryError) Error() string {
	var b strings.Builder
	b.WriteString("inventory")
	if e.Line > 0 {
		fmt.Fprintf(&b, " line %d", e.Line)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, " %s", e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap makes errors.Is(err, ErrInvalidInventory) true.
func (e *InventoryError) Unwrap() error { return ErrInvalidInventory }

// Account is one AWS account steward acts in.
type Account struct {
	// ID is the 12-digit account id.
	ID string `json:"id"`
	// Name is the account's name.
	Name string `json:"name,omitempty"`
	// Class is what kind of account it is: production, development,
	// sandbox, ... Playbook stages are chosen per class.
	Class string `json:"class,omitempty"`
	// Regions are the regions to act in.
	Regions []string `json:"regions"`
	// Role is the ARN of the role to assume in the account; empty means
	// act with steward's own credentials.
	Role string `json:"role,omitempty"`
	// OU is the organisational unit's name, when known.
	OU string `json:"ou,omitempty"`
	// Tags are the account's tags.
	Tags map[string]string `json:"tags,omitempty"`
	// Source says where the entry came from: "file" or "organizations".
	Source string `json:"source,omitempty"`
}

// HasRegion reports whether the account acts in region.
func (a Account) HasRegion(region string) bool {
	for _, r := range a.Regions {
		if r == region {
			return true
		}
	}
	return false
}

// Inventory is the set of accounts steward acts in. The zero value is
// empty; build one with NewInventory.
type Inventory struct {
	accounts []Account
	byID     map[string]int
}

// NewInventory returns an inventory of accounts, sorted by id. A later
// entry for an id replaces an earlier one.
func NewInventory(accounts []Account) *Inventory {
	inv := &Inventory{byID: map[string]int{}}
	for _, a := range accounts {
		if i, ok := inv.byID[a.ID]; ok {
			inv.accounts[i] = a
			continue
		}
		inv.byID[a.ID] = len(inv.accounts)
		inv.accounts = append(inv.accounts, a)
	}
	sort.Slice(inv.accounts, func(i, j int) bool { return inv.accounts[i].ID < inv.accounts[j].ID })
	for i, a := range inv.accounts {
		inv.byID[a.ID] = i
	}
	return inv
}

// Accounts returns the accounts, sorted by id.
func (inv *Inventory) Accounts() []Account {
	if inv == nil {
		return nil
	}
	return append([]Account(nil), inv.accounts...)
}

// Account returns the account with the given id, or ErrUnknownAccount.
func (inv *Inventory) Account(id string) (Account, error) {
	if inv != nil {
		if i, ok := inv.byID[id]; ok {
			return inv.accounts[i], nil
		}
	}
	return Account{}, fmt.Errorf("%w %q: not in the inventory", ErrUnknownAccount, id)
}

// Check returns nil when the inventory lists the account and the account
// acts in the region, and ErrUnknownAccount or ErrUnknownRegion otherwise.
func (inv *Inventory) Check(account, region string) error {
	a, err := inv.Account(account)
	if err != nil {
		return err
	}
	if !a.HasRegion(region) {
		return fmt.Errorf("%w %q for account %s (it acts in %s)", ErrUnknownRegion, region, account, strings.Join(a.Regions, ", "))
	}
	return nil
}

// Targets returns every (account, region) pair of the inventory.
func (inv *Inventory) Targets() []Target {
	var out []Target
	for _, a := range inv.Accounts() {
		for _, r := range a.Regions {
			out = append(out, Target{Account: a.ID, Region: r})
		}
	}
	return out
}

// Merge returns an inventory with the accounts of inv, and of other where
// inv has none with the same id: entries of inv win.
func (inv *Inventory) Merge(other *Inventory) *Inventory {
	all := other.Accounts()
	all = append(all, inv.Accounts()...)
	return NewInventory(all)
}

// InventoryFile is the YAML form of an inventory:
//
//	role: arn:aws:iam::{account}:role/steward-remediator   # default role template
//	regions: [us-east-1, eu-west-1]                        # default regions
//	accounts:
//	  - id: "111111111111"
//	    name: payments-prod
//	    class: production
//	    regions: [us-east-1]                               # overrides the default
//	    role: arn:aws:iam::{account}:role/other            # overrides the default
//	    tags: {owner: payments}
//	organizations:                                         # optional
//	  enabled: true
//	  class_from_tag: steward:class
//	  class_from_ou: {Prod: production, Dev: development}
//	  default_class: sandbox
type InventoryFile struct {
	// Role is the default role template; {account} is replaced by the
	// account id. Empty means steward's own credentials.
	Role string `yaml:"role"`
	// Regions are the default regions of every account.
	Regions []string `yaml:"regions"`
	// Accounts are the accounts listed by hand.
	Accounts []AccountEntry `yaml:"accounts"`
	// Organizations, when enabled, lists the organisation's accounts too.
	Organizations OrganizationsSource `yaml:"organizations"`

	lines map[string]int
}

// AccountEntry is one account of an inventory file.
type AccountEntry struct {
	ID      string            `yaml:"id"`
	Name    string            `yaml:"name"`
	Class   string            `yaml:"class"`
	Regions []string          `yaml:"regions"`
	Role    string            `yaml:"role"`
	OU      string            `yaml:"ou"`
	Tags    map[string]string `yaml:"tags"`
}

// OrganizationsSource says how to read accounts from AWS Organizations.
type OrganizationsSource struct {
	// Enabled turns the source on.
	Enabled bool `yaml:"enabled"`
	// ClassFromTag is the account tag whose value is the class.
	ClassFromTag string `yaml:"class_from_tag"`
	// ClassFromOU maps an OU name to a class; the nearest OU wins.
	ClassFromOU map[string]string `yaml:"class_from_ou"`
	// DefaultClass is the class when neither tag nor OU says.
	DefaultClass string `yaml:"default_class"`
	// IncludeSuspended keeps accounts whose status is not ACTIVE.
	IncludeSuspended bool `yaml:"include_suspended"`
}

var (
	accountIDRe = regexp.MustCompile(`^[0-9]{12}$`)
	regionRe    = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$`)
)

// ValidAccountID reports whether id is a 12-digit account id.
func ValidAccountID(id string) bool { return accountIDRe.MatchString(id) }

// ValidRegion reports whether r looks like an AWS region name.
func ValidRegion(r string) bool { return regionRe.MatchString(r) }

// maxInventoryBytes bounds the size of an inventory file.
const maxInventoryBytes = 16 << 20

// ParseInventory decodes and checks an inventory file. Unknown fields are
// errors; so are bad account ids, duplicate accounts, bad regions and role
// templates that are not IAM role ARNs.
func ParseInventory(r io.Reader) (*InventoryFile, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxInventoryBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read inventory: %w", err)
	}
	if len(data) > maxInventoryBytes {
		return nil, &InventoryError{Msg: fmt.Sprintf("file larger than %d bytes", maxInventoryBytes)}
	}
	var f InventoryFile
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &InventoryError{Msg: "file is empty"}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, &InventoryError{Msg: cleanYAMLError(err)}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, &InventoryError{Msg: cleanYAMLError(err)}
	}
	f.lines = accountLines(&root)
	if err := f.check(); err != nil {
		return nil, err
	}
	return &f, nil
}

// LoadInventoryFile reads and checks the inventory file at path.
func LoadInventoryFile(path string) (*InventoryFile, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open inventory: %w", err)
	}
	defer fh.Close()
	f, err := ParseInventory(fh)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

func cleanYAMLError(err error) string {
	return strings.TrimPrefix(err.Error(), "yaml: ")
}

// accountLines finds the line of each accounts[i] entry, for errors.
func accountLines(root *yaml.Node) map[string]int {
	out := map[string]int{}
	if root == nil || len(root.Content) == 0 {
		return out
	}
	doc := root.Content[0]
	if doc.Kind != yaml.MappingNode {
		return out
	}
	for i := 0; i+1 < len(doc.Content); i += 2 {
		k, v := doc.Content[i], doc.Content[i+1]
		out[k.Value] = k.Line
		if k.Value == "accounts" && v.Kind == yaml.SequenceNode {
			for j, e := range v.Content {
				out[fmt.Sprintf("accounts[%d]", j)] = e.Line
			}
		}
	}
	return out
}

func (f *InventoryFile) errAt(field, format string, args ...any) error {
	line := f.lines[field]
	if line == 0 {
		if i := strings.IndexByte(field, '.'); i > 0 {
			line = f.lines[field[:i]]
		}
	}
	return &InventoryError{Line: line, Field: field, Msg: fmt.Sprintf(format, args...)}
}

func (f *InventoryFile) check() error {
	if err := checkRoleTemplate(f.Role); err != nil {
		return f.errAt("role", "%v", err)
	}
	if err := f.checkRegions("regions", f.Regions); err != nil {
		return err
	}
	seen := map[string]int{}
	for i, a := range f.Accounts {
		field := fmt.Sprintf("accounts[%d]", i)
		if a.ID == "" {
			return f.errAt(field+".id", "account id is required")
		}
		if !ValidAccountID(a.ID) {
			return f.errAt(field+".id", "account id %q must be 12 digits (quote it in YAML so leading zeros stay)", a.ID)
		}
		if j, dup := seen[a.ID]; dup {
			return f.errAt(field+".id", "account %s is listed twice (also accounts[%d])", a.ID, j)
		}
		seen[a.ID] = i
		if err := checkRoleTemplate(a.Role); err != nil {
			return f.errAt(field+".role", "%v", err)
		}
		if err := f.checkRegions(field+".regions", a.Regions); err != nil {
			return err
		}
		if len(a.Regions) == 0 && len(f.Regions) == 0 {
			return f.errAt(field+".regions", "account %s has no regions and the file has no default regions", a.ID)
		}
	}
	if len(f.Accounts) == 0 && !f.Organizations.Enabled {
		return f.errAt("accounts", "no accounts listed and organizations is not enabled")
	}
	return nil
}

func (f *InventoryFile) checkRegions(field string, regions []string) error {
	seen := map[string]bool{}
	for i, r := range regions {
		if !ValidRegion(r) {
			return f.errAt(field, "region %q (item %d) is not a region name like us-east-1", r, i)
		}
		if seen[r] {
			return f.errAt(field, "region %s is listed twice", r)
		}
		seen[r] = true
	}
	return nil
}

// checkRoleTemplate accepts "" or an IAM role ARN, possibly with {account}.
func checkRoleTemplate(t string) error {
	if t == "" {
		return nil
	}
	probe := strings.ReplaceAll(t, "{account}", "123456789012")
	if strings.ContainsAny(probe, "{}") {
		return fmt.Errorf("role template %q: the only placeholder is {account}", t)
	}
	parts := strings.SplitN(probe, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || !strings.HasPrefix(parts[5], "role/") || len(parts[5]) <= len("role/") {
		return fmt.Errorf("role template %q is not an IAM role ARN like arn:aws:iam::{account}:role/steward-remediator", t)
	}
	if !ValidAccountID(parts[4]) {
		return fmt.Errorf("role template %q: account part must be {account} or 12 digits", t)
	}
	return nil
}

// RoleFor expands a role template for an account.
func RoleFor(template, account string) string {
	return strings.ReplaceAll(template, "{account}", account)
}

// Inventory returns the accounts listed in the file, with defaults
// applied.
func (f *InventoryFile) Inventory() *Inventory {
	accounts := make([]Account, 0, len(f.Accounts))
	for _, e := range f.Accounts {
		accounts = append(accounts, f.account(e, "file"))
	}
	return NewInventory(accounts)
}

func (f *InventoryFile) account(e AccountEntry, source string) Account {
	role := e.Role
	if role == "" {
		role = f.Role
	}
	regions := e.Regions
	if len(regions) == 0 {
		regions = f.Regions
	}
	tags := make(map[string]string, len(e.Tags))
	for k, v := range e.Tags {
		tags[k] = v
	}
	return Account{ID: e.ID, Name: e.Name, Class: e.Class, Regions: append([]string(nil), regions...),
		Role: RoleFor(role, e.ID), OU: e.OU, Tags: tags, Source: source}
}
