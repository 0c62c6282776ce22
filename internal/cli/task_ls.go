package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/spf13/cobra"
)

// waitingTask is a .waitForTaskToken task an execution is parked on.
type waitingTask struct {
	ExecutionARN string `json:"executionArn"`
	State        string `json:"state"`
	Resource     string `json:"resource"`
	Scheduled    string `json:"scheduled"`
	Token        string `json:"token,omitempty"`
}

func newTaskLsCmd(f *apiFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "ls",
		Short: "List the tasks running executions wait on, with their tokens",
		Long: `Ls lists, for every running execution, the task it waits on for a token: the
state, the resource and, when the playbook passed the token in the task's
parameters ($$.Task.Token, as Step Functions playbooks do), the token to answer
with "steward task success TOKEN".`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			client, err := f.client()
			if err != nil {
				return err
			}
			tasks, err := waitingTasks(cmd.Context(), client)
			if err != nil {
				return f.callError(err)
			}
			if f.asJSON {
				return printJSON(cmd.OutOrStdout(), map[string]any{"tasks": tasks})
			}
			if len(tasks) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "no task is waiting for a token")
				return nil
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "EXECUTION\tSTATE\tSCHEDULED\tTOKEN")
			for _, t := range tasks {
				token := t.Token
				if token == "" {
					token = "(not in the task's parameters)"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.ExecutionARN, t.State, t.Scheduled, token)
			}
			return tw.Flush()
		},
	}
}

// waitingTasks reads the histories of running executions and returns the
// .waitForTaskToken tasks scheduled and not yet answered.
func waitingTasks(ctx context.Context, client *sfn.Client) ([]waitingTask, error) {
	var out []waitingTask
	p := sfn.NewListExecutionsPaginator(client, &sfn.ListExecutionsInput{StatusFilter: types.ExecutionStatusRunning})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, ex := range page.Executions {
			tasks, err := executionWaits(ctx, client, aws.ToString(ex.ExecutionArn))
			if err != nil {
				return nil, err
			}
			out = append(out, tasks...)
		}
	}
	return out, nil
}

func executionWaits(ctx context.Context, client *sfn.Client, arn string) ([]waitingTask, error) {
	var events []types.HistoryEvent
	p := sfn.NewGetExecutionHistoryPaginator(client, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		events = append(events, page.Events...)
	}
	var open []waitingTask
	state := ""
	for _, e := range events {
		switch {
		case e.StateEnteredEventDetails != nil:
			state = aws.ToString(e.StateEnteredEventDetails.Name)
		case e.TaskScheduledEventDetails != nil:
			d := e.TaskScheduledEventDetails
			res := aws.ToString(d.Resource)
			if !strings.HasSuffix(res, ".waitForTaskToken") {
				continue
			}
			t := waitingTask{ExecutionARN: arn, State: state, Resource: aws.ToString(d.ResourceType) + ":" + res}
			if e.Timestamp != nil {
				t.Scheduled = e.Timestamp.Local().Format("2006-01-02 15:04:05")
			}
			var params any
			if json.Unmarshal([]byte(aws.ToString(d.Parameters)), &params) == nil {
				t.Token = findToken(params)
			}
			open = append(open, t)
		case e.TaskSucceededEventDetails != nil, e.TaskFailedEventDetails != nil, e.TaskTimedOutEventDetails != nil:
			if len(open) > 0 {
				open = open[:len(open)-1]
			}
		}
	}
	return open, nil
}

// findToken looks for a field whose name contains "token" with a string
// value, where playbooks put $$.Task.Token.
func findToken(v any) string {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if s, ok := val.(string); ok && strings.Contains(strings.ToLower(k), "token") && s != "" {
				return s
			}
		}
		for _, val := range x {
			if t := findToken(val); t != "" {
				return t
			}
		}
	case []any:
		for _, val := range x {
			if t := findToken(val); t != "" {
				return t
			}
		}
	}
	return ""
}
