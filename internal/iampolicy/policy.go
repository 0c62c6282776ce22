package iampolicy

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/stewardhq/steward/internal/asl"
)

// Permissions are what one state machine needs, by where they come from.
// Every list is sorted and free of duplicates.
type Permissions struct {
	// Calls are the IAM actions of the aws-sdk Task states: what a
	// playbook's metadata lists as its permissions.
	Calls []string
	// Integrations are the IAM actions of Step Functions' optimized
	// integrations and Lambda functions called directly.
	Integrations []string
	// Builtin are the IAM actions steward calls in the member account for
	// the built-in tasks (steward:*) the definition uses.
	Builtin []string
	// Dependent are actions AWS also checks for some calls (Dependent):
	// rds:CreateDBSnapshot for a DeleteDBInstance with a final snapshot.
	Dependent []string
	// Unmapped lists Task resources no permission could be attributed to
	// (activities, unknown built-ins): the report's honest remainder.
	Unmapped []string
}

// All returns every action, sorted and unique.
func (p Permissions) All() []string {
	return unique(append(append(append(append([]string{}, p.Calls...), p.Integrations...), p.Builtin...), p.Dependent...))
}

// FromDefinition parses and validates an ASL definition (JSON) and returns
// the permissions its Task states need.
func FromDefinition(definition []byte) (Permissions, error) {
	m, err := asl.Parse(definition)
	if err != nil {
		return Permissions{}, fmt.Errorf("parse definition: %w", err)
	}
	return FromMachine(m)
}

// FromMachine returns the permissions of a compiled state machine, walking
// Parallel branches and Map item processors. Every error is kept (joined),
// so one pass names every Task resource that cannot be mapped.
func FromMachine(m *asl.Machine) (Permissions, error) {
	var p Permissions
	var errs []error
	walk(m, func(s *asl.State) {
		if s.Type != asl.TypeTask || s.Resource == "" {
			return
		}
		acts, kind, err := ForResource(s.Resource)
		if err != nil {
			errs = append(errs, fmt.Errorf("state %q: %w", s.Name, err))
			p.Unmapped = append(p.Unmapped, s.Resource)
			return
		}
		switch kind {
		case KindSDK:
			p.Calls = append(p.Calls, acts...)
			for _, a := range acts {
				p.Dependent = append(p.Dependent, dependentActions[a]...)
			}
		case KindOptimized, KindLambda:
			p.Integrations = append(p.Integrations, acts...)
		case KindBuiltin:
			p.Builtin = append(p.Builtin, acts...)
		default:
			p.Unmapped = append(p.Unmapped, s.Resource)
		}
	})
	p.Calls, p.Integrations, p.Unmapped, p.Dependent = unique(p.Calls), unique(p.Integrations), unique(p.Unmapped), unique(p.Dependent)
	p.Builtin = narrowTagging(unique(p.Builtin), p.Calls)
	return p, errors.Join(errs...)
}

// narrowTagging keeps, of the services' own tag permissions that the
// built-in tasks may need, those of the services the definition calls: a
// playbook about EBS volumes tags volumes, not buckets. With no aws-sdk
// calls to go by, it keeps them all.
func narrowTagging(builtin, calls []string) []string {
	if len(calls) == 0 {
		return builtin
	}
	called := map[string]bool{}
	for _, c := range calls {
		svc, _, _ := strings.Cut(c, ":")
		called[svc] = true
	}
	var out []string
	for _, a := range builtin {
		svc, _, _ := strings.Cut(a, ":")
		if serviceTagging[a] && !called[svc] {
			continue
		}
		out = append(out, a)
	}
	return out
}

// walk calls fn for every state of m and of its nested machines.
func walk(m *asl.Machine, fn func(*asl.State)) {
	if m == nil {
		return
	}
	for _, name := range m.Order {
		s := m.States[name]
		if s == nil {
			continue
		}
		fn(s)
		for _, b := range s.Branches {
			walk(b, fn)
		}
		walk(s.Processor, fn)
	}
}

func unique(in []string) []string {
	if len(in) == 0 {
		return nil
	}
	seen := make(map[string]bool, len(in))
	out := make([]string, 0, len(in))
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// Document is an IAM policy document.
type Document struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one statement of a policy document.
type Statement struct {
	Sid       string         `json:"Sid,omitempty"`
	Effect    string         `json:"Effect"`
	Action    []string       `json:"Action"`
	Resource  any            `json:"Resource"`
	Condition map[string]any `json:"Condition,omitempty"`
}

// policyVersion is the current IAM policy language version.
const policyVersion = "2012-10-17"

// JSON renders the document, indented.
func (d Document) JSON() []byte {
	b, _ := json.MarshalIndent(d, "", "  ") // a Document always marshals
	return append(b, '\n')
}

// Sid makes a statement id (alphanumerics only) from a name such as a
// playbook's.
func Sid(name string) string {
	parts := strings.FieldsFunc(name, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	})
	for i, s := range parts {
		parts[i] = pascal(s)
	}
	return strings.Join(parts, "")
}

// PlaybookPolicy is the least-privilege policy of one playbook in a member
// account: its calls, its integrations and its built-in tasks' actions, on
// every resource (the resources a playbook acts on are found at run time,
// so narrowing them is left to conditions a user may add; the actions are
// the least privilege). A playbook that needs nothing gets a statement-less
// document.
func PlaybookPolicy(name string, p Permissions) Document {
	d := Document{Version: policyVersion}
	if acts := p.All(); len(acts) > 0 {
		d.Statement = append(d.Statement, Statement{Sid: Sid("steward " + name), Effect: "Allow", Action: acts, Resource: "*"})
	}
	return d
}

// StewardPolicy is the policy of steward's own principal in its home
// account: assume the member-account roles named by the inventory's role
// template (arn:aws:iam::{account}:role/steward-remediator), in any account.
func StewardPolicy(roleTemplates ...string) Document {
	var arns []string
	for _, t := range roleTemplates {
		arns = append(arns, strings.ReplaceAll(t, "{account}", "*"))
	}
	return Document{Version: policyVersion, Statement: []Statement{{
		Sid: "StewardAssumeMemberRoles", Effect: "Allow", Action: StewardSideActions, Resource: unique(arns),
	}}}
}
