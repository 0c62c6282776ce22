package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/stewardhq/steward/internal/api/eventsapi"
	"github.com/stewardhq/steward/internal/ingest"
)

func newEventsCmd() *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:   "events",
		Short: "Send, import, list and replay events on steward serve",
		Args:  cobra.NoArgs,
	}
	f.register(cmd)
	cmd.AddCommand(newEventsSendCmd(&f), newEventsImportCmd(&f), newEventsLsCmd(&f), newEventsShowCmd(&f), newEventsReplayCmd(&f))
	return cmd
}

type ingestAnswer struct {
	Accepted   []string `json:"accepted"`
	Duplicates []string `json:"duplicates"`
}

func newEventsSendCmd(f *apiFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "send FILE...",
		Short: "Send events (JSON files: one event or an array) to steward serve",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			total := ingestAnswer{}
			for _, path := range args {
				data, err := os.ReadFile(path)
				if err != nil {
					return err
				}
				if !json.Valid(data) {
					return fmt.Errorf("%s is not valid JSON", path)
				}
				var ans ingestAnswer
				if err := f.call(cmd.Context(), "POST", "/events", data, &ans); err != nil {
					return fmt.Errorf("%s: %w", path, err)
				}
				total.Accepted = append(total.Accepted, ans.Accepted...)
				total.Duplicates = append(total.Duplicates, ans.Duplicates...)
			}
			if f.asJSON {
				return printJSON(cmd.OutOrStdout(), total)
			}
			for _, id := range total.Accepted {
				fmt.Fprintf(cmd.OutOrStdout(), "accepted  %s\n", id)
			}
			for _, id := range total.Duplicates {
				fmt.Fprintf(cmd.OutOrStdout(), "duplicate %s (stored before)\n", id)
			}
			return nil
		},
	}
}

func newEventsImportCmd(f *apiFlags) *cobra.Command {
	var batch int
	cmd := &cobra.Command{
		Use:   "import PATH",
		Short: "Backfill CloudTrail log files (gzip JSON with Records, a folder of them, or NDJSON)",
		Long: `Import reads CloudTrail log files as they are stored in S3 (gzip-compressed JSON
with "Records"), a folder of them, or NDJSON, wraps each record in the
EventBridge "AWS API Call via CloudTrail" envelope exactly as EventBridge does,
and sends the events to steward serve, so the same rules match backfilled and
live events. Importing the same records again stores nothing new.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var pending []json.RawMessage
			accepted, duplicates, files := 0, 0, map[string]bool{}
			flush := func() error {
				if len(pending) == 0 {
					return nil
				}
				body, _ := json.Marshal(pending)
				var ans ingestAnswer
				if err := f.call(cmd.Context(), "POST", "/events", body, &ans); err != nil {
					return err
				}
				accepted += len(ans.Accepted)
				duplicates += len(ans.Duplicates)
				pending = pending[:0]
				return nil
			}
			err := ingest.ReadCloudTrail(args[0], func(file string, ev map[string]any) error {
				files[file] = true
				b, err := json.Marshal(ev)
				if err != nil {
					return err
				}
				pending = append(pending, b)
				if len(pending) >= batch {
					return flush()
				}
				return nil
			})
			if err == nil {
				err = flush()
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d files: %d events accepted, %d already stored\n", len(files), accepted, duplicates)
			return err
		},
	}
	cmd.Flags().IntVar(&batch, "batch", 100, "events per request")
	return cmd
}

func newEventsLsCmd(f *apiFlags) *cobra.Command {
	var since, until, source, rule string
	var limit int
	cmd := &cobra.Command{
		Use:   "ls",
		Short: "List stored events, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			for k, v := range map[string]string{"since": since, "until": until, "source": source, "rule": rule} {
				if v != "" {
					q.Set(k, v)
				}
			}
			q.Set("limit", strconv.Itoa(limit))
			var out struct {
				Events    []eventsapi.EventView `json:"events"`
				NextToken string                `json:"nextToken"`
			}
			if err := f.call(cmd.Context(), "GET", "/api/v1/events?"+q.Encode(), nil, &out); err != nil {
				return err
			}
			if f.asJSON {
				return printJSON(cmd.OutOrStdout(), out)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "RECEIVED\tID\tSOURCE\tDETAIL TYPE\tACCOUNT\tREGION\tPROCESSED")
			for _, e := range out.Events {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%v\n", e.Received.Local().Format(time.DateTime), e.ID, e.Source, e.DetailType, e.Account, e.Region, e.Processed)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&since, "since", "", "only events received since: RFC 3339 time, or a duration ago such as 2h")
	cmd.Flags().StringVar(&until, "until", "", "only events received before: RFC 3339 time or a duration ago")
	cmd.Flags().StringVar(&source, "source", "", "only events of this source, e.g. aws.ec2")
	cmd.Flags().StringVar(&rule, "rule", "", "only events this rule matched")
	cmd.Flags().IntVar(&limit, "limit", 50, "at most this many events")
	return cmd
}

func newEventsShowCmd(f *apiFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show an event and what the rules did with it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var ev eventsapi.EventView
			if err := f.call(cmd.Context(), "GET", "/api/v1/events/"+url.PathEscape(args[0]), nil, &ev); err != nil {
				return err
			}
			if f.asJSON {
				return printJSON(cmd.OutOrStdout(), ev)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "id:        %s\nsource:    %s\ntype:      %s\naccount:   %s\nregion:    %s\nreceived:  %s (via %s)\n", ev.ID, ev.Source, ev.DetailType, ev.Account, ev.Region, ev.Received.Format(time.RFC3339), ev.Via)
			if len(ev.Matches) == 0 {
				fmt.Fprintln(w, "matches:   none")
			}
			for _, m := range ev.Matches {
				if m.Skipped {
					fmt.Fprintf(w, "rule %s: skipped (%s)\n", m.Rule, m.Reason)
				} else {
					fmt.Fprintf(w, "rule %s: started %s: %s\n", m.Rule, m.Playbook, m.ExecutionARN)
				}
			}
			var pretty bytes.Buffer
			if json.Indent(&pretty, ev.Event, "", "  ") == nil {
				fmt.Fprintf(w, "event:\n%s\n", pretty.String())
			}
			return nil
		},
	}
}

func newEventsReplayCmd(f *apiFlags) *cobra.Command {
	var since, until, rule, source string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "replay --since TIME [--until TIME] [--rule NAME] [--source SOURCE] [--dry-run]",
		Short: "Run the rules again on stored events",
		Long: `Replay runs the rules again on stored events, oldest first. An execution already
started for an event and a rule is not started again, so replaying after adding
a rule starts only that rule's playbooks. --dry-run shows what would start.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			req := eventsapi.ReplayRequest{Rule: rule, Source: source, DryRun: dryRun}
			var err error
			if req.Since, err = timeArg(since); err != nil || since == "" {
				return withHint(fmt.Errorf("--since: %v", err), "--since takes an RFC 3339 time or a duration ago such as 24h")
			}
			if until != "" {
				if req.Until, err = timeArg(until); err != nil {
					return err
				}
			}
			body, _ := json.Marshal(req)
			var res eventsapi.ReplayResult
			if err := f.call(cmd.Context(), "POST", "/api/v1/events/replay", body, &res); err != nil {
				return err
			}
			if f.asJSON {
				return printJSON(cmd.OutOrStdout(), res)
			}
			verb := "started"
			if dryRun {
				verb = "would start"
			}
			for _, m := range res.Matches {
				switch {
				case m.Skipped:
					fmt.Fprintf(cmd.OutOrStdout(), "rule %s: skipped (%s)\n", m.Rule, m.Reason)
				default:
					fmt.Fprintf(cmd.OutOrStdout(), "rule %s: %s %s %s\n", m.Rule, verb, m.Playbook, m.ExecutionARN)
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d events replayed, %d matches, %d executions started or already running\n", res.Events, len(res.Matches), res.Started)
			return nil
		},
	}
	cmd.Flags().StringVar(&since, "since", "", "replay events received since (RFC 3339, or a duration ago such as 24h)")
	cmd.Flags().StringVar(&until, "until", "", "replay events received before this time")
	cmd.Flags().StringVar(&rule, "rule", "", "report only this rule's matches")
	cmd.Flags().StringVar(&source, "source", "", "replay only events of this source")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "say what would start, start nothing")
	return cmd
}

func timeArg(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, fmt.Errorf("empty")
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time nor a duration", s)
	}
	return time.Now().Add(-d), nil
}
