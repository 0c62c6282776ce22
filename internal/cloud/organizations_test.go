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
)

// fakeOrganizations answers the four Organizations calls in the AWS JSON
// 1.1 protocol, for an organisation of three accounts in two pages:
//
//	root
//	├── ou-prod "Prod"  ── 111111111111 (tag steward:class=pci)
//	│   └── ou-web "Web" ── 222222222222
//	└── 333333333333 (SUSPENDED) and 444444444444 at the root
//
// internal/awssim has no Organizations yet; this stands in for it, over
// HTTP through the SDK client all the same.
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
	names := map[string]string{"ou-prod": "Prod", "ou-web": "Web"}
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
		case "DescribeOrganizationalUnit":
			id := in["OrganizationalUnitId"].(string)
			out = map[string]any{"OrganizationalUnit": map[string]any{"Id": id, "Name": names[id]}}
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
	n, _ := calls.Load("DescribeOrganizationalUnit")
	if *(n.(*int)) != 2 {
		t.Fatalf("DescribeOrganizationalUnit called %d times, want 2 (cached per OU)", *(n.(*int)))
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
