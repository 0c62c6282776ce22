package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/stewardhq/steward/internal/api/scansapi"
	"github.com/stewardhq/steward/internal/scan"
)

// steward scan, steward scans and steward schedules: through the running
// steward serve (/api/v1/scans, /api/v1/schedules).
func init() {
	registerCommand("", newScanCmd)
	registerCommand("", newScansCmd)
	registerCommand("", newSchedulesCmd)
}

func newScanCmd() *cobra.Command {
	var (
		f        apiFlags
		req      scansapi.ScanRequest
		follow   string
		wait     bool
		timeout  time.Duration
		interval time.Duration
	)
	cmd := &cobra.Command{
		Use:   "scan --playbook NAME",
		Short: "Run a scheduled playbook's scan now, and show its progress and summary",
		Long: `Scan runs a scheduled playbook's scan now, through the running steward serve:
in every account and region of the inventory (or those --accounts and
--regions name) it lists the resources the playbook looks after and starts one
execution of the playbook for each. --dry-run asks every execution for the
observe stage: it plans and changes nothing.

With --wait (the default) it follows the scan until every execution has ended
or waits for a person's approval (a progress bar on a terminal, plain lines
otherwise), then prints the summary by outcome. --id follows a scan already
started.`,
		Example: `  steward scan --playbook ebs-unused --dry-run
  steward scan --playbook ebs-unused --accounts 111111111111 --regions eu-west-1
  steward scan --id scan-1a2b3c4d5e6f --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			out := cmd.OutOrStdout()
			id := follow
			if id == "" {
				if req.Playbook == "" {
					return withHint(fmt.Errorf("no playbook to scan"), "steward scan --playbook NAME (steward playbooks ls lists them)")
				}
				body, _ := json.Marshal(req)
				var started scansapi.ScanStarted
				if err := f.call(ctx, http.MethodPost, "/api/v1/scans", body, &started); err != nil {
					return err
				}
				id = started.Scan
				if !f.asJSON {
					fmt.Fprintf(out, "scan %s of %s started\n", id, req.Playbook)
				}
			}
			v, err := getScan(ctx, &f, id)
			if err != nil {
				return err
			}
			if wait {
				v, err = followScan(ctx, &f, id, out, timeout, interval)
				if err != nil {
					return err
				}
			}
			if f.asJSON {
				return printJSON(out, v)
			}
			return printScanSummary(out, v)
		},
	}
	f.registerOn(cmd)
	fl := cmd.Flags()
	fl.StringVar(&req.Playbook, "playbook", "", "the scheduled playbook to scan for")
	fl.StringSliceVar(&req.Accounts, "accounts", nil, "only these accounts (comma-separated ids; default: the whole inventory)")
	fl.StringSliceVar(&req.Regions, "regions", nil, "only these regions (comma-separated)")
	fl.BoolVar(&req.DryRun, "dry-run", false, "ask every execution for the observe stage: plan, change nothing")
	fl.StringVar(&follow, "id", "", "follow a scan already started instead of starting one")
	fl.BoolVar(&wait, "wait", true, "follow the scan until its executions end or wait for approval")
	fl.DurationVar(&timeout, "timeout", 30*time.Minute, "stop following after this long (the scan goes on)")
	fl.DurationVar(&interval, "interval", 500*time.Millisecond, "how often to ask for progress")
	_ = fl.MarkHidden("interval")
	return cmd
}

func getScan(ctx context.Context, f *apiFlags, id string) (*scansapi.ScanView, error) {
	var v scansapi.ScanView
	if err := f.call(ctx, http.MethodGet, "/api/v1/scans/"+url.PathEscape(id), nil, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// scanSettled reports whether a scan listed and started everything and
// its executions ended or wait for a person.
func scanSettled(v *scansapi.ScanView) bool {
	return v.Status != "RUNNING" && v.Summary != nil && v.Summary.Running == 0
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// followScan polls a scan until it settles, drawing its progress.
func followScan(ctx context.Context, f *apiFlags, id string, out io.Writer, timeout, interval time.Duration) (*scansapi.ScanView, error) {
	tty := isTerminal(out) && !f.asJSON
	deadline := time.Now().Add(timeout)
	last := ""
	for {
		v, err := getScan(ctx, f, id)
		if err != nil {
			return nil, err
		}
		line := progressLine(v, tty)
		if !f.asJSON && line != last {
			if tty {
				fmt.Fprintf(out, "\r\033[K%s", line)
			} else {
				fmt.Fprintln(out, line)
			}
			last = line
		}
		if scanSettled(v) || time.Now().After(deadline) {
			if tty {
				fmt.Fprintln(out)
			}
			if !scanSettled(v) && !f.asJSON {
				fmt.Fprintf(out, "stopped following after %s; the scan goes on: steward scan --id %s\n", timeout, id)
			}
			return v, nil
		}
		// Each answer reads the scan's executions: ask less often for big
		// scans.
		wait := interval
		if big := time.Duration(v.Started/20000) * time.Second; big > wait {
			wait = min(big, 10*time.Second)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return v, ctx.Err()
		case <-t.C:
		}
	}
}

// progressLine says how far a scan is: a bar of finished executions on a
// terminal.
func progressLine(v *scansapi.ScanView, bar bool) string {
	finished := 0
	waiting := 0
	if v.Finished != nil {
		finished = *v.Finished
	}
	if v.Summary != nil {
		waiting = v.Summary.Waiting
	}
	s := fmt.Sprintf("%s targets %d/%d  listed %d  started %d  finished %d", v.Status, v.TargetsDone, v.Targets, v.Listed, v.Started, finished)
	if waiting > 0 {
		s += fmt.Sprintf("  waiting for approval %d", waiting)
	}
	if !bar {
		return s
	}
	const width = 30
	total := v.Listed
	done := finished + waiting
	filled := 0
	if total > 0 {
		filled = min(width, done*width/total)
	} else if v.Status != "RUNNING" {
		filled = width
	}
	return "[" + strings.Repeat("#", filled) + strings.Repeat(".", width-filled) + "] " + s
}

// printScanSummary prints a scan's summary table.
func printScanSummary(out io.Writer, v *scansapi.ScanView) error {
	fmt.Fprintf(out, "scan %s of %s: %s (%d of %d targets", v.Scan, v.Playbook, v.Status, v.TargetsDone, v.Targets)
	if v.DryRun {
		fmt.Fprint(out, ", dry run")
	}
	fmt.Fprintln(out, ")")
	if v.Error != "" {
		fmt.Fprintf(out, "error: %s\n", v.Error)
	}
	var s scan.Summary
	if v.Summary != nil {
		s = *v.Summary
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "OUTCOME\tCOUNT")
	for _, c := range s.Counts() {
		fmt.Fprintf(tw, "%s\t%d\n", c[0], c[1])
	}
	return tw.Flush()
}

func newScansCmd() *cobra.Command {
	var f apiFlags
	var playbook string
	var limit int
	cmd := &cobra.Command{
		Use:   "scans",
		Short: "List recent scans, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			if playbook != "" {
				q.Set("playbook", playbook)
			}
			q.Set("limit", fmt.Sprint(limit))
			var res struct {
				Scans []scansapi.ScanView `json:"scans"`
			}
			if err := f.call(cmd.Context(), http.MethodGet, "/api/v1/scans?"+q.Encode(), nil, &res); err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if f.asJSON {
				return printJSON(out, res)
			}
			if len(res.Scans) == 0 {
				fmt.Fprintln(out, "no scans yet")
				return nil
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SCAN\tPLAYBOOK\tSTATUS\tTRIGGER\tLISTED\tSTARTED\tCREATED")
			for _, s := range res.Scans {
				trig := s.Trigger
				if s.DryRun {
					trig += " (dry run)"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s\n", s.Scan, s.Playbook, s.Status, trig, s.Listed, s.Started, s.Created.Format(time.RFC3339))
			}
			return tw.Flush()
		},
	}
	f.registerOn(cmd)
	cmd.Flags().StringVar(&playbook, "playbook", "", "only this playbook's scans")
	cmd.Flags().IntVar(&limit, "limit", 20, "at most this many (1 to 1000)")
	return cmd
}

func newSchedulesCmd() *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:   "schedules",
		Short: "List the schedules (the scheduled playbooks' and the API's) with their next run",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var res struct {
				Schedules []scansapi.ScheduleView `json:"schedules"`
			}
			if err := f.call(cmd.Context(), http.MethodGet, "/api/v1/schedules", nil, &res); err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if f.asJSON {
				return printJSON(out, res)
			}
			if len(res.Schedules) == 0 {
				fmt.Fprintln(out, "no schedules")
				return nil
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SCHEDULE\tCRON (UTC)\tPLAYBOOK\tENABLED\tNEXT RUN\tLAST RUN")
			for _, s := range res.Schedules {
				last := "-"
				if s.LastRun != nil {
					last = s.LastRun.Format(time.RFC3339)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%s\t%s\n", s.Name, s.Cron, s.Playbook, s.Enabled, s.NextRun.Format(time.RFC3339), last)
			}
			return tw.Flush()
		},
	}
	f.registerOn(cmd)
	return cmd
}
