package awssim

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
)

const orgScenario = `
credentials:
  - {access_key_id: AKIDMGMT, secret_access_key: s, account: "111111111111"}
  - {access_key_id: AKIDMEMBER, secret_access_key: s, account: "222222222222"}
  - {access_key_id: AKIDALONE, secret_access_key: s, account: "999999999999"}
accounts:
  - {id: "111111111111", name: mgmt, email: root@example.com, class: management, ou: Root}
  - {id: "222222222222", name: sec, class: production, ou: Root/Security, tags: {owner: secops, tier: "1"}}
  - {id: "333333333333", name: prod-a, class: production, ou: Root/Workloads/Prod}
  - {id: "444444444444", name: prod-b, class: production, ou: Root/Workloads/Prod}
  - {id: "555555555555", name: dev, class: development, ou: Root/Workloads/Dev}
  - {id: "999999999999", name: alone, class: standalone}
`

func TestOrganizations(t *testing.T) {
	sc, err := LoadScenario(strings.NewReader(orgScenario))
	if err != nil {
		t.Fatal(err)
	}
	sim := New(Options{})
	if err := sim.Apply(sc); err != nil {
		t.Fatal(err)
	}
	url, stop := sim.Start()
	defer stop()
	c := organizations.NewFromConfig(sdkConfig(url, testRegion, "AKIDMGMT", "s", ""))
	do, err := c.DescribeOrganization(ctx(t), &organizations.DescribeOrganizationInput{})
	if err != nil || *do.Organization.MasterAccountId != "111111111111" || *do.Organization.MasterAccountEmail != "root@example.com" {
		t.Fatalf("DescribeOrganization = %+v, %v", do, err)
	}
	p := organizations.NewListAccountsPaginator(c, &organizations.ListAccountsInput{MaxResults: aws.Int32(2)})
	var ids []string
	for p.HasMorePages() {
		pg, err := p.NextPage(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range pg.Accounts {
			ids = append(ids, *a.Id)
		}
	}
	if strings.Join(ids, ",") != "111111111111,222222222222,333333333333,444444444444,555555555555" {
		t.Fatalf("ListAccounts = %v", ids)
	}
	roots, err := c.ListRoots(ctx(t), &organizations.ListRootsInput{})
	if err != nil || len(roots.Roots) != 1 {
		t.Fatalf("ListRoots = %+v, %v", roots, err)
	}
	root := *roots.Roots[0].Id
	ous, err := c.ListOrganizationalUnitsForParent(ctx(t), &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String(root)})
	if err != nil || len(ous.OrganizationalUnits) != 2 {
		t.Fatalf("top OUs = %+v, %v", ous, err)
	}
	var workloads string
	for _, ou := range ous.OrganizationalUnits {
		if *ou.Name == "Workloads" {
			workloads = *ou.Id
		}
	}
	sub, err := c.ListOrganizationalUnitsForParent(ctx(t), &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String(workloads)})
	if err != nil || len(sub.OrganizationalUnits) != 2 {
		t.Fatalf("Workloads OUs = %+v, %v", sub, err)
	}
	var prod string
	for _, ou := range sub.OrganizationalUnits {
		if *ou.Name == "Prod" {
			prod = *ou.Id
		}
	}
	afp, err := c.ListAccountsForParent(ctx(t), &organizations.ListAccountsForParentInput{ParentId: aws.String(prod)})
	if err != nil || len(afp.Accounts) != 2 {
		t.Fatalf("ListAccountsForParent = %+v, %v", afp, err)
	}
	par, err := c.ListParents(ctx(t), &organizations.ListParentsInput{ChildId: aws.String("333333333333")})
	if err != nil || *par.Parents[0].Id != prod || par.Parents[0].Type != "ORGANIZATIONAL_UNIT" {
		t.Fatalf("ListParents = %+v, %v", par, err)
	}
	par, err = c.ListParents(ctx(t), &organizations.ListParentsInput{ChildId: aws.String(workloads)})
	if err != nil || *par.Parents[0].Id != root || par.Parents[0].Type != "ROOT" {
		t.Fatalf("ListParents(OU) = %+v, %v", par, err)
	}
	_, err = c.ListParents(ctx(t), &organizations.ListParentsInput{ChildId: aws.String("123456789012")})
	wantAPIError(t, err, "ChildNotFoundException", 404)
	_, err = c.ListAccountsForParent(ctx(t), &organizations.ListAccountsForParentInput{ParentId: aws.String("ou-nope-nope")})
	wantAPIError(t, err, "ParentNotFoundException", 404)
	tags, err := c.ListTagsForResource(ctx(t), &organizations.ListTagsForResourceInput{ResourceId: aws.String("222222222222")})
	if err != nil || len(tags.Tags) != 2 || *tags.Tags[0].Key != "owner" {
		t.Fatalf("ListTagsForResource = %+v, %v", tags, err)
	}
	_, err = c.ListAccounts(ctx(t), &organizations.ListAccountsInput{NextToken: aws.String("junk")})
	wantAPIError(t, err, "InvalidInputException", 400)

	member := organizations.NewFromConfig(sdkConfig(url, testRegion, "AKIDMEMBER", "s", ""))
	if _, err := member.DescribeOrganization(ctx(t), &organizations.DescribeOrganizationInput{}); err != nil {
		t.Fatalf("member DescribeOrganization: %v", err)
	}
	_, err = member.ListAccounts(ctx(t), &organizations.ListAccountsInput{})
	wantAPIError(t, err, "AccessDeniedException", 403)
	alone := organizations.NewFromConfig(sdkConfig(url, testRegion, "AKIDALONE", "s", ""))
	_, err = alone.DescribeOrganization(ctx(t), &organizations.DescribeOrganizationInput{})
	wantAPIError(t, err, "AWSOrganizationsNotInUseException", 404)
}
