package cloud

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
)

// OrganizationsAPI is the part of the AWS Organizations client that
// FromOrganizations uses; *organizations.Client implements it.
type OrganizationsAPI interface {
	// ListAccounts lists the organisation's accounts, a page at a time.
	ListAccounts(ctx context.Context, in *organizations.ListAccountsInput, opts ...func(*organizations.Options)) (*organizations.ListAccountsOutput, error)
	// ListParents returns the OU or root that holds an account or OU.
	ListParents(ctx context.Context, in *organizations.ListParentsInput, opts ...func(*organizations.Options)) (*organizations.ListParentsOutput, error)
	// DescribeOrganizationalUnit returns an OU's name.
	DescribeOrganizationalUnit(ctx context.Context, in *organizations.DescribeOrganizationalUnitInput, opts ...func(*organizations.Options)) (*organizations.DescribeOrganizationalUnitOutput, error)
	// ListTagsForResource lists an account's tags, a page at a time.
	ListTagsForResource(ctx context.Context, in *organizations.ListTagsForResourceInput, opts ...func(*organizations.Options)) (*organizations.ListTagsForResourceOutput, error)
}

var _ OrganizationsAPI = (*organizations.Client)(nil)

// Organizations returns an Organizations client that uses steward's own
// credentials (those of the management or a delegated administrator
// account).
func (c *Cloud) Organizations() *organizations.Client {
	return organizations.NewFromConfig(c.baseConfig("organizations"))
}

// maxOUDepth bounds the walk up the OU tree (AWS allows five levels).
const maxOUDepth = 10

// FromOrganizations lists the organisation's accounts as an inventory:
// regions and role from the file's defaults, class from the account tag
// src.ClassFromTag, else the nearest OU named in src.ClassFromOU, else
// src.DefaultClass. Accounts that are not ACTIVE are left out unless
// src.IncludeSuspended.
func FromOrganizations(ctx context.Context, api OrganizationsAPI, src OrganizationsSource, defaults *InventoryFile) (*Inventory, error) {
	if defaults == nil {
		defaults = &InventoryFile{}
	}
	ouNames := map[string]string{}
	parents := map[string]string{} // child id -> parent id ("" for root)
	parentOf := func(id string) (string, error) {
		if p, ok := parents[id]; ok {
			return p, nil
		}
		out, err := api.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String(id)})
		if err != nil {
			return "", fmt.Errorf("organizations ListParents %s: %w", id, err)
		}
		p := ""
		if len(out.Parents) > 0 && out.Parents[0].Type == orgtypes.ParentTypeOrganizationalUnit {
			p = aws.ToString(out.Parents[0].Id)
		}
		parents[id] = p
		return p, nil
	}
	ouName := func(id string) (string, error) {
		if n, ok := ouNames[id]; ok {
			return n, nil
		}
		out, err := api.DescribeOrganizationalUnit(ctx, &organizations.DescribeOrganizationalUnitInput{OrganizationalUnitId: aws.String(id)})
		if err != nil {
			return "", fmt.Errorf("organizations DescribeOrganizationalUnit %s: %w", id, err)
		}
		n := ""
		if out.OrganizationalUnit != nil {
			n = aws.ToString(out.OrganizationalUnit.Name)
		}
		ouNames[id] = n
		return n, nil
	}
	var accounts []Account
	var token *string
	for {
		page, err := api.ListAccounts(ctx, &organizations.ListAccountsInput{NextToken: token})
		if err != nil {
			return nil, fmt.Errorf("organizations ListAccounts: %w", err)
		}
		for _, a := range page.Accounts {
			id := aws.ToString(a.Id)
			if !ValidAccountID(id) {
				continue
			}
			if !src.IncludeSuspended && a.Status != "" && a.Status != orgtypes.AccountStatusActive {
				continue
			}
			entry := AccountEntry{ID: id, Name: aws.ToString(a.Name), Tags: map[string]string{}}
			if err := listTags(ctx, api, id, entry.Tags); err != nil {
				return nil, err
			}
			// The OU path, nearest first.
			var path []string
			cur := id
			for depth := 0; depth < maxOUDepth; depth++ {
				p, err := parentOf(cur)
				if err != nil {
					return nil, err
				}
				if p == "" {
					break
				}
				n, err := ouName(p)
				if err != nil {
					return nil, err
				}
				path = append(path, n)
				cur = p
			}
			if len(path) > 0 {
				entry.OU = path[0]
			}
			entry.Class = classOf(src, entry.Tags, path)
			accounts = append(accounts, defaults.account(entry, "organizations"))
		}
		token = page.NextToken
		if token == nil || *token == "" {
			break
		}
	}
	return NewInventory(accounts), nil
}

func listTags(ctx context.Context, api OrganizationsAPI, id string, into map[string]string) error {
	var token *string
	for {
		out, err := api.ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: aws.String(id), NextToken: token})
		if err != nil {
			return fmt.Errorf("organizations ListTagsForResource %s: %w", id, err)
		}
		for _, t := range out.Tags {
			into[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		token = out.NextToken
		if token == nil || *token == "" {
			return nil
		}
	}
}

func classOf(src OrganizationsSource, tags map[string]string, ouPath []string) string {
	if src.ClassFromTag != "" {
		if v := tags[src.ClassFromTag]; v != "" {
			return v
		}
	}
	for _, ou := range ouPath {
		if c, ok := src.ClassFromOU[ou]; ok {
			return c
		}
	}
	return src.DefaultClass
}

// LoadInventory returns the inventory a file describes: its accounts and,
// when organizations is enabled, the organisation's (read with api),
// the file's entries winning for accounts listed in both.
func LoadInventory(ctx context.Context, f *InventoryFile, api OrganizationsAPI) (*Inventory, error) {
	inv := f.Inventory()
	if !f.Organizations.Enabled {
		return inv, nil
	}
	if api == nil {
		return nil, fmt.Errorf("inventory: organizations is enabled but no Organizations client was given")
	}
	org, err := FromOrganizations(ctx, api, f.Organizations, f)
	if err != nil {
		return nil, err
	}
	for _, a := range org.Accounts() {
		if len(a.Regions) == 0 {
			return nil, &InventoryError{Field: "regions", Msg: fmt.Sprintf("account %s from Organizations has no regions: set the file's default regions", a.ID)}
		}
	}
	return inv.Merge(org), nil
}
