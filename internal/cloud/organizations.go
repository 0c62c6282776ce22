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
	// ListRoots returns the organisation's root.
	ListRoots(ctx context.Context, in *organizations.ListRootsInput, opts ...func(*organizations.Options)) (*organizations.ListRootsOutput, error)
	// ListOrganizationalUnitsForParent lists the OUs (with names) under a
	// root or OU, a page at a time.
	ListOrganizationalUnitsForParent(ctx context.Context, in *organizations.ListOrganizationalUnitsForParentInput, opts ...func(*organizations.Options)) (*organizations.ListOrganizationalUnitsForParentOutput, error)
	// ListAccounts lists the organisation's accounts, a page at a time.
	ListAccounts(ctx context.Context, in *organizations.ListAccountsInput, opts ...func(*organizations.Options)) (*organizations.ListAccountsOutput, error)
	// ListParents returns the OU or root that holds an account.
	ListParents(ctx context.Context, in *organizations.ListParentsInput, opts ...func(*organizations.Options)) (*organizations.ListParentsOutput, error)
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

// maxOUDepth bounds the OU tree (AWS allows five levels under the root).
const maxOUDepth = 10

// ouTree is the organisation's OUs: names and parents by id.
type ouTree struct {
	name   map[string]string
	parent map[string]string // "" for an OU directly under the root
}

// readOUTree walks the OUs top-down from the root: one call per OU (and
// page), whatever the number of accounts.
func readOUTree(ctx context.Context, api OrganizationsAPI) (*ouTree, error) {
	t := &ouTree{name: map[string]string{}, parent: map[string]string{}}
	roots, err := api.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil {
		return nil, fmt.Errorf("organizations ListRoots: %w", err)
	}
	type item struct {
		id    string
		depth int
	}
	var queue []item
	for _, r := range roots.Roots {
		queue = append(queue, item{id: aws.ToString(r.Id)})
	}
	rootIDs := map[string]bool{}
	for _, q := range queue {
		rootIDs[q.id] = true
	}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		if cur.depth > maxOUDepth {
			continue
		}
		var token *string
		for {
			out, err := api.ListOrganizationalUnitsForParent(ctx, &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String(cur.id), NextToken: token})
			if err != nil {
				return nil, fmt.Errorf("organizations ListOrganizationalUnitsForParent %s: %w", cur.id, err)
			}
			for _, ou := range out.OrganizationalUnits {
				id := aws.ToString(ou.Id)
				if _, seen := t.name[id]; seen || id == "" {
					continue
				}
				t.name[id] = aws.ToString(ou.Name)
				if !rootIDs[cur.id] {
					t.parent[id] = cur.id
				}
				queue = append(queue, item{id: id, depth: cur.depth + 1})
			}
			token = out.NextToken
			if token == nil || *token == "" {
				break
			}
		}
	}
	return t, nil
}

// path returns the OU names from an OU up to the root, nearest first.
func (t *ouTree) path(ou string) []string {
	var out []string
	for i := 0; ou != "" && i <= maxOUDepth; i++ {
		n, ok := t.name[ou]
		if !ok {
			break
		}
		out = append(out, n)
		ou = t.parent[ou]
	}
	return out
}

// FromOrganizations lists the organisation's accounts as an inventory:
// regions and role from the file's defaults, class from the account tag
// src.ClassFromTag, else the nearest OU named in src.ClassFromOU, else
// src.DefaultClass. Accounts that are not ACTIVE are left out unless
// src.IncludeSuspended. Calls: ListRoots and ListOrganizationalUnitsForParent
// once per OU for the tree, ListAccounts per page, and per account one
// ListParents and ListTagsForResource.
func FromOrganizations(ctx context.Context, api OrganizationsAPI, src OrganizationsSource, defaults *InventoryFile) (*Inventory, error) {
	if defaults == nil {
		defaults = &InventoryFile{}
	}
	tree, err := readOUTree(ctx, api)
	if err != nil {
		return nil, err
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
			parents, err := api.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String(id)})
			if err != nil {
				return nil, fmt.Errorf("organizations ListParents %s: %w", id, err)
			}
			var path []string
			if len(parents.Parents) > 0 && parents.Parents[0].Type == orgtypes.ParentTypeOrganizationalUnit {
				path = tree.path(aws.ToString(parents.Parents[0].Id))
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
