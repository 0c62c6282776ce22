// Package cli implements steward's command line: one file per subcommand.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// exitError carries a process exit code out of a subcommand without printing
// anything more (the subcommand already said what was wrong).
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// hintError is an error with a line telling the user what to do about it.
type hintError struct {
	err  error
	hint string
}

func (e hintError) Error() string { return e.err.Error() }
func (e hintError) Unwrap() error { return e.err }

func withHint(err error, hint string) error { return hintError{err: err, hint: hint} }

// Main runs steward with args (without the program name) and returns the
// process exit code.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCmd()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	fmt.Fprintf(stderr, "error: %v\n", err)
	var he hintError
	if errors.As(err, &he) && he.hint != "" {
		fmt.Fprintf(stderr, "hint: %s\n", he.hint)
	}
	return 1
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "steward",
		Short:         "Security remediation orchestrator for AWS, with playbooks in Amazon States Language",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(
		newVersionCmd(),
		newValidateCmd(),
		newRunCmd(),
		newRulesCmd(),
		newAccountsCmd(),
		newServeCmd(),
		newExecutionsCmd(),
		newTaskCmd(),
		newEventsCmd(),
	)
	attachRegistered(root)
	return root
}

// registered are the commands added from their own files with
// registerCommand, so a new subcommand needs no edit here.
var registered []struct {
	parent string
	make   func() *cobra.Command
}

// registerCommand adds a command made by mk under the command named parent
// ("" for the root, "playbooks" for steward playbooks ...). Call it from an
// init function in the command's own file.
func registerCommand(parent string, mk func() *cobra.Command) {
	registered = append(registered, struct {
		parent string
		make   func() *cobra.Command
	}{parent, mk})
}

// attachRegistered adds the registered commands: top-level ones first, so
// that subcommands find their parents whatever the files' init order.
func attachRegistered(root *cobra.Command) {
	for _, r := range registered {
		if r.parent == "" {
			root.AddCommand(r.make())
		}
	}
	for _, r := range registered {
		if r.parent == "" {
			continue
		}
		parent, _, err := root.Find(strings.Fields(r.parent))
		if err != nil || parent == root {
			// No file made the parent: a bare group holds the subcommands.
			parent = &cobra.Command{Use: r.parent, Short: "Commands about " + r.parent, Args: cobra.NoArgs}
			root.AddCommand(parent)
		}
		parent.AddCommand(r.make())
	}
}

// Version is set at build time with -ldflags "-X .../cli.Version=...".
var Version = "dev"

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print steward's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), "steward", Version)
			return nil
		},
	}
}
