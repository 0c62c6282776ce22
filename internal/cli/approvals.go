package cli

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/stewardhq/steward/internal/api/approvalsapi"
)

// People at a terminal: steward approvals ls, steward approve|deny|except.
func init() {
	registerCommand("", newApprovalsCmd)
	registerCommand("", func() *cobra.Command { return newDecideCmd("approve") })
	registerCommand("", func() *cobra.Command { return newDecideCmd("deny") })
	registerCommand("", func() *cobra.Command { return newDecideCmd("except") })
}

func newApprovalsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "approvals",
		Short: "List the approvals steward asked people for",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newApprovalsLsCmd())
	return cmd
}

func newApprovalsLsCmd() *cobra.Command {
	var f apiFlags
	var status, owner, execution string
	var limit int
	cmd := &cobra.Command{
		Use:   "ls",
		Short: "List approvals: pending first by default, with deadlines and delivery problems",
		Long: `Ls lists the approvals of steward serve: what was asked, of whom, by when, and
what was decided by whom through which channel. A notice that could not be
sent (an SMTP server down, say) shows its last error in NOTE; steward keeps
retrying and the execution keeps waiting.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			if status != "all" {
				q.Set("status", status)
			}
			if owner != "" {
				q.Set("owner", owner)
			}
			if execution != "" {
				q.Set("execution", execution)
			}
			q.Set("limit", fmt.Sprint(limit))
			var out approvalsapi.ListOutput
			if err := f.call(cmd.Context(), "GET", "/api/v1/approvals?"+q.Encode(), nil, &out); err != nil {
				return err
			}
			if f.asJSON {
				return printJSON(cmd.OutOrStdout(), out)
			}
			if len(out.Approvals) == 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "no %s approvals\n", strings.TrimPrefix(status, "all"))
				return nil
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tPLAYBOOK\tRESOURCE\tOWNER\tSTATUS\tDEADLINE\tDECISION\tNOTE")
			for _, a := range out.Approvals {
				decision := "-"
				if a.Decision != "" {
					decision = a.Decision + " by " + a.DecidedBy + " via " + a.Channel
					if a.Until != nil {
						decision += " until " + a.Until.Format(time.DateOnly)
					}
				}
				note := a.LastError
				if note == "" && a.Status == "pending" && a.NotifiedAt == nil {
					note = "not sent yet"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.Playbook, dash(a.Resource), dash(a.Owner), a.Status,
					a.Deadline.UTC().Format("2006-01-02 15:04Z"), decision, note)
			}
			return tw.Flush()
		},
	}
	f.registerOn(cmd)
	cmd.Flags().StringVar(&status, "status", "pending", "pending, decided, cancelled, expired or all")
	cmd.Flags().StringVar(&owner, "owner", "", "only this owner's")
	cmd.Flags().StringVar(&execution, "execution", "", "only this execution's (ARN)")
	cmd.Flags().IntVar(&limit, "limit", 100, "at most this many")
	return cmd
}

// newDecideCmd makes steward approve, deny and except.
func newDecideCmd(verb string) *cobra.Command {
	var f apiFlags
	var by, reason, until string
	short := map[string]string{
		"approve": "Approve an approval: the playbook goes on and fixes",
		"deny":    "Deny an approval: the playbook keeps the resource as it is",
		"except":  "Grant an exception until a date: the resource is left alone until then",
	}[verb]
	use := verb + " ID --by NAME"
	if verb == "except" {
		use = verb + " ID --until DATE --by NAME"
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Long: short + `.

ID is an approval's id (steward approvals ls). The decision is recorded with
who made it (--by) and the channel "cli"; exactly one decision counts, and one
for an execution that already ended is refused.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.TrimSpace(by) == "" {
				return withHint(fmt.Errorf("%s: who decides is required", verb), "pass --by with your name or e-mail address")
			}
			in := approvalsapi.DecideInput{Choice: verb, By: by, Reason: reason, Channel: "cli"}
			if verb == "except" {
				if until == "" {
					return withHint(fmt.Errorf("except: --until is required"), "pass --until 2026-12-31 (a date: the exception lasts through that day) or an RFC 3339 time")
				}
				if _, err := approvalsapi.ParseUntil(until); err != nil {
					return withHint(err, "pass --until 2026-12-31 or 2026-12-31T18:00:00Z")
				}
				in.Choice, in.Until = "exception", until
			}
			body, _ := json.Marshal(in)
			var out approvalsapi.View
			if err := f.call(cmd.Context(), "POST", "/api/v1/approvals/"+url.PathEscape(args[0])+"/decide", body, &out); err != nil {
				if strings.Contains(err.Error(), "404") {
					return withHint(err, "steward approvals ls lists the pending approvals")
				}
				return err
			}
			if f.asJSON {
				return printJSON(cmd.OutOrStdout(), out)
			}
			msg := fmt.Sprintf("%s: %s by %s", out.ID, out.Decision, out.DecidedBy)
			if out.Until != nil {
				msg += " until " + out.Until.UTC().Format(time.RFC3339)
			}
			fmt.Fprintln(cmd.OutOrStdout(), msg)
			if out.LastError != "" {
				fmt.Fprintln(cmd.OutOrStdout(), "note: "+out.LastError)
			}
			return nil
		},
	}
	f.registerOn(cmd)
	cmd.Flags().StringVar(&by, "by", "", "who decides (recorded with the decision)")
	cmd.Flags().StringVar(&reason, "reason", "", "why (recorded)")
	if verb == "except" {
		cmd.Flags().StringVar(&until, "until", "", "end of the exception: a date (through that day, UTC) or an RFC 3339 time")
	}
	return cmd
}
