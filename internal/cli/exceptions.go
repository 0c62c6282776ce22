package cli

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/stewardhq/steward/internal/api/exceptionsapi"
	"github.com/stewardhq/steward/internal/store"
)

// steward exceptions ls|grant|revoke: the exceptions of steward serve.
func init() {
	registerCommand("", newExceptionsCmd)
}

func newExceptionsCmd() *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:   "exceptions",
		Short: "List, grant and revoke exceptions (resources playbooks leave alone until a date)",
		Long: `An exception tells every playbook (or one, with --playbook) to leave a resource
alone until a date. Exceptions are kept by steward serve with who granted them,
why, when and until; each is mirrored as the <prefix>exception tag on the
resource (YYYY-MM-DD;reason). When one ends, steward looks at the resource again.`,
		Args: cobra.NoArgs,
	}
	f.register(cmd)
	cmd.AddCommand(newExceptionsLsCmd(&f), newExceptionsGrantCmd(&f), newExceptionsRevokeCmd(&f))
	return cmd
}

func newExceptionsLsCmd(f *apiFlags) *cobra.Command {
	var resource, account, playbook string
	var all bool
	var limit int
	cmd := &cobra.Command{
		Use:   "ls",
		Short: "List exceptions in force (--all: also ended and revoked ones)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			for k, v := range map[string]string{"resource": resource, "account": account, "playbook": playbook} {
				if v != "" {
					q.Set(k, v)
				}
			}
			if !all {
				q.Set("active", "true")
			}
			if limit > 0 {
				q.Set("limit", fmt.Sprint(limit))
			}
			var out exceptionsapi.List
			if err := f.call(cmd.Context(), "GET", "/api/v1/exceptions?"+q.Encode(), nil, &out); err != nil {
				return err
			}
			if f.asJSON {
				return printJSON(cmd.OutOrStdout(), out)
			}
			if len(out.Exceptions) == 0 {
				if all {
					fmt.Fprintln(cmd.OutOrStdout(), "no exceptions")
				} else {
					fmt.Fprintln(cmd.OutOrStdout(), "no exceptions in force (--all lists ended and revoked ones too)")
				}
				return nil
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tRESOURCE\tPLAYBOOK\tUNTIL\tBY\tVIA\tREASON\tSTATUS")
			now := time.Now()
			for _, e := range out.Exceptions {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.ID, e.Resource, exceptionOr(e.Playbook, "(all)"), e.Until.UTC().Format(time.RFC3339),
					e.GrantedBy, exceptionOr(e.Channel, "-"), exceptionOr(e.Reason, "-"), exceptionStatus(e, now))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&resource, "resource", "", "only this resource (ARN)")
	cmd.Flags().StringVar(&account, "account", "", "only this account")
	cmd.Flags().StringVar(&playbook, "playbook", "", "only exceptions covering this playbook")
	cmd.Flags().BoolVar(&all, "all", false, "also ended and revoked exceptions")
	cmd.Flags().IntVar(&limit, "limit", 0, "at most this many")
	return cmd
}

func exceptionStatus(e store.Exception, now time.Time) string {
	switch {
	case !e.RevokedAt.IsZero():
		return "revoked by " + e.RevokedBy
	case !now.Before(e.Until):
		if !e.RecheckedAt.IsZero() {
			return "ended, rechecked"
		}
		return "ended"
	}
	return "in force"
}

func exceptionOr(s, none string) string {
	if s == "" {
		return none
	}
	return s
}

func newExceptionsGrantCmd(f *apiFlags) *cobra.Command {
	var req exceptionsapi.GrantRequest
	cmd := &cobra.Command{
		Use:   "grant RESOURCE-ARN --until DATE --by NAME",
		Short: "Grant an exception: playbooks leave the resource alone until DATE",
		Long: `Grant records an exception on a resource (its ARN) until DATE (YYYY-MM-DD: in
force through that day, UTC; or an RFC 3339 time) and tags the resource with
<prefix>exception = DATE;REASON. Exceptions last at most a month, or a year in
production accounts. --playbook limits it to one playbook. For resources whose
ARN names no account or region (S3 buckets, EC2 snapshots) give --account and
--region.`,
		Example: `  steward exceptions grant arn:aws:ec2:us-east-1:111122223333:volume/vol-0abc \
      --until 2026-06-30 --by alice@example.com --reason "kept for the Q2 audit"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req.Resource = args[0]
			if req.Channel == "" {
				req.Channel = "cli"
			}
			if strings.TrimSpace(req.By) == "" {
				return withHint(fmt.Errorf("say who grants the exception"), "--by alice@example.com")
			}
			if _, err := exceptionsapi.ParseUntil(req.Until); err != nil {
				return withHint(err, "--until 2026-06-30 (through that day, UTC)")
			}
			body, _ := json.Marshal(req)
			var e store.Exception
			if err := f.call(cmd.Context(), "POST", "/api/v1/exceptions", body, &e); err != nil {
				if strings.Contains(err.Error(), "exceptions last at most") {
					return withHint(err, "exceptions last at most a month, or a year in production accounts")
				}
				return err
			}
			if f.asJSON {
				return printJSON(cmd.OutOrStdout(), e)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "granted %s: %s left alone by %s until %s (tagged)\n", e.ID, e.Resource,
				exceptionOr(e.Playbook, "every playbook"), e.Until.UTC().Format(time.RFC3339))
			return nil
		},
	}
	cmd.Flags().StringVar(&req.Until, "until", "", "end: YYYY-MM-DD (through that day, UTC) or an RFC 3339 time (required)")
	cmd.Flags().StringVar(&req.By, "by", "", "who grants it (required)")
	cmd.Flags().StringVar(&req.Reason, "reason", "", "why")
	cmd.Flags().StringVar(&req.Playbook, "playbook", "", "only for this playbook (default: every playbook)")
	cmd.Flags().StringVar(&req.Account, "account", "", "the resource's account, when its ARN has none")
	cmd.Flags().StringVar(&req.Region, "region", "", "the resource's region, when its ARN has none")
	return cmd
}

func newExceptionsRevokeCmd(f *apiFlags) *cobra.Command {
	var by string
	cmd := &cobra.Command{
		Use:   "revoke ID --by NAME",
		Short: "Revoke an exception now (the resource's tag follows)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.TrimSpace(by) == "" {
				return withHint(fmt.Errorf("say who revokes the exception"), "--by alice@example.com")
			}
			var out struct {
				Exception store.Exception `json:"exception"`
				Warning   string          `json:"warning"`
			}
			path := "/api/v1/exceptions/" + url.PathEscape(args[0]) + "?by=" + url.QueryEscape(by)
			if err := f.call(cmd.Context(), "DELETE", path, nil, &out); err != nil {
				if strings.Contains(err.Error(), "404") {
					return withHint(err, "steward exceptions ls --all lists exception ids")
				}
				return err
			}
			if f.asJSON {
				return printJSON(cmd.OutOrStdout(), out)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "revoked %s on %s\n", out.Exception.ID, out.Exception.Resource)
			if out.Warning != "" {
				fmt.Fprintf(cmd.ErrOrStderr(), "warning: %s\n", out.Warning)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&by, "by", "", "who revokes it (required)")
	return cmd
}
