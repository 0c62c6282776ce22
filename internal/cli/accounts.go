package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/stewardhq/steward/internal/cloud"
)

// defaultInventoryFile is read when neither --config nor STEWARD_CONFIG
// names a file.
const defaultInventoryFile = "steward.yaml"

func newAccountsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "accounts",
		Short: "The AWS accounts and regions steward acts in",
	}
	cmd.AddCommand(newAccountsLsCmd())
	return cmd
}

func newAccountsLsCmd() *cobra.Command {
	var configFile, endpoint string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "ls [--config FILE] [--json]",
		Short: "List the inventory: accounts, their class, regions and role",
		Long: `List the accounts steward acts in, from the inventory file and, when the
file enables it, from AWS Organizations (ListAccounts, the OU of each account
and its tags), with steward's own AWS credentials.

The file is --config, else $STEWARD_CONFIG, else ./steward.yaml:

  role: arn:aws:iam::{account}:role/steward-remediator
  regions: [us-east-1, eu-west-1]
  accounts:
    - id: "111111111111"
      name: payments-prod
      class: production
      tags: {owner: payments}
  organizations:
    enabled: false
    class_from_tag: steward:class
    class_from_ou: {Prod: production, Dev: development}`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path := configFile
			if path == "" {
				path = os.Getenv("STEWARD_CONFIG")
			}
			if path == "" {
				path = defaultInventoryFile
			}
			f, err := cloud.LoadInventoryFile(path)
			if err != nil {
				if errors.Is(err, os.ErrNotExist) {
					return withHint(err, "write an inventory file (see steward accounts ls --help) or pass --config FILE")
				}
				return withHint(err, "fix the inventory file; steward accounts ls --help shows its fields")
			}
			var api cloud.OrganizationsAPI
			if f.Organizations.Enabled {
				c, err := cloud.New(cmd.Context(), cloud.Config{Endpoint: endpoint})
				if err != nil {
					return withHint(err, "organizations is enabled: steward needs AWS credentials of the management or a delegated administrator account")
				}
				api = c.Organizations()
			}
			inv, err := cloud.LoadInventory(cmd.Context(), f, api)
			if err != nil {
				return withHint(err, "check steward's AWS credentials and that they may call organizations:ListAccounts, ListParents, DescribeOrganizationalUnit and ListTagsForResource")
			}
			accounts := inv.Accounts()
			out := cmd.OutOrStdout()
			if asJSON {
				if accounts == nil {
					accounts = []cloud.Account{}
				}
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(accounts)
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ACCOUNT\tNAME\tCLASS\tOU\tREGIONS\tROLE\tTAGS\tSOURCE")
			for _, a := range accounts {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, dash(a.Name), dash(a.Class), dash(a.OU),
					strings.Join(a.Regions, ","), dash(a.Role), dash(formatTags(a.Tags)), a.Source)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%d accounts\n", len(accounts))
			return nil
		},
	}
	cmd.Flags().StringVar(&configFile, "config", "", "inventory file (default $STEWARD_CONFIG or ./steward.yaml)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of a table")
	cmd.Flags().StringVar(&endpoint, "endpoint", "", "AWS endpoint for Organizations calls (default $AWS_ENDPOINT_URL, else AWS)")
	return cmd
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func formatTags(tags map[string]string) string {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + tags[k]
	}
	return strings.Join(parts, ",")
}
