package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/stewardhq/steward/internal/api/changesapi"
	"github.com/stewardhq/steward/internal/change"
	"github.com/stewardhq/steward/internal/store"
)

func init() {
	registerCommand("", newChangesCmd)
	registerCommand("", newRollbackCmd)
	registerCommand("playbooks", newPlaybooksResumeCmd)
	registerCommand("playbooks", newPlaybooksPausedCmd)
}

func newChangesCmd() *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:   "changes",
		Short: "List and show the change records of steward serve",
		Long: `Every change a playbook makes in AWS (or, in the observe and notify stages,
would make) is recorded: the call, the stage, the resource before and after,
and how to undo it. steward rollback undoes them.`,
		Args: cobra.NoArgs,
	}
	f.register(cmd)
	cmd.AddCommand(newChangesLsCmd(&f), newChangesShowCmd(&f))
	return cmd
}

func newChangesLsCmd(f *apiFlags) *cobra.Command {
	var execution, playbook, status, run, kind string
	var limit int
	cmd := &cobra.Command{
		Use:   "ls",
		Short: "List change records, oldest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			for k, v := range map[string]string{"execution": execution, "playbook": playbook, "status": status, "run": run, "kind": kind} {
				if v != "" {
					q.Set(k, v)
				}
			}
			q.Set("limit", strconv.Itoa(limit))
			var out changesapi.ListResponse
			if err := f.call(cmd.Context(), "GET", "/api/v1/changes?"+q.Encode(), nil, &out); err != nil {
				return err
			}
			if f.asJSON {
				return printJSON(cmd.OutOrStdout(), out)
			}
			if len(out.Changes) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "no change records")
				return nil
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tCREATED\tPLAYBOOK\tSTAGE\tSTATUS\tCALL\tRESOURCE\tUNDO")
			for _, c := range out.Changes {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, c.CreatedAt.Local().Format(time.DateTime), c.Playbook, c.Stage,
					c.Status, changeCallName(c), changeOrDash(c.Resource), changeUndoNote(c))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if out.NextAfter != 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "(more: add --after %d)\n", out.NextAfter)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&execution, "execution", "", "only the changes of this execution (ARN)")
	cmd.Flags().StringVar(&playbook, "playbook", "", "only the changes of this playbook")
	cmd.Flags().StringVar(&status, "status", "", "only changes in this status: planned, pending, applied, failed, rolled-back")
	cmd.Flags().StringVar(&run, "run", "", "only the changes of this run (a scan id, or an execution ARN)")
	cmd.Flags().StringVar(&kind, "kind", "", "only changes of this kind: call, notice, record")
	cmd.Flags().IntVar(&limit, "limit", 200, "at most this many records")
	return cmd
}

func changeCallName(c *store.Change) string {
	if c.Service == "" {
		return c.Action
	}
	return c.Service + ":" + c.Action
}

func changeOrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// undoNote says in a few words whether a change can be undone.
func changeUndoNote(c *store.Change) string {
	switch {
	case c.Status == store.StatusRolledBack:
		return "rolled back by " + c.RolledBackBy
	case c.Irreversible != "":
		return "irreversible"
	case len(c.Undo) > 0:
		return "yes"
	}
	return "-"
}

func newChangesShowCmd(f *apiFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show a change record: the call, before, after and how to undo it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var c store.Change
			if err := f.call(cmd.Context(), "GET", "/api/v1/changes/"+url.PathEscape(args[0]), nil, &c); err != nil {
				return withHint(err, "steward changes ls lists change ids")
			}
			if f.asJSON {
				return printJSON(cmd.OutOrStdout(), c)
			}
			printChangeRecord(cmd.OutOrStdout(), &c)
			return nil
		},
	}
}

func printChangeRecord(w io.Writer, c *store.Change) {
	fmt.Fprintf(w, "id:         %s\n", c.ID)
	fmt.Fprintf(w, "execution:  %s\n", changeOrDash(c.ExecutionARN))
	fmt.Fprintf(w, "playbook:   %s (state %s, run %s)\n", changeOrDash(c.Playbook), changeOrDash(c.StateName), changeOrDash(c.Run))
	fmt.Fprintf(w, "where:      account %s region %s\n", changeOrDash(c.Account), changeOrDash(c.Region))
	fmt.Fprintf(w, "call:       %s on %s (%s)\n", changeCallName(c), changeOrDash(c.Resource), c.Kind)
	fmt.Fprintf(w, "stage:      %s\n", changeOrDash(c.Stage))
	fmt.Fprintf(w, "status:     %s\n", c.Status)
	fmt.Fprintf(w, "created:    %s\n", c.CreatedAt.Format(time.RFC3339))
	if !c.RolledBackAt.IsZero() {
		fmt.Fprintf(w, "rolled back: %s by %s\n", c.RolledBackAt.Format(time.RFC3339), c.RolledBackBy)
	}
	if c.Irreversible != "" {
		fmt.Fprintf(w, "irreversible: %s\n", c.Irreversible)
	}
	if c.Error != "" {
		fmt.Fprintf(w, "error:      %s\n", c.Error)
	}
	for _, part := range []struct {
		name string
		data json.RawMessage
	}{{"parameters", c.Parameters}, {"before", c.Before}, {"after", c.After}, {"undo", c.Undo}, {"result", c.Result}} {
		if len(part.data) == 0 {
			continue
		}
		var b bytes.Buffer
		if json.Indent(&b, part.data, "  ", "  ") != nil {
			b.Reset()
			b.Write(part.data)
		}
		fmt.Fprintf(w, "%s:\n  %s\n", part.name, b.String())
	}
}

func newRollbackCmd() *cobra.Command {
	var f apiFlags
	var by string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "rollback EXECUTION-ARN|CHANGE-ID --by NAME",
		Short: "Undo the changes of an execution (newest first), or one change",
		Long: `Rollback undoes what a playbook changed, from its change records, newest
first. It checks every change before it undoes any: if one cannot be undone
(a deleted volume: the record says which snapshot holds its data) or a
resource no longer looks as the playbook left it (someone changed it since),
nothing is undone and steward says what is in the way.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.TrimSpace(by) == "" {
				return withHint(fmt.Errorf("rollback: --by is required"), "say who rolls back: --by alice@example.com")
			}
			if _, err := change.ParseTarget(args[0]); err != nil {
				return withHint(err, "steward changes ls shows change ids and executions")
			}
			body, _ := json.Marshal(changesapi.RollbackRequest{Target: args[0], By: by, DryRun: dryRun})
			var res change.RollbackResult
			if err := f.call(cmd.Context(), "POST", "/api/v1/rollback", body, &res); err != nil {
				return withHint(err, "steward changes ls --execution ARN shows what each change did; steward changes show ID its before and after")
			}
			if f.asJSON {
				return printJSON(cmd.OutOrStdout(), res)
			}
			if res.DryRun {
				fmt.Fprintf(cmd.OutOrStdout(), "dry run: nothing was undone; rollback would undo %s with these calls:\n", strings.Join(res.RolledBack, ", "))
				for _, u := range res.UndoCalls {
					p, _ := json.Marshal(u.Parameters)
					fmt.Fprintf(cmd.OutOrStdout(), "  %s:%s %s\n", u.Service, u.Action, p)
				}
				return nil
			}
			for _, id := range res.RolledBack {
				fmt.Fprintf(cmd.OutOrStdout(), "rolled back %s\n", id)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d change(s) rolled back with %d call(s)\n", len(res.RolledBack), res.Calls)
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&by, "by", "", "who rolls back (recorded on each change)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "check (irreversible changes, drift) and print the undo calls, undoing nothing")
	return cmd
}

func newPlaybooksResumeCmd() *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:   "resume NAME",
		Short: "Resume a paused playbook (paused by its blast radius)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.call(cmd.Context(), "POST", "/api/v1/playbooks/"+url.PathEscape(args[0])+"/resume", nil, nil); err != nil {
				return withHint(err, "steward playbooks paused lists the paused playbooks")
			}
			fmt.Fprintf(cmd.OutOrStdout(), "playbook %s resumed\n", args[0])
			return nil
		},
	}
	f.registerOn(cmd)
	return cmd
}

func newPlaybooksPausedCmd() *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:   "paused",
		Short: "List the paused playbooks, with why and since when",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var out changesapi.PausesResponse
			if err := f.call(cmd.Context(), "GET", "/api/v1/pauses", nil, &out); err != nil {
				return err
			}
			if f.asJSON {
				return printJSON(cmd.OutOrStdout(), out)
			}
			if len(out.Pauses) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "no playbook is paused")
				return nil
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "PLAYBOOK\tSINCE\tBY\tREASON")
			for _, p := range out.Pauses {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", p.Playbook, p.At.Local().Format(time.DateTime), changeOrDash(p.By), p.Reason)
			}
			return tw.Flush()
		},
	}
	f.registerOn(cmd)
	return cmd
}
