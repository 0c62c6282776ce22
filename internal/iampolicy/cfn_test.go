package iampolicy_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/stewardhq/steward/internal/cloud"
	"github.com/stewardhq/steward/internal/iampolicy"
	"github.com/stewardhq/steward/playbooks"
)

var update = flag.Bool("update", false, "rewrite the generated action lists of docs/iam/steward-roles.cfn.yaml")

// TestRolesTemplate checks docs/iam/steward-roles.cfn.yaml: the three roles
// exist, only steward's principal may assume them, the auditor has
// SecurityAudit, the tagger exactly TaggingActions, and the remediator
// exactly the union of what the playbooks under playbooks/ need (their
// aws-sdk calls, their scans' list calls, their built-in tasks' actions,
// and the permissions their metadata lists). With -update it rewrites the
// two generated lists instead.
func TestRolesTemplate(t *testing.T) {
	root := moduleRoot(t)
	path := filepath.Join(root, "docs", "iam", "steward-roles.cfn.yaml")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	need, names := playbookActions(t, root)
	if *update {
		src = replaceBlock(t, src, "tagger actions", unique(iampolicy.TaggingActions))
		src = replaceBlock(t, src, "remediator actions", need)
		if err := os.WriteFile(path, src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	res := lookup(doc.Content[0], "Resources")
	if res == nil {
		t.Fatal("no Resources")
	}
	for _, p := range []string{"StewardPrincipalArn", "ExternalId", "RoleNamePrefix"} {
		if lookup(lookup(doc.Content[0], "Parameters"), p) == nil {
			t.Errorf("parameter %s missing", p)
		}
	}
	roles := map[string][]string{}
	for _, name := range []string{"AuditorRole", "TaggerRole", "RemediatorRole"} {
		r := lookup(res, name)
		if r == nil {
			t.Fatalf("role %s missing", name)
		}
		if typ := lookup(r, "Type"); typ == nil || typ.Value != "AWS::IAM::Role" {
			t.Fatalf("%s is not an AWS::IAM::Role", name)
		}
		props := lookup(r, "Properties")
		checkTrust(t, name, lookup(props, "AssumeRolePolicyDocument"))
		roles[name] = policyActions(lookup(props, "Policies"))
		if rn := lookup(props, "RoleName"); rn == nil || rn.Tag != "!Sub" || !strings.HasPrefix(rn.Value, "${RoleNamePrefix}-") {
			t.Errorf("%s: RoleName should be !Sub ${RoleNamePrefix}-...", name)
		}
	}
	managed := lookup(lookup(lookup(res, "AuditorRole"), "Properties"), "ManagedPolicyArns")
	if managed == nil || len(managed.Content) != 1 || !strings.HasSuffix(managed.Content[0].Value, ":iam::aws:policy/SecurityAudit") {
		t.Error("the auditor should have exactly the SecurityAudit managed policy")
	}
	if len(roles["AuditorRole"]) != 0 {
		t.Errorf("the auditor has inline actions %q: it should be read-only through SecurityAudit", roles["AuditorRole"])
	}
	if got, want := roles["TaggerRole"], unique(append(append([]string{}, iampolicy.TaggingActions...), iampolicy.LookupActions...)); !slices.Equal(got, want) {
		t.Errorf("tagger actions %q, want %q", got, want)
	}
	got := roles["RemediatorRole"]
	var missing, extra []string
	for _, a := range need {
		if !slices.Contains(got, a) {
			missing = append(missing, a)
		}
	}
	for _, a := range got {
		if !slices.Contains(need, a) {
			extra = append(extra, a)
		}
	}
	if len(missing)+len(extra) > 0 {
		t.Errorf("remediator: missing %q, not needed %q; run go test ./internal/iampolicy -run TestRolesTemplate -update", missing, extra)
	}
	t.Logf("roles template: 3 roles; remediator covers %d actions of %d playbooks (%s)", len(need), len(names), strings.Join(names, ", "))
}

// TestPlaybookPolicies checks docs/iam/policies/<playbook>.json, the
// least-privilege policy of each playbook of the catalogue (what
// `steward playbooks policy NAME` prints); -update writes them.
func TestPlaybookPolicies(t *testing.T) {
	dir := filepath.Join(moduleRoot(t), "docs", "iam", "policies")
	if *update {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	checked := 0
	for _, p := range playbooks.All() {
		want := p.Policy().JSON()
		path := filepath.Join(dir, p.Name+".json")
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%s: %v (run with -update)", p.Name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale; run go test ./internal/iampolicy -run TestPlaybookPolicies -update", path)
			continue
		}
		checked++
	}
	t.Logf("per-playbook policies: %d/%d up to date", checked, len(playbooks.All()))
}

// playbookActions is the union of what the catalogue's playbooks need
// (playbooks.All: their aws-sdk calls, their scans' list calls, their
// built-in tasks' actions) and their names. Every playbook file on disk
// must have loaded: one that did not is not covered.
func playbookActions(t *testing.T, root string) ([]string, []string) {
	t.Helper()
	var all, names []string
	for _, p := range playbooks.All() {
		all = append(all, p.PolicyActions()...)
		names = append(names, p.Name)
	}
	defs, _ := filepath.Glob(filepath.Join(root, "playbooks", "*.asl.json"))
	if len(defs) != len(names) {
		t.Errorf("%d playbooks on disk, %d in the catalogue: %v", len(defs), len(names), playbooks.Problems())
	}
	sort.Strings(names)
	return unique(all), names
}

func unique(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// checkTrust checks that only steward's principal may assume a role, with
// the optional external id.
func checkTrust(t *testing.T, role string, doc *yaml.Node) {
	t.Helper()
	sts := lookup(doc, "Statement")
	if sts == nil || len(sts.Content) != 1 {
		t.Fatalf("%s: want one trust statement", role)
	}
	st := sts.Content[0]
	p := lookup(lookup(st, "Principal"), "AWS")
	if p == nil || p.Tag != "!Ref" || p.Value != "StewardPrincipalArn" {
		t.Errorf("%s: trust principal should be !Ref StewardPrincipalArn", role)
	}
	if a := lookup(st, "Action"); a == nil || a.Value != "sts:AssumeRole" {
		t.Errorf("%s: trust action should be sts:AssumeRole", role)
	}
	if c := lookup(st, "Condition"); c == nil || c.Tag != "!If" || !strings.Contains(nodeText(c), "sts:ExternalId") {
		t.Errorf("%s: trust should require the external id when one is given", role)
	}
}

// policyActions lists the Allow actions of a role's inline policies.
func policyActions(policies *yaml.Node) []string {
	if policies == nil {
		return nil
	}
	var out []string
	for _, pol := range policies.Content {
		sts := lookup(lookup(pol, "PolicyDocument"), "Statement")
		if sts == nil {
			continue
		}
		for _, st := range sts.Content {
			if e := lookup(st, "Effect"); e == nil || e.Value != "Allow" {
				continue
			}
			a := lookup(st, "Action")
			switch {
			case a == nil:
			case a.Kind == yaml.ScalarNode && a.Tag != "!!null":
				out = append(out, a.Value)
			case a.Kind == yaml.SequenceNode:
				for _, n := range a.Content {
					out = append(out, n.Value)
				}
			}
		}
	}
	return unique(out)
}

// lookup returns the value of key in a mapping node, or nil.
func lookup(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func nodeText(n *yaml.Node) string {
	b, _ := yaml.Marshal(n)
	return string(b)
}

// replaceBlock rewrites the list between "# BEGIN <what>" and
// "# END <what>", keeping the markers' indentation.
func replaceBlock(t *testing.T, src []byte, what string, items []string) []byte {
	t.Helper()
	lines := strings.Split(string(src), "\n")
	begin, end := -1, -1
	for i, l := range lines {
		if strings.Contains(l, "# BEGIN "+what) {
			begin = i
		}
		if strings.Contains(l, "# END "+what) {
			end = i
		}
	}
	if begin < 0 || end < begin {
		t.Fatalf("markers for %s not found", what)
	}
	indent := lines[begin][:len(lines[begin])-len(strings.TrimLeft(lines[begin], " "))]
	var mid []string
	for _, it := range items {
		mid = append(mid, fmt.Sprintf("%s- %s", indent, it))
	}
	out := append(append(append([]string{}, lines[:begin+1]...), mid...), lines[end:]...)
	return []byte(strings.Join(out, "\n"))
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found")
		}
		dir = parent
	}
}

// TestCloudServicesKnown: every service of steward's aws-sdk integration
// has an IAM prefix here, so a playbook calling it gets a policy.
func TestCloudServicesKnown(t *testing.T) {
	for _, svc := range cloud.ServiceNames() {
		if _, err := iampolicy.Actions(svc, "describeSomething"); err != nil {
			t.Errorf("service %s: %v", svc, err)
		}
	}
	t.Logf("%d aws-sdk services mapped", len(cloud.ServiceNames()))
}
