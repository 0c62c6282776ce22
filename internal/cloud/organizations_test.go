package cloud

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/stewardhq/steward/internal/awssim"
)

// fakeOrganizations answers the Organizations calls in the AWS JSON
// 1.1 protocol, for an organisation of three accounts in two pages:
//
//	root
//	├── ou-prod "Prod"  ── 111111111111 (tag steward:class=pci)
//	│   └── ou-web "Web" ── 222222222222
//	└── 333333333333 (SUSPENDED) and 444444444444 at the root
//
// It covers what the sim's organisation does not: nested OUs, paginated
// tags and suspended accounts; TestFromOrganizationsSim runs on the sim.
func fakeOrganizations(t *testing.T) (string, *sync.Map) {
	calls := &sync.Map{}
	accounts := []map[string]any{
		{"Id": "111111111111", "Name": "payments", "Status": "ACTIVE"},
		{"Id": "222222222222", "Name": "web", "Status": "ACTIVE"},
		{"Id": "333333333333", "Name": "old", "Status": "SUSPENDED"},
		{"Id": "444444444444", "Name": "lab", "Status": "ACTIVE"},
	}
	parents := map[string]map[string]any{
		"111111111111": {"Id": "ou-prod", "Type": "ORGANIZATIONAL_UNIT"},
		"222222222222": {"Id": "ou-web", "Type": "ORGANIZATIONAL_UNIT"},
		"ou-web":       {"Id": "ou-prod", "Type": "ORGANIZATIONAL_UNIT"},
		"ou-prod":      {"Id": "r-root", "Type": "ROOT"},
		"333333333333": {"Id": "r-root", "Type": "ROOT"},
		"444444444444": {"Id": "r-root", "Type": "ROOT"},
	}
	children := map[string][]any{
		"r-root":  {map[string]any{"Id": "ou-prod", "Name": "Prod"}},
		"ou-prod": {map[string]any{"Id": "ou-web", "Name": "Web"}},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AWSOrganizationsV20161128.")
		n, _ := calls.LoadOrStore(op, new(int))
		*(n.(*int))++
		var in map[string]any
		_ = json.NewDecoder(r.Body).Decode(&in)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		var out any
		switch op {
		case "ListAccounts":
			if in["NextToken"] == "page2" {
				out = map[string]any{"Accounts": accounts[2:]}
			} else {
				out = map[string]any{"Accounts": accounts[:2], "NextToken": "page2"}
			}
		case "ListParents":
			out = map[string]any{"Parents": []any{parents[in["ChildId"].(string)]}}
		case "ListRoots":
			out = map[string]any{"Roots": []any{map[string]any{"Id": "r-root", "Name": "Root"}}}
		case "ListOrganizationalUnitsForParent":
			out = map[string]any{"OrganizationalUnits": append([]any{}, children[in["ParentId"].(string)]...)}
		case "ListTagsForResource":
			if in["ResourceId"] == "111111111111" {
				if in["NextToken"] == nil {
					out = map[string]any{"Tags": []any{map[string]any{"Key": "owner", "Value": "payments"}}, "NextToken": "t2"}
				} else {
					out = map[string]any{"Tags": []any{map[string]any{"Key": "steward:class", "Value": "pci"}}}
				}
			} else {
				out = map[string]any{"Tags": []any{}}
			}
		default:
			w.WriteHeader(400)
			out = map[string]any{"__type": "InvalidInputException", "Message": "unknown operation " + op}
		}
		_ = json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, calls
}

func TestFromOrganizations(t *testing.T) {
	url, calls := fakeOrganizations(t)
	c, err := New(context.Background(), Config{Endpoint: url, Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")})
	if err != nil {
		t.Fatal(err)
	}
	f, err := ParseInventory(strings.NewReader(`role: arn:aws:iam::{account}:role/steward-remediator
regions: [us-east-1, eu-west-1]
accounts:
  - id: "444444444444"
    name: lab-by-hand
    class: sandbox
    regions: [eu-west-1]
organizations:
  enabled: true
  class_from_tag: steward:class
  class_from_ou: {Prod: production, Web: web-production}
  default_class: unclassified
`))
	if err != nil {
		t.Fatal(err)
	}
	inv, err := LoadInventory(context.Background(), f, c.Organizations())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Account{}
	for _, a := range inv.Accounts() {
		got[a.ID] = a
	}
	if len(got) != 3 {
		t.Fatalf("accounts %v: want 3 (the suspended one left out)", inv.Accounts())
	}
	if a := got["111111111111"]; a.Class != "pci" || a.OU != "Prod" || a.Tags["owner"] != "payments" || a.Role != "arn:aws:iam::111111111111:role/steward-remediator" || a.Source != "organizations" {
		t.Fatalf("tagged account: %+v", a)
	}
	if a := got["222222222222"]; a.Class != "web-production" || a.OU != "Web" || len(a.Regions) != 2 {
		t.Fatalf("nested OU account (nearest OU wins): %+v", a)
	}
	if a := got["444444444444"]; a.Name != "lab-by-hand" || a.Class != "sandbox" || a.Source != "file" {
		t.Fatalf("the file's entry should win: %+v", a)
	}
	for op, want := range map[string]int{"ListRoots": 1, "ListOrganizationalUnitsForParent": 3, "ListAccounts": 2, "ListParents": 3} {
		n, _ := calls.Load(op)
		if n == nil || *(n.(*int)) != want {
			t.Fatalf("%s called %v times, want %d", op, n, want)
		}
	}
	// Without the suspended filter.
	f.Organizations.IncludeSuspended = true
	inv, err = FromOrganizations(context.Background(), c.Organizations(), f.Organizations, f)
	if err != nil || len(inv.Accounts()) != 4 {
		t.Fatalf("include suspended: %v %d", err, len(inv.Accounts()))
	}
	if a, _ := inv.Account("333333333333"); a.Class != "unclassified" {
		t.Fatalf("default class: %+v", a)
	}
}

// TestFromOrganizationsSim reads the sim's organisation: accounts with an
// OU path and tags, through the SDK client over HTTP.
func TestFromOrganizationsSim(t *testing.T) {
	e := newEnv(t)
	e.needSim(t, "seeding an organisation")
	for _, a := range []awssim.AccountInfo{
		{ID: homeAccount, Name: "management", Class: "management"},
		{ID: testAccounts[0], Name: "payments", OU: "Root/Prod", Tags: map[string]string{"steward:class": "pci"}},
		{ID: testAccounts[1], Name: "web", OU: "Root/Prod/Web"},
		{ID: testAccounts[2], Name: "lab", OU: "Root/Sandbox"},
		{ID: testAccounts[3], Name: "loose"},
	} {
		if err := e.sim.AddAccount(a); err != nil {
			t.Fatal(err)
		}
	}
	c := e.cloud(t, nil)
	f := &InventoryFile{Role: roleTmpl, Regions: []string{"us-east-1"}, Organizations: OrganizationsSource{Enabled: true,
		ClassFromTag: "steward:class", ClassFromOU: map[string]string{"Prod": "production", "Sandbox": "sandbox"}, DefaultClass: "other"}}
	inv, err := LoadInventory(context.Background(), f, c.Organizations())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]string{ // id -> class, OU
		testAccounts[0]: {"pci", "Prod"},
		testAccounts[1]: {"production", "Web"},
		testAccounts[2]: {"sandbox", "Sandbox"},
		testAccounts[3]: {"other", ""},
	}
	for id, w := range want {
		a, err := inv.Account(id)
		if err != nil {
			t.Fatalf("%s: %v (inventory %v)", id, err, inv.Accounts())
		}
		if a.Class != w[0] || a.OU != w[1] || a.Role != RoleFor(roleTmpl, id) {
			t.Fatalf("%s: class %q OU %q role %q, want %q %q", id, a.Class, a.OU, a.Role, w[0], w[1])
		}
	}
	if a, _ := inv.Account(testAccounts[0]); a.Tags["steward:class"] != "pci" {
		t.Fatalf("tags: %v", a.Tags)
	}
	t.Logf("%d accounts from the sim's organisation", len(inv.Accounts()))
}
