package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/stewardhq/steward/internal/builtin"
	"github.com/stewardhq/steward/internal/catalog"
	"github.com/stewardhq/steward/internal/change"
	"github.com/stewardhq/steward/internal/cloud"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/iampolicy"
	"github.com/stewardhq/steward/internal/stage"
	"github.com/stewardhq/steward/internal/store/storesqlite"
	"github.com/stewardhq/steward/internal/task"
	"github.com/stewardhq/steward/playbooks"
)

func init() {
	registerCommand("", newPlaybooksCmd)
	registerCommand("playbooks", newPlaybooksLsCmd)
	registerCommand("playbooks", newPlaybooksShowCmd)
	registerCommand("playbooks", newPlaybooksPolicyCmd)
}

func newPlaybooksCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "playbooks",
		Short: "The built-in playbooks: list them, show one, print their IAM policies",
		Long: `steward's catalogue of remediation playbooks, embedded in the binary. Each is a
state machine in Amazon States Language with its metadata: its schedule and scan,
or the rules that match its events; its stages; its blast radius; the IAM actions
it needs. steward.yaml's "playbooks:" section sets how far each goes per account
class (observe, notify, enforce).`,
		Args: cobra.NoArgs,
	}
}

// loadConfigFile reads --config, or the defaults without one.
func loadConfigFile(path string) (*config.Config, error) {
	if path == "" {
		return config.Default(), nil
	}
	cfg, err := config.Load(path)
	if err != nil {
		return nil, withHint(err, "check "+path+" against the README's configuration section")
	}
	return cfg, nil
}

// playbookRow is one line of steward playbooks ls.
type playbookRow struct {
	Name     string                 `json:"name"`
	Enabled  bool                   `json:"enabled"`
	Trigger  string                 `json:"trigger"`
	Schedule string                 `json:"schedule,omitempty"`
	Stages   map[string]stage.Stage `json:"stages"`
	PerRun   int                    `json:"perRun"`
	PerHour  int                    `json:"perHour"`
	Desc     string                 `json:"description"`
}

func newPlaybooksLsCmd() *cobra.Command {
	var (
		configFile string
		asJSON     bool
	)
	cmd := &cobra.Command{
		Use:   "ls",
		Short: "List the playbooks with their trigger, schedule, stage per account class and limits",
		Example: `  steward playbooks ls
  steward playbooks ls --config steward.yaml --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfigFile(configFile)
			if err != nil {
				return err
			}
			cat, err := catalog.New(cfg)
			if err != nil {
				return err
			}
			if err := cat.Problems(); err != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "warning: playbooks left out: %v\n", err)
			}
			classes := stageClasses(cfg, cat)
			var rows []playbookRow
			for _, p := range cat.All() {
				lim := cat.Limits(p.Name)
				r := playbookRow{Name: p.Name, Enabled: cat.Enabled(p.Name), Trigger: string(p.Trigger), Schedule: cat.ScheduleOf(p.Name),
					Stages: map[string]stage.Stage{}, PerRun: lim.PerRun, PerHour: lim.PerHour, Desc: p.Description}
				for _, cl := range classes {
					key := cl
					if cl == "default" {
						key = ""
					}
					r.Stages[cl] = cat.Stage(p.Name, key)
				}
				rows = append(rows, r)
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(rows)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tENABLED\tTRIGGER\tSCHEDULE\tSTAGES\tLIMITS (run/hour)")
			for _, r := range rows {
				var st []string
				for _, cl := range classes {
					st = append(st, cl+"="+string(r.Stages[cl]))
				}
				sched := r.Schedule
				if sched == "" {
					sched = "-"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s/%s\n", r.Name, yesNo(r.Enabled), r.Trigger, sched, strings.Join(st, " "),
					limit(r.PerRun), limit(r.PerHour))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&configFile, "config", os.Getenv("STEWARD_CONFIG"), "configuration file (steward.yaml; default $STEWARD_CONFIG) whose stages and limits to show")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func limit(n int) string {
	if n <= 0 {
		return "-"
	}
	return fmt.Sprint(n)
}

// stageClasses are the account classes worth a column: "default" and every
// class the configuration or a playbook names.
func stageClasses(cfg *config.Config, cat *catalog.Catalog) []string {
	set := map[string]bool{}
	for cl := range cfg.Playbooks.Defaults.Stages {
		set[cl] = true
	}
	for _, pc := range cfg.Playbooks.ByName {
		for cl := range pc.Stages {
			set[cl] = true
		}
	}
	for _, p := range cat.All() {
		for cl := range p.Stages {
			set[cl] = true
		}
	}
	delete(set, "default")
	out := []string{"default"}
	var rest []string
	for cl := range set {
		rest = append(rest, cl)
	}
	sort.Strings(rest)
	return append(out, rest...)
}

func newPlaybooksShowCmd() *cobra.Command {
	var meta bool
	cmd := &cobra.Command{
		Use:   "show NAME",
		Short: "Print a playbook's state machine (ASL), or with --meta its metadata",
		Example: `  steward playbooks show ebs-unused
  steward playbooks show ebs-unused --meta`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := playbooks.Get(args[0])
			if err != nil {
				return withHint(err, "steward playbooks ls lists them")
			}
			data := p.Definition
			if meta {
				data = p.Metadata
			}
			_, err = cmd.OutOrStdout().Write(data)
			return err
		},
	}
	cmd.Flags().BoolVar(&meta, "meta", false, "print the metadata (YAML) instead of the state machine")
	return cmd
}

func newPlaybooksPolicyCmd() *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "policy NAME | --all",
		Short: "Print the least-privilege IAM policy a playbook needs in member accounts",
		Long: `policy prints an IAM policy document (JSON) with the actions a playbook needs
in a member account: its AWS calls, its scan, and what steward's built-in tasks
(tagging, CloudTrail lookups) call for it. With --all, one statement per playbook.`,
		Example: `  steward playbooks policy ebs-unused
  steward playbooks policy --all > steward-remediator-policy.json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			var list []*playbooks.Playbook
			switch {
			case all && len(args) == 0:
				list = playbooks.All()
			case !all && len(args) == 1:
				p, err := playbooks.Get(args[0])
				if err != nil {
					return withHint(err, "steward playbooks ls lists them")
				}
				list = []*playbooks.Playbook{p}
			default:
				return withHint(fmt.Errorf("name one playbook, or --all"), "steward playbooks policy ebs-unused")
			}
			doc := iampolicy.Document{Version: "2012-10-17"}
			for _, p := range list {
				doc.Statement = append(doc.Statement, p.Policy().Statement...)
			}
			_, err := cmd.OutOrStdout().Write(doc.JSON())
			return err
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "every playbook, one statement each")
	return cmd
}

// catalogueDefinition returns the embedded definition of a catalogue
// playbook when arg names one and is not a file.
func catalogueDefinition(arg string) (*playbooks.Playbook, bool) {
	if _, err := os.Stat(arg); err == nil {
		return nil, false
	}
	p, err := playbooks.Get(arg)
	if err != nil {
		return nil, false
	}
	return p, true
}

// dryRunInput asks for the observe stage in an execution input (a dry run
// can only lower the configured stage).
func dryRunInput(in any) any {
	m, ok := in.(map[string]any)
	if !ok {
		m = map[string]any{}
	}
	st, _ := m["steward"].(map[string]any)
	if st == nil {
		st = map[string]any{}
	}
	st["stage"] = string(stage.Observe)
	m["steward"] = st
	return m
}

// registerGate puts the change gate and the built-in tasks into a steward
// run: changes are recorded in a throwaway store, mutating calls run only
// in the stage the configuration (and --dry-run) allows. It returns a
// function that removes the store.
func registerGate(ctx context.Context, tasks *task.Registry, cl *cloud.Cloud, cfg *config.Config) (func(), error) {
	cat, err := catalog.New(cfg)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "steward-run-")
	if err != nil {
		return nil, err
	}
	cleanup := func() { _ = os.RemoveAll(dir) }
	db, err := storesqlite.Open(filepath.Join(dir, "run.db"), storesqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		cleanup()
		return nil, err
	}
	classOf := cl.ClassOf
	gate, err := change.New(change.Config{Store: db, Stages: cat, ClassOf: classOf, Limits: cat.LimitsFunc(change.DefaultPerRun, change.DefaultPerHour)})
	if err == nil {
		err = gate.Register(tasks)
	}
	if err != nil {
		_ = db.Close()
		cleanup()
		return nil, err
	}
	builtin.Register(tasks, builtin.Deps{Cloud: cl, TagPrefix: cfg.TagPrefix, Exceptions: db, Stages: cat, ClassOf: classOf, Plans: gate.BuiltinPlans()})
	_ = ctx
	return func() { _ = db.Close(); cleanup() }, nil
}
