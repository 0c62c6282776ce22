package cloud

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/stewardhq/steward/internal/awssim"
)

// TestFromOrganizations reads the sim's organisation through the SDK
// client over HTTP:
//
//	root
//	├── Prod ── payments (23 tags: two pages; steward:class=pci)
//	│   └── Web ── web
//	├── Sandbox ── lab (the inventory file's entry wins)
//	├── Bulk ── 20 accounts (so ListAccounts takes two pages)
//	└── loose, and steward's management account
func TestFromOrganizations(t *testing.T) {
	e := newEnv(t)
	e.needSim(t, "seeding an organisation")
	tags := map[string]string{"owner": "payments", "steward:class": "pci"}
	for i := 0; i < 21; i++ {
		tags[fmt.Sprintf("a-%02d", i)] = "filler"
	}
	accts := []awssim.AccountInfo{
		{ID: homeAccount, Name: "management", Class: "management"},
		{ID: testAccounts[0], Name: "payments", OU: "Root/Prod", Tags: tags},
		{ID: testAccounts[1], Name: "web", OU: "Root/Prod/Web"},
		{ID: testAccounts[2], Name: "lab", OU: "Root/Sandbox"},
		{ID: testAccounts[3], Name: "loose"},
		{ID: testAccounts[4], Name: "other"},
	}
	for i := 0; i < 20; i++ {
		accts = append(accts, awssim.AccountInfo{ID: fmt.Sprintf("7000000000%02d", i), Name: fmt.Sprintf("bulk-%02d", i), OU: "Root/Bulk"})
	}
	for _, a := range accts {
		if err := e.sim.AddAccount(a); err != nil {
			t.Fatal(err)
		}
	}
	c := e.cloud(t, nil)
	f, err := ParseInventory(strings.NewReader(`role: arn:aws:iam::{account}:role/steward-remediator
regions: [us-east-1, eu-west-1]
accounts:
  - id: "` + testAccounts[2] + `"
    name: lab-by-hand
    class: sandbox
    regions: [eu-west-1]
organizations:
  enabled: true
  class_from_tag: steward:class
  class_from_ou: {Prod: production, Web: web-production, Bulk: bulk}
  default_class: unclassified
`))
	if err != nil {
		t.Fatal(err)
	}
	e.sim.ResetCalls()
	inv, err := LoadInventory(context.Background(), f, c.Organizations())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Account{}
	for _, a := range inv.Accounts() {
		got[a.ID] = a
	}
	if len(got) != len(accts) {
		t.Fatalf("%d accounts, want %d", len(got), len(accts))
	}
	if a := got[testAccounts[0]]; a.Class != "pci" || a.OU != "Prod" || a.Tags["owner"] != "payments" || len(a.Tags) != len(tags) ||
		a.Role != "arn:aws:iam::"+testAccounts[0]+":role/steward-remediator" || a.Source != "organizations" {
		t.Fatalf("tagged account (tags over two pages): %+v", a)
	}
	if a := got[testAccounts[1]]; a.Class != "web-production" || a.OU != "Web" || len(a.Regions) != 2 {
		t.Fatalf("nested OU account (nearest OU wins): %+v", a)
	}
	if a := got[testAccounts[2]]; a.Name != "lab-by-hand" || a.Class != "sandbox" || a.Source != "file" || len(a.Regions) != 1 {
		t.Fatalf("the file's entry should win: %+v", a)
	}
	if a := got[testAccounts[3]]; a.Class != "unclassified" || a.OU != "" {
		t.Fatalf("account at the root: %+v", a)
	}
	if a := got["700000000013"]; a.Class != "bulk" || a.Name != "bulk-13" {
		t.Fatalf("account of the second ListAccounts page: %+v", a)
	}
	calls := e.sim.Calls()
	// One ListRoots; one ListOrganizationalUnitsForParent per parent (the
	// root and its four OUs); ListAccounts in pages of 20; one ListParents
	// per account; ListTagsForResource once per account, twice for the
	// account with 23 tags.
	for op, want := range map[string]int{
		"ListRoots": 1, "ListOrganizationalUnitsForParent": 5, "ListAccounts": 2,
		"ListParents": len(accts), "ListTagsForResource": len(accts) + 1,
	} {
		if n := calls["organizations:"+op]; n != want {
			t.Errorf("%s called %d times, want %d (calls %v)", op, n, want, calls)
		}
	}
	t.Logf("%d accounts from the sim's organisation in %d Organizations calls", len(got), calls["total"])
}

// TestFromOrganizationsSuspended leaves out accounts that are not ACTIVE
// unless asked. The sim's accounts are all ACTIVE (it has no account
// life cycle), so this one case uses an in-memory OrganizationsAPI.
func TestFromOrganizationsSuspended(t *testing.T) {
	api := suspendedOrg{}
	src := OrganizationsSource{Enabled: true, DefaultClass: "unclassified"}
	inv, err := FromOrganizations(context.Background(), api, src, &InventoryFile{Regions: []string{"us-east-1"}})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(inv.Accounts()); n != 1 {
		t.Fatalf("%d accounts, want the active one only", n)
	}
	src.IncludeSuspended = true
	inv, err = FromOrganizations(context.Background(), api, src, &InventoryFile{Regions: []string{"us-east-1"}})
	if err != nil || len(inv.Accounts()) != 2 {
		t.Fatalf("include suspended: %v %d", err, len(inv.Accounts()))
	}
	if a, _ := inv.Account("333333333333"); a.Class != "unclassified" {
		t.Fatalf("default class: %+v", a)
	}
}

// suspendedOrg is an organisation of two accounts at the root, one
// suspended.
type suspendedOrg struct{}

func (suspendedOrg) ListRoots(context.Context, *organizations.ListRootsInput, ...func(*organizations.Options)) (*organizations.ListRootsOutput, error) {
	return &organizations.ListRootsOutput{Roots: []orgtypes.Root{{Id: aws.String("r-root"), Name: aws.String("Root")}}}, nil
}

func (suspendedOrg) ListOrganizationalUnitsForParent(context.Context, *organizations.ListOrganizationalUnitsForParentInput, ...func(*organizations.Options)) (*organizations.ListOrganizationalUnitsForParentOutput, error) {
	return &organizations.ListOrganizationalUnitsForParentOutput{}, nil
}

func (suspendedOrg) ListAccounts(context.Context, *organizations.ListAccountsInput, ...func(*organizations.Options)) (*organizations.ListAccountsOutput, error) {
	return &organizations.ListAccountsOutput{Accounts: []orgtypes.Account{
		{Id: aws.String("444444444444"), Name: aws.String("lab"), Status: orgtypes.AccountStatusActive},
		{Id: aws.String("333333333333"), Name: aws.String("old"), Status: orgtypes.AccountStatusSuspended},
	}}, nil
}

func (suspendedOrg) ListParents(context.Context, *organizations.ListParentsInput, ...func(*organizations.Options)) (*organizations.ListParentsOutput, error) {
	return &organizations.ListParentsOutput{Parents: []orgtypes.Parent{{Id: aws.String("r-root"), Type: orgtypes.ParentTypeRoot}}}, nil
}

func (suspendedOrg) ListTagsForResource(context.Context, *organizations.ListTagsForResourceInput, ...func(*organizations.Options)) (*organizations.ListTagsForResourceOutput, error) {
	return &organizations.ListTagsForResourceOutput{}, nil
}
