package cli

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/stewardhq/steward/internal/pattern"
)

// Exit codes of "steward rules test".
const (
	rulesTestMatch   = 0 // the event matches the pattern
	rulesTestNoMatch = 1 // it does not
	rulesTestError   = 2 // invalid pattern, malformed event, unreadable file, bad usage
)

func newRulesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "Work with rules: EventBridge event patterns that start playbooks",
	}
	var f apiFlags
	manage := []*cobra.Command{newRulesLsCmd(&f), newRulesPutCmd(&f), newRulesRmCmd(&f)}
	for _, c := range manage {
		f.registerOn(c)
	}
	cmd.AddCommand(append(manage, newRulesTestCmd())...)
	return cmd
}

func newRulesTestCmd() *cobra.Command {
	var patternFile, eventFile string
	cmd := &cobra.Command{
		Use:   "test --pattern FILE --event FILE",
		Short: "Test an event pattern against an event, as EventBridge's TestEventPattern does",
		Long: `Test an EventBridge event pattern against an event.

Exit status: 0 when the event matches, 1 when it does not, 2 when the
pattern is invalid (EventBridge's error text is printed), the event is not
a JSON object, a file cannot be read, or the command is misused.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			stderr := cmd.ErrOrStderr()
			fail := func(err error, hint string) error {
				fmt.Fprintf(stderr, "error: %v\n", err)
				if hint != "" {
					fmt.Fprintf(stderr, "hint: %s\n", hint)
				}
				return exitError{code: rulesTestError}
			}
			if patternFile == "" || eventFile == "" {
				return fail(errors.New("both --pattern and --event are required"),
					"steward rules test --pattern pattern.json --event event.json")
			}
			src, err := os.ReadFile(patternFile)
			if err != nil {
				return fail(fmt.Errorf("read pattern: %w", err), "")
			}
			event, err := os.ReadFile(eventFile)
			if err != nil {
				return fail(fmt.Errorf("read event: %w", err), "")
			}
			p, err := pattern.Compile(src)
			if err != nil {
				var ipe *pattern.InvalidPatternError
				if errors.As(err, &ipe) {
					// EventBridge's own text, unwrapped, so it can be compared.
					fmt.Fprintf(stderr, "error: %s\n", ipe.Message)
					return exitError{code: rulesTestError}
				}
				return fail(fmt.Errorf("pattern %s: %w", patternFile, err), "")
			}
			ok, err := p.Match(event)
			if err != nil {
				return fail(fmt.Errorf("event %s: %w", eventFile, err), "the event must be one JSON object")
			}
			if !ok {
				fmt.Fprintln(cmd.OutOrStdout(), "no match")
				return exitError{code: rulesTestNoMatch}
			}
			fmt.Fprintln(cmd.OutOrStdout(), "match")
			return nil
		},
	}
	cmd.Flags().StringVar(&patternFile, "pattern", "", "file holding the event pattern (JSON)")
	cmd.Flags().StringVar(&eventFile, "event", "", "file holding the event (JSON)")
	// A usage error must not exit 1, which means "no match".
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		fmt.Fprintf(c.ErrOrStderr(), "error: %v\n", err)
		return exitError{code: rulesTestError}
	})
	return cmd
}
