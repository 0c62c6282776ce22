package cloud

import (
	"errors"
	"strings"
	"testing"
)

func TestParseInventory(t *testing.T) {
	const good = `role: arn:aws:iam::{account}:role/steward-remediator
regions: [us-east-1, eu-west-1]
accounts:
  - id: "111111111111"
    name: payments-prod
    class: production
    regions: [us-east-1]
    tags: {owner: payments}
  - id: "222222222222"
    name: sandbox
    class: sandbox
    role: arn:aws:iam::{account}:role/other
  - id: "333333333333"
    role: arn:aws:iam::444444444444:role/hub
`
	f, err := ParseInventory(strings.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	inv := f.Inventory()
	a, err := inv.Account("111111111111")
	if err != nil {
		t.Fatal(err)
	}
	if a.Role != "arn:aws:iam::111111111111:role/steward-remediator" || len(a.Regions) != 1 || a.Class != "production" || a.Tags["owner"] != "payments" {
		t.Fatalf("account 1: %+v", a)
	}
	b, _ := inv.Account("222222222222")
	if b.Role != "arn:aws:iam::222222222222:role/other" || strings.Join(b.Regions, ",") != "us-east-1,eu-west-1" {
		t.Fatalf("account 2: %+v", b)
	}
	if err := inv.Check("111111111111", "eu-west-1"); !errors.Is(err, ErrUnknownRegion) {
		t.Fatalf("region outside the account: %v", err)
	}
	if err := inv.Check("999999999999", "us-east-1"); !errors.Is(err, ErrUnknownAccount) {
		t.Fatalf("unknown account: %v", err)
	}
	if n := len(inv.Targets()); n != 1+2+2 {
		t.Fatalf("targets: %d", n)
	}

	bad := []struct {
		name, src string
		want      []string
	}{
		{"empty", "", []string{"empty"}},
		{"malformed", "accounts: [\n", []string{"inventory"}},
		{"not a mapping", "- a\n- b\n", []string{"inventory"}},
		{"unknown field", "regions: [us-east-1]\naccounts:\n  - id: \"111111111111\"\n    clas: x\n", []string{"clas"}},
		{"short id", "regions: [us-east-1]\naccounts:\n  - id: \"1111\"\n", []string{"accounts[0].id", "12 digits", "line 3"}},
		{"float id", "regions: [us-east-1]\naccounts:\n  - id: 1.1e11\n", []string{"accounts[0].id"}},
		{"missing id", "regions: [us-east-1]\naccounts:\n  - name: x\n", []string{"accounts[0].id", "required"}},
		{"duplicate", "regions: [us-east-1]\naccounts:\n  - id: \"111111111111\"\n  - id: \"111111111111\"\n", []string{"accounts[1].id", "twice", "line 4"}},
		{"bad region", "regions: [us-east]\naccounts:\n  - id: \"111111111111\"\n", []string{"regions", "us-east"}},
		{"duplicate region", "regions: [us-east-1, us-east-1]\naccounts:\n  - id: \"111111111111\"\n", []string{"twice"}},
		{"no regions", "accounts:\n  - id: \"111111111111\"\n", []string{"no regions"}},
		{"bad role", "role: steward\nregions: [us-east-1]\naccounts:\n  - id: \"111111111111\"\n", []string{"role", "IAM role ARN"}},
		{"bad placeholder", "role: arn:aws:iam::{acct}:role/x\nregions: [us-east-1]\naccounts:\n  - id: \"111111111111\"\n", []string{"{account}"}},
		{"no accounts", "regions: [us-east-1]\n", []string{"no accounts"}},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseInventory(strings.NewReader(tt.src))
			if !errors.Is(err, ErrInvalidInventory) {
				t.Fatalf("err %v, want ErrInvalidInventory", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestInventoryMerge(t *testing.T) {
	file := NewInventory([]Account{{ID: "111111111111", Class: "production", Source: "file"}})
	org := NewInventory([]Account{{ID: "111111111111", Class: "sandbox", Source: "organizations"}, {ID: "222222222222", Source: "organizations"}})
	m := file.Merge(org)
	a, _ := m.Account("111111111111")
	if a.Class != "production" || len(m.Accounts()) != 2 {
		t.Fatalf("merge: %+v", m.Accounts())
	}
}

func FuzzParseInventory(f *testing.F) {
	f.Add("role: arn:aws:iam::{account}:role/x\nregions: [us-east-1]\naccounts:\n  - id: \"111111111111\"\n    tags: {a: b}\n")
	f.Add("accounts: [\n")
	f.Add("organizations: {enabled: true, class_from_ou: {Prod: production}}\nregions: [eu-west-1]\n")
	f.Add("- 1\n")
	f.Add("accounts:\n  - id: &a \"111111111111\"\n  - id: *a\n")
	f.Fuzz(func(t *testing.T, src string) {
		fi, err := ParseInventory(strings.NewReader(src))
		if err != nil {
			if !errors.Is(err, ErrInvalidInventory) && !strings.HasPrefix(err.Error(), "read inventory") {
				t.Fatalf("error not ErrInvalidInventory: %v", err)
			}
			return
		}
		inv := fi.Inventory()
		for _, a := range inv.Accounts() {
			if !ValidAccountID(a.ID) || len(a.Regions) == 0 {
				t.Fatalf("accepted a bad account %+v", a)
			}
			if err := inv.Check(a.ID, a.Regions[0]); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func TestCloudClassOf(t *testing.T) {
	var none *Cloud
	if got := none.ClassOf("111111111111"); got != "" {
		t.Errorf("nil Cloud: %q", got)
	}
	c := &Cloud{cfg: Config{Inventory: NewInventory([]Account{{ID: "111111111111", Class: "production", Regions: []string{"us-east-1"}}})}}
	if got := c.ClassOf("111111111111"); got != "production" {
		t.Errorf("listed account: %q", got)
	}
	if got := c.ClassOf("222222222222"); got != "" {
		t.Errorf("unlisted account: %q", got)
	}
}
