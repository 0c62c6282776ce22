package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/spf13/cobra"
)

func newTaskCmd() *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:   "task",
		Short: "Answer tasks that wait for a token (.waitForTaskToken) on steward serve",
		Long: `A Task state whose resource ends in .waitForTaskToken parks its execution until
someone sends its token back. The token is in the task's parameters (pass
$$.Task.Token) and in the TaskScheduled event of the execution's history.`,
		Args: cobra.NoArgs,
	}
	f.register(cmd)
	cmd.AddCommand(newTaskLsCmd(&f), newTaskSuccessCmd(&f), newTaskFailureCmd(&f), newTaskHeartbeatCmd(&f))
	return cmd
}

func newTaskSuccessCmd(f *apiFlags) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "success TOKEN",
		Short: "Complete the task waiting for TOKEN with an output",
		Example: `  steward task success "$TOKEN" --output '{"approved": true}'
  steward task success "$TOKEN" --output @answer.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			out, err := readPayload(output, cmd.InOrStdin())
			if err != nil {
				return withHint(err, `--output takes JSON ('{"approved": true}') or @FILE`)
			}
			c, err := f.client()
			if err != nil {
				return err
			}
			if _, err := c.SendTaskSuccess(cmd.Context(), &sfn.SendTaskSuccessInput{TaskToken: aws.String(args[0]), Output: aws.String(out)}); err != nil {
				return f.callError(err)
			}
			return taskDone(cmd, f, "success")
		},
	}
	cmd.Flags().StringVar(&output, "output", "{}", "the task's output: JSON, or @FILE, or @- for stdin")
	return cmd
}

func newTaskFailureCmd(f *apiFlags) *cobra.Command {
	var errName, cause string
	cmd := &cobra.Command{
		Use:     "failure TOKEN",
		Short:   "Fail the task waiting for TOKEN",
		Example: `  steward task failure "$TOKEN" --error Owner.Denied --cause "needed until Friday"`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			in := &sfn.SendTaskFailureInput{TaskToken: aws.String(args[0])}
			if errName != "" {
				in.Error = aws.String(errName)
			}
			if cause != "" {
				in.Cause = aws.String(cause)
			}
			if _, err := c.SendTaskFailure(cmd.Context(), in); err != nil {
				return f.callError(err)
			}
			return taskDone(cmd, f, "failure")
		},
	}
	cmd.Flags().StringVar(&errName, "error", "", "error name the task fails with (Catch and Retry match it)")
	cmd.Flags().StringVar(&cause, "cause", "", "a readable cause")
	return cmd
}

func newTaskHeartbeatCmd(f *apiFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "heartbeat TOKEN",
		Short: "Tell the task waiting for TOKEN that work goes on (restarts HeartbeatSeconds)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			if _, err := c.SendTaskHeartbeat(cmd.Context(), &sfn.SendTaskHeartbeatInput{TaskToken: aws.String(args[0])}); err != nil {
				return f.callError(err)
			}
			return taskDone(cmd, f, "heartbeat")
		},
	}
}

func taskDone(cmd *cobra.Command, f *apiFlags, what string) error {
	if f.asJSON {
		return printJSON(cmd.OutOrStdout(), map[string]any{"sent": what})
	}
	fmt.Fprintf(cmd.OutOrStdout(), "sent task %s\n", what)
	return nil
}

// readPayload reads JSON text from an argument, @FILE or @- (stdin) and
// checks that it is JSON.
func readPayload(arg string, stdin io.Reader) (string, error) {
	data := []byte(arg)
	if strings.HasPrefix(arg, "@") {
		var err error
		if arg == "@-" {
			data, err = io.ReadAll(stdin)
		} else {
			data, err = os.ReadFile(arg[1:])
		}
		if err != nil {
			return "", fmt.Errorf("read output: %w", err)
		}
	}
	if !json.Valid(data) {
		return "", fmt.Errorf("the output is not valid JSON")
	}
	return strings.TrimSpace(string(data)), nil
}
