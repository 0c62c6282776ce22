package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/stewardhq/steward/internal/api"
)

// apiFlags are the flags of the commands that talk to steward serve.
type apiFlags struct {
	endpoint string
	dataDir  string
	asJSON   bool
}

func (f *apiFlags) register(cmd *cobra.Command) { f.addTo(cmd.PersistentFlags()) }

// registerOn adds the API flags to one command only (for command groups
// that mix local and server commands).
func (f *apiFlags) registerOn(cmd *cobra.Command) { f.addTo(cmd.Flags()) }

func (f *apiFlags) addTo(fs *pflag.FlagSet) {
	fs.StringVar(&f.endpoint, "endpoint", defaultEndpoint(), "URL of steward serve (default from STEWARD_ENDPOINT)")
	fs.StringVar(&f.dataDir, "data", defaultDataDir, "data directory of steward serve, for its access key (unless STEWARD_ACCESS_KEY_ID and STEWARD_SECRET_ACCESS_KEY are set)")
	fs.BoolVar(&f.asJSON, "json", false, "print JSON instead of a table")
}

// client returns the Step Functions client for the endpoint.
func (f *apiFlags) client() (*sfn.Client, error) {
	key, err := api.LoadAccessKey(f.dataDir, os.Getenv)
	if err != nil {
		if errors.Is(err, api.ErrNoAccessKey) {
			return nil, withHint(err, "set STEWARD_ACCESS_KEY_ID and STEWARD_SECRET_ACCESS_KEY, or pass --data with steward serve's data directory")
		}
		return nil, err
	}
	// One attempt: a person or script at the command line retries, and a
	// refused connection should say so at once.
	return api.NewClient(f.endpoint, key, func(o *sfn.Options) { o.RetryMaxAttempts = 1 }), nil
}

// callError explains an API call's failure: the API's code and message,
// or a hint when steward serve cannot be reached.
func (f *apiFlags) callError(err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		e := fmt.Errorf("%s: %s", ae.ErrorCode(), ae.ErrorMessage())
		switch ae.ErrorCode() {
		case "InvalidSignatureException", "UnrecognizedClientException":
			return withHint(e, "the access key does not match steward serve's: use its --data DIR or its STEWARD_ACCESS_KEY_ID and STEWARD_SECRET_ACCESS_KEY")
		case "InvalidArn":
			return withHint(e, "steward executions ls lists execution ARNs")
		}
		return e
	}
	var ne net.Error
	var oe *net.OpError
	if errors.As(err, &oe) || errors.As(err, &ne) {
		return withHint(err, "is steward serve running at "+f.endpoint+"? (--endpoint)")
	}
	return err
}

func newExecutionsCmd() *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:   "executions",
		Short: "List, show, stop and redrive executions on steward serve",
		Args:  cobra.NoArgs,
	}
	f.register(cmd)
	cmd.AddCommand(newExecutionsLsCmd(&f), newExecutionsShowCmd(&f), newExecutionsHistoryCmd(&f), newExecutionsStopCmd(&f), newExecutionsRedriveCmd(&f))
	return cmd
}

func newExecutionsLsCmd(f *apiFlags) *cobra.Command {
	var machine, status string
	var limit int
	cmd := &cobra.Command{
		Use:   "ls",
		Short: "List executions, newest first",
		Example: `  steward executions ls
  steward executions ls --state-machine ebs-unused --status RUNNING --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			in := &sfn.ListExecutionsInput{StatusFilter: types.ExecutionStatus(strings.ToUpper(status))}
			if machine != "" {
				arn, err := resolveStateMachine(ctx, c, machine)
				if err != nil {
					return f.callError(err)
				}
				in.StateMachineArn = aws.String(arn)
			}
			var list []types.ExecutionListItem
			for len(list) < limit {
				in.MaxResults = int32(min(limit-len(list), 1000))
				out, err := c.ListExecutions(ctx, in)
				if err != nil {
					return f.callError(err)
				}
				list = append(list, out.Executions...)
				if out.NextToken == nil {
					break
				}
				in.NextToken = out.NextToken
			}
			w := cmd.OutOrStdout()
			if f.asJSON {
				return printJSON(w, map[string]any{"executions": apiShape(list)})
			}
			if len(list) == 0 {
				fmt.Fprintln(w, "no executions")
				return nil
			}
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tSTATUS\tSTATE MACHINE\tSTARTED\tSTOPPED\tARN")
			for _, x := range list {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", aws.ToString(x.Name), x.Status, lastPart(aws.ToString(x.StateMachineArn)),
					timeText(x.StartDate), timeText(x.StopDate), aws.ToString(x.ExecutionArn))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&machine, "state-machine", "", "only executions of this state machine (name or ARN)")
	cmd.Flags().StringVar(&status, "status", "", "only executions in this status: RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED")
	cmd.Flags().IntVar(&limit, "max", 100, "list at most this many")
	return cmd
}

// resolveStateMachine accepts a state machine's ARN or its name.
func resolveStateMachine(ctx context.Context, c *sfn.Client, nameOrARN string) (string, error) {
	if strings.HasPrefix(nameOrARN, "arn:") {
		return nameOrARN, nil
	}
	in := &sfn.ListStateMachinesInput{MaxResults: 1000}
	for {
		out, err := c.ListStateMachines(ctx, in)
		if err != nil {
			return "", err
		}
		for _, sm := range out.StateMachines {
			if aws.ToString(sm.Name) == nameOrARN {
				return aws.ToString(sm.StateMachineArn), nil
			}
		}
		if out.NextToken == nil {
			return "", withHint(fmt.Errorf("no state machine is named %q", nameOrARN), "aws stepfunctions --endpoint-url ... list-state-machines lists them")
		}
		in.NextToken = out.NextToken
	}
}

func newExecutionsShowCmd(f *apiFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "show EXECUTION_ARN",
		Short:   "Show an execution: status, input, output, error",
		Example: `  steward executions show arn:aws:states:us-east-1:000000000000:execution:ebs-unused:run-1`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			out, err := c.DescribeExecution(cmd.Context(), &sfn.DescribeExecutionInput{ExecutionArn: aws.String(args[0])})
			if err != nil {
				return f.callError(err)
			}
			w := cmd.OutOrStdout()
			if f.asJSON {
				return printJSON(w, apiShape(out))
			}
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			row := func(k, v string) {
				if v != "" {
					fmt.Fprintf(tw, "%s\t%s\n", k, v)
				}
			}
			row("Execution:", aws.ToString(out.ExecutionArn))
			row("State machine:", aws.ToString(out.StateMachineArn))
			row("Status:", string(out.Status))
			row("Started:", timeText(out.StartDate))
			row("Stopped:", timeText(out.StopDate))
			row("Error:", aws.ToString(out.Error))
			row("Cause:", aws.ToString(out.Cause))
			if out.RedriveCount != nil && *out.RedriveCount > 0 {
				row("Redriven:", fmt.Sprintf("%d times, last %s", *out.RedriveCount, timeText(out.RedriveDate)))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			printPayload(w, "Input", out.Input)
			printPayload(w, "Output", out.Output)
			return nil
		},
	}
}

// printPayload prints a JSON payload indented under a title.
func printPayload(w io.Writer, title string, payload *string) {
	if payload == nil {
		return
	}
	var v any
	text := *payload
	if json.Unmarshal([]byte(text), &v) == nil {
		if b, err := json.MarshalIndent(v, "  ", "  "); err == nil {
			text = string(b)
		}
	}
	fmt.Fprintf(w, "%s:\n  %s\n", title, text)
}

func newExecutionsHistoryCmd(f *apiFlags) *cobra.Command {
	var reverse bool
	cmd := &cobra.Command{
		Use:     "history EXECUTION_ARN",
		Short:   "Print an execution's history events",
		Example: `  steward executions history arn:aws:states:us-east-1:000000000000:execution:ebs-unused:run-1 --json`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			in := &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(args[0]), MaxResults: 1000, ReverseOrder: reverse}
			var events []types.HistoryEvent
			for {
				out, err := c.GetExecutionHistory(cmd.Context(), in)
				if err != nil {
					return f.callError(err)
				}
				events = append(events, out.Events...)
				if out.NextToken == nil {
					break
				}
				in.NextToken = out.NextToken
			}
			w := cmd.OutOrStdout()
			if f.asJSON {
				return printJSON(w, map[string]any{"events": apiShape(events)})
			}
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tTYPE\tTIME\tDETAIL")
			for _, ev := range events {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", ev.Id, ev.Type, timeText(ev.Timestamp), eventDetail(ev))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&reverse, "reverse", false, "newest event first")
	return cmd
}

// eventDetail summarises an event in a table cell: the state it enters or
// leaves, the error and cause of a failure, the task it calls.
func eventDetail(ev types.HistoryEvent) string {
	shaped, _ := apiShape(ev).(map[string]any)
	for k, v := range shaped {
		d, ok := v.(map[string]any)
		if !ok || !strings.HasSuffix(k, "EventDetails") {
			continue
		}
		var parts []string
		for _, f := range []string{"name", "resourceType", "resource", "error", "cause"} {
			if s, ok := d[f].(string); ok && s != "" {
				if f == "cause" && len(s) > 80 {
					s = s[:77] + "..."
				}
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, " ")
	}
	return ""
}

func newExecutionsStopCmd(f *apiFlags) *cobra.Command {
	var errName, cause string
	cmd := &cobra.Command{
		Use:     "stop EXECUTION_ARN",
		Short:   "Stop (abort) a running execution",
		Example: `  steward executions stop arn:aws:states:us-east-1:000000000000:execution:ebs-unused:run-1 --error Ops.Cancelled --cause "fixed by hand"`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			in := &sfn.StopExecutionInput{ExecutionArn: aws.String(args[0])}
			if errName != "" {
				in.Error = aws.String(errName)
			}
			if cause != "" {
				in.Cause = aws.String(cause)
			}
			out, err := c.StopExecution(cmd.Context(), in)
			if err != nil {
				return f.callError(err)
			}
			if f.asJSON {
				return printJSON(cmd.OutOrStdout(), apiShape(out))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "stopped %s at %s\n", args[0], timeText(out.StopDate))
			return nil
		},
	}
	cmd.Flags().StringVar(&errName, "error", "", "error name to record")
	cmd.Flags().StringVar(&cause, "cause", "", "cause to record")
	return cmd
}

func newExecutionsRedriveCmd(f *apiFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "redrive EXECUTION_ARN",
		Short:   "Restart a failed, timed-out or aborted execution from the state where it stopped",
		Example: `  steward executions redrive arn:aws:states:us-east-1:000000000000:execution:ebs-unused:run-1`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			out, err := c.RedriveExecution(cmd.Context(), &sfn.RedriveExecutionInput{ExecutionArn: aws.String(args[0])})
			if err != nil {
				return f.callError(err)
			}
			if f.asJSON {
				return printJSON(cmd.OutOrStdout(), apiShape(out))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "redriven %s at %s\n", args[0], timeText(out.RedriveDate))
			return nil
		},
	}
}

func timeText(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

func lastPart(arn string) string {
	if i := strings.LastIndex(arn, ":"); i >= 0 {
		return arn[i+1:]
	}
	return arn
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// apiShape renders an SDK value with the API's field names: the SDK's Go
// field names with a lowercase first letter (ExecutionArn → executionArn),
// without empty fields and the SDK's result metadata; times as RFC 3339.
func apiShape(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var raw any
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	if d.Decode(&raw) != nil {
		return nil
	}
	return lowerKeys(raw)
}

func lowerKeys(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			if x == nil || k == "" || k == "ResultMetadata" {
				continue
			}
			if m, ok := x.(map[string]any); ok && len(m) == 0 {
				continue
			}
			r := []rune(k)
			r[0] = unicode.ToLower(r[0])
			out[string(r)] = lowerKeys(x)
		}
		return out
	case []any:
		for i, x := range v {
			v[i] = lowerKeys(x)
		}
		return v
	}
	return v
}
