package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stewardhq/steward/internal/asl"
	"github.com/stewardhq/steward/internal/engine"
	"github.com/stewardhq/steward/internal/task"
)

func newRunCmd() *cobra.Command {
	var (
		input    string
		asJSON   bool
		history  bool
		realTime bool
		name     string
		awsf     awsFlags
		dryRun   bool
		confFile string
	)
	cmd := &cobra.Command{
		Use:   "run FILE|PLAYBOOK",
		Short: "Run a playbook in memory and print how it ended",
		Long: `Run executes a playbook (ASL in JSON or YAML) in memory, to the end. Waits and
retry delays pass at once on a simulated clock (the context object shows the
simulated time) unless --real-time. Task states call steward's task handlers
(steward:echo, steward:fail, ...).

PLAYBOOK names a playbook of the catalogue (steward playbooks ls): it runs with
the change gate and the built-in tasks, in the stage steward.yaml (--config)
gives it; --dry-run runs it in the observe stage (mutating calls are recorded
as planned and not made).

With --json it prints exactly one JSON object,
  {"status": "SUCCEEDED"|"FAILED", "output": ..., "error": ..., "cause": ...}
and exits 0 however the execution ended.`,
		Example: `  steward run playbook.asl.json --input '{"detail": {}}'
  steward run playbook.asl.yaml --input @event.json --json --history
  steward run ebs-unused --dry-run --input @volume-input.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			smName := ""
			var data []byte
			var err error
			pb, fromCatalogue := catalogueDefinition(args[0])
			if fromCatalogue {
				data, smName = pb.Definition, pb.Name
			} else if data, err = os.ReadFile(args[0]); err != nil {
				return withHint(err, "name a playbook file, or a playbook of the catalogue (steward playbooks ls)")
			}
			m, err := asl.Parse(data)
			if err != nil {
				var ve *asl.ValidationError
				if errors.As(err, &ve) {
					for _, p := range ve.Problems {
						fmt.Fprintf(cmd.ErrOrStderr(), "%s: %s\n", args[0], p)
					}
					return withHint(fmt.Errorf("%s is not a valid playbook", args[0]), "steward validate "+args[0]+" lists the problems")
				}
				return err
			}
			in, err := readInput(input, cmd.InOrStdin())
			if err != nil {
				return withHint(err, `--input takes JSON ('{"a": 1}') or @FILE`)
			}
			if dryRun {
				in = dryRunInput(in)
			}
			tasks := task.NewRegistry()
			task.RegisterBasics(tasks)
			cl, err := awsf.registerCloud(cmd.Context(), tasks)
			if err != nil {
				return err
			}
			if fromCatalogue || dryRun {
				cfg, err := loadConfigFile(confFile)
				if err != nil {
					return err
				}
				done, err := registerGate(cmd.Context(), tasks, cl, cfg)
				if err != nil {
					return err
				}
				defer done()
			}
			res, err := engine.Run(cmd.Context(), engine.RunParams{
				Machine: m, Input: in, Tasks: tasks, RealTime: realTime, History: history, ExecutionName: name, StateMachineName: smName,
			})
			if err != nil {
				return err
			}
			if asJSON {
				return printRunJSON(cmd.OutOrStdout(), res, history)
			}
			printRunSummary(cmd.OutOrStdout(), res, history)
			return nil
		},
	}
	cmd.Flags().StringVar(&input, "input", "{}", "execution input: JSON, or @FILE to read it from a file (@- for stdin)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object: status, output, error, cause")
	cmd.Flags().BoolVar(&history, "history", false, "include the execution history, with Step Functions' event names")
	cmd.Flags().BoolVar(&realTime, "real-time", false, "let waits and retry delays take real time")
	cmd.Flags().StringVar(&name, "name", "", "execution name (default: a UUID)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "observe stage for this run: record what mutating calls would do, make none")
	cmd.Flags().StringVar(&confFile, "config", os.Getenv("STEWARD_CONFIG"), "configuration file (steward.yaml) for a catalogue playbook's stages")
	awsf.register(cmd)
	return cmd
}

// readInput reads --input: JSON text, @FILE, or @- for stdin.
func readInput(arg string, stdin io.Reader) (any, error) {
	data := []byte(arg)
	if strings.HasPrefix(arg, "@") {
		var err error
		if arg == "@-" {
			data, err = io.ReadAll(stdin)
		} else {
			data, err = os.ReadFile(arg[1:])
		}
		if err != nil {
			return nil, fmt.Errorf("read input: %w", err)
		}
	}
	v, err := asl.DecodeJSON(data)
	if err != nil {
		return nil, fmt.Errorf("the input is not valid JSON: %w", err)
	}
	return v, nil
}

func printRunJSON(w io.Writer, res *engine.Result, withHistory bool) error {
	out := map[string]any{"status": res.Status, "output": res.Output, "error": nil, "cause": nil}
	if res.Status != engine.StatusSucceeded {
		out["output"] = nil
		if res.Error != "" {
			out["error"] = res.Error
		}
		if res.Cause != "" {
			out["cause"] = res.Cause
		}
	}
	if withHistory {
		events := make([]map[string]any, len(res.History))
		for i, e := range res.History {
			events[i] = e.MarshalMap()
		}
		out["history"] = events
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

func printRunSummary(w io.Writer, res *engine.Result, withHistory bool) {
	fmt.Fprintf(w, "status:      %s\n", res.Status)
	if res.Status == engine.StatusSucceeded {
		b, _ := json.MarshalIndent(res.Output, "             ", "  ")
		fmt.Fprintf(w, "output:      %s\n", b)
	} else {
		fmt.Fprintf(w, "error:       %s\n", res.Error)
		fmt.Fprintf(w, "cause:       %s\n", res.Cause)
	}
	fmt.Fprintf(w, "transitions: %d\n", res.Transitions)
	if d := res.Stop.Sub(res.Start); d > 0 {
		fmt.Fprintf(w, "elapsed:     %s (execution clock)\n", d)
	}
	if withHistory {
		fmt.Fprintln(w, "history:")
		for _, e := range res.History {
			fmt.Fprintf(w, "  %4d  %-28s %s\n", e.ID, e.Type, historyNote(e))
		}
	}
}

func historyNote(e engine.HistoryEvent) string {
	if e.Details == nil {
		return ""
	}
	if n, ok := e.Details["name"].(string); ok {
		return n
	}
	if s, ok := e.Details["error"].(string); ok {
		return s
	}
	if s, ok := e.Details["resource"].(string); ok {
		return s
	}
	return ""
}
