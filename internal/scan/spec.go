// Package scan runs a playbook's scan: in every (account, region) of the
// inventory at once, it pages through the list call of the playbook's
// scan spec and starts one execution of the playbook per resource found,
// named from the scan and the resource so that a rerun or a crash never
// starts one twice. It then summarises the executions by outcome.
package scan

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/stewardhq/steward/internal/cloud"
)

// Sentinel errors.
var (
	// ErrBadSpec reports a scan spec steward cannot run.
	ErrBadSpec = errors.New("bad scan spec")
	// ErrBadRequest reports a scan request naming accounts or regions the
	// inventory does not have, or no playbook.
	ErrBadRequest = errors.New("bad scan request")
	// ErrUnknownScan reports a scan id the store does not know.
	ErrUnknownScan = errors.New("unknown scan")
)

// Spec is the list call a scan makes in each account and region (a
// playbook's scan: in its metadata).
type Spec struct {
	// Service and Action name the call as Step Functions' aws-sdk
	// integration does: "ec2", "DescribeVolumes" (or "describeVolumes").
	Service string `json:"service"`
	Action  string `json:"action"`
	// Parameters are the call's input, PascalCase as the API's (server-side
	// filters, the largest page size the API allows).
	Parameters map[string]any `json:"parameters,omitempty"`
	// Items is the field of each page holding the resources; a dotted path
	// flattens nested lists ("Reservations.Instances").
	Items string `json:"items"`
	// NextToken is the request field carrying the paging token; default
	// "NextToken". OutputToken is the response field; default NextToken.
	NextToken   string `json:"nextToken,omitempty"`
	OutputToken string `json:"outputToken,omitempty"`
	// ID is the field of an item naming the resource ("VolumeId"); default
	// guessed from Items (Volumes: VolumeId, then VolumeArn, VolumeName),
	// then Arn, Id, Name.
	ID string `json:"id,omitempty"`
	// Global scans run once per account, in its first region (services
	// with one endpoint: iam, route53).
	Global bool `json:"global,omitempty"`
}

// Resource returns the Step Functions resource of the list call.
func (s Spec) Resource() string {
	a := s.Action
	if r, size := utf8.DecodeRuneInString(a); r != utf8.RuneError {
		a = string(unicode.ToLower(r)) + a[size:]
	}
	return cloud.ResourcePrefix + s.Service + ":" + a
}

// Check reports what makes a spec unusable.
func (s Spec) Check() error {
	var problems []string
	if s.Service == "" {
		problems = append(problems, "no service")
	}
	if s.Action == "" {
		problems = append(problems, "no action")
	} else if r, _ := utf8.DecodeRuneInString(s.Action); !unicode.IsLetter(r) || strings.ContainsAny(s.Action, ":. ") {
		problems = append(problems, fmt.Sprintf("action %q is not an API action name", s.Action))
	}
	if s.Items == "" {
		problems = append(problems, "no items field")
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrBadSpec, strings.Join(problems, ", "))
	}
	return nil
}

func (s Spec) inputToken() string {
	if s.NextToken != "" {
		return s.NextToken
	}
	return "NextToken"
}

func (s Spec) outputToken() string {
	if s.OutputToken != "" {
		return s.OutputToken
	}
	return s.inputToken()
}

// ItemsOf returns the resources of one page (a list call's output).
func (s Spec) ItemsOf(page map[string]any) []any { return s.items(page) }

// items returns the resources of one page.
func (s Spec) items(page map[string]any) []any {
	var cur []any = []any{page}
	for _, seg := range strings.Split(s.Items, ".") {
		var next []any
		for _, c := range cur {
			m, ok := c.(map[string]any)
			if !ok {
				continue
			}
			switch v := m[seg].(type) {
			case []any:
				next = append(next, v...)
			case nil:
			default:
				next = append(next, v)
			}
		}
		cur = next
	}
	return cur
}

// singular turns a list field's name into its item's: Volumes → Volume,
// Policies → Policy.
func singular(s string) string {
	if i := strings.LastIndex(s, "."); i >= 0 {
		s = s[i+1:]
	}
	switch {
	case strings.HasSuffix(s, "ies"):
		return strings.TrimSuffix(s, "ies") + "y"
	case strings.HasSuffix(s, "ses"):
		return strings.TrimSuffix(s, "es")
	case strings.HasSuffix(s, "s"):
		return strings.TrimSuffix(s, "s")
	}
	return s
}

// ResourceID names an item: its ID field (or the guessed one); an item
// with none is named by a hash of its JSON.
func (s Spec) ResourceID(item any) string {
	m, _ := item.(map[string]any)
	fields := []string{s.ID}
	if s.ID == "" {
		one := singular(s.Items)
		fields = []string{one + "Id", one + "Arn", one + "Name", one + "Identifier", "Arn", "Id", "Name"}
	}
	for _, f := range fields {
		if v, ok := m[f].(string); ok && v != "" {
			return v
		}
	}
	if s.ID == "" && m != nil {
		// Any single field ending in Id.
		var ids []string
		for k, v := range m {
			if str, ok := v.(string); ok && str != "" && strings.HasSuffix(k, "Id") {
				ids = append(ids, str)
			}
		}
		if len(ids) == 1 {
			return ids[0]
		}
	}
	b, _ := json.Marshal(item)
	h := sha256.Sum256(b)
	return "sha256-" + hex.EncodeToString(h[:12])
}

// ExecutionName is the name of the execution a scan starts for a
// resource: the scan id and a hash of (account, region, resource id), so
// that the same scan never starts it twice. Valid for Step Functions
// (at most 80 characters) while the scan id is at most 58.
func ExecutionName(scanID, account, region, resourceID string) string {
	h := sha256.Sum256([]byte(account + "\x00" + region + "\x00" + resourceID))
	return scanID + "-" + hex.EncodeToString(h[:10])
}

// sortedKeys returns m's keys in order.
func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
