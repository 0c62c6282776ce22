package cli

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/stewardhq/steward/internal/api"
	"github.com/stewardhq/steward/internal/rules"
)

func newRulesLsCmd(f *apiFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "ls",
		Short: "List the rules steward serve has",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var out struct {
				Rules []rules.Rule `json:"rules"`
			}
			if err := f.call(cmd.Context(), "GET", "/api/v1/rules", nil, &out); err != nil {
				return err
			}
			if f.asJSON {
				return printJSON(cmd.OutOrStdout(), out)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tPLAYBOOKS\tTHRESHOLD\tSTATE\tPATTERN")
			for _, r := range out.Rules {
				threshold := "-"
				if t := r.Threshold; t != nil {
					threshold = fmt.Sprintf("> %d by %s in %s: %s", t.Above, t.Key, t.Window.String(), t.Then)
				}
				state := "enabled"
				if r.Disabled {
					state = "disabled"
				}
				pattern := string(r.Pattern)
				if len(pattern) > 60 {
					pattern = pattern[:57] + "..."
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Name, strings.Join(r.Playbooks, ","), threshold, state, pattern)
			}
			return tw.Flush()
		},
	}
}

func newRulesPutCmd(f *apiFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "put FILE",
		Short: "Add or replace the rules of a rules file (YAML) on steward serve",
		Long: `Put sends every rule of a rules file to steward serve, which validates each
(pattern, playbooks, input transformer, threshold) and saves it in its store.

  rules:
    - name: s3-dangling-dns
      pattern: {source: [aws.s3], detail: {eventName: [DeleteBucket]}}
      playbooks: [s3-dangling-dns]`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			file, err := rules.LoadFile(args[0])
			if err != nil {
				return err
			}
			if len(file.Rules) == 0 {
				return withHint(fmt.Errorf("%s has no rules", args[0]), "a rules file is a YAML mapping with a list under \"rules:\"")
			}
			for _, r := range file.Rules {
				body, _ := json.Marshal(r)
				if err := f.call(cmd.Context(), "PUT", "/api/v1/rules/"+url.PathEscape(r.Name), body, nil); err != nil {
					return fmt.Errorf("rule %s: %w", r.Name, err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "put rule %s\n", r.Name)
			}
			return nil
		},
	}
}

func newRulesRmCmd(f *apiFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "rm NAME...",
		Short: "Remove rules from steward serve",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, name := range args {
				if err := f.call(cmd.Context(), "DELETE", "/api/v1/rules/"+url.PathEscape(name), nil, nil); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "removed rule %s\n", name)
			}
			return nil
		},
	}
}

func defaultEndpoint() string {
	if e := os.Getenv("STEWARD_ENDPOINT"); e != "" {
		return e
	}
	return api.DefaultEndpoint
}
