package config

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/stewardhq/steward/internal/stage"
	"github.com/stewardhq/steward/playbooks"
)

// PlaybooksConfig configures the playbooks of the catalogue: how far each
// goes per account class (stages), when scheduled ones run, their blast
// radius and approvals. "defaults" applies to every playbook; every other
// key is a playbook's name and overrides the defaults for it:
//
//	playbooks:
//	  defaults:
//	    stages: {default: observe, sandbox: enforce}
//	  ebs-unused:
//	    stages: {development: enforce, production: notify}
//	    schedule: "30 5 * * 1-5"
//	    blastRadius: {perRun: 10, perHour: 20}
//	  ec2-stopped:
//	    enabled: false
//	  rds-idle:
//	    schedule: "off"
//	    approval: {deadline: 72h, default: deny}
//
// A stage is chosen, for a playbook in an account class, from the first of:
// the playbook's entry for the class, its "default" entry, the defaults'
// entry for the class, the defaults' "default", the playbook's own
// metadata (class, then default), and finally observe: nothing enforces
// until someone says so.
type PlaybooksConfig struct {
	// Defaults apply to every playbook.
	Defaults PlaybookConfig `yaml:"defaults"`
	// ByName configures one playbook, by name.
	ByName map[string]PlaybookConfig `yaml:",inline"`
}

// PlaybookConfig configures one playbook (or, as Defaults, all of them).
type PlaybookConfig struct {
	// Enabled turns a playbook off (false): no state machine, no rules,
	// no schedule. Unset means on.
	Enabled *bool `yaml:"enabled"`
	// Stages maps an account class, or "default", to observe, notify or
	// enforce.
	Stages map[string]string `yaml:"stages"`
	// Schedule replaces a scheduled playbook's cron expression (5 fields,
	// UTC); "off" stops its schedule (steward scan still runs it).
	Schedule string `yaml:"schedule"`
	// BlastRadius replaces the playbook's limits; a zero field keeps the
	// playbook's own.
	BlastRadius BlastRadiusConfig `yaml:"blastRadius"`
	// Approval replaces how the playbook asks a person.
	Approval ApprovalConfig `yaml:"approval"`
}

// BlastRadiusConfig limits a playbook's changes per run and per hour.
type BlastRadiusConfig struct {
	PerRun  int `yaml:"perRun"`
	PerHour int `yaml:"perHour"`
}

// ApprovalConfig is an approval's deadline (e.g. 48h) and the decision
// taken when no one answers by then (approve or deny).
type ApprovalConfig struct {
	Deadline time.Duration `yaml:"deadline"`
	Default  string        `yaml:"default"`
}

// ScheduleOff turns a playbook's schedule off.
const ScheduleOff = "off"

func (p *PlaybooksConfig) applyDefaults() {
	if p.ByName == nil {
		p.ByName = map[string]PlaybookConfig{}
	}
}

// Playbook returns the configuration of one playbook (its own entry, not
// merged with Defaults).
func (p *PlaybooksConfig) Playbook(name string) PlaybookConfig { return p.ByName[name] }

func (p *PlaybooksConfig) check() error {
	var errs []error
	if err := p.Defaults.check("defaults"); err != nil {
		errs = append(errs, err)
	}
	if p.Defaults.Schedule != "" {
		errs = append(errs, fmt.Errorf("%w: playbooks: defaults: a schedule belongs to one playbook", ErrInvalid))
	}
	names := make([]string, 0, len(p.ByName))
	for n := range p.ByName {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		pb, err := playbooks.Get(n)
		if err != nil {
			errs = append(errs, fmt.Errorf("%w: playbooks: %q is not a playbook of the catalogue (known: %s)", ErrInvalid, n, strings.Join(playbooks.Names(), ", ")))
			continue
		}
		c := p.ByName[n]
		if err := c.check(n); err != nil {
			errs = append(errs, err)
		}
		if c.Schedule != "" && pb.Trigger != playbooks.TriggerSchedule {
			errs = append(errs, fmt.Errorf("%w: playbooks: %s: it is started by events, not on a schedule", ErrInvalid, n))
		}
	}
	return errors.Join(errs...)
}

func (c PlaybookConfig) check(name string) error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: playbooks: %s: %s", ErrInvalid, name, fmt.Sprintf(format, args...)))
	}
	classes := make([]string, 0, len(c.Stages))
	for cl := range c.Stages {
		classes = append(classes, cl)
	}
	sort.Strings(classes)
	for _, cl := range classes {
		if _, err := stage.Parse(c.Stages[cl]); err != nil {
			bad("stages: class %q: %v", cl, err)
		}
	}
	if c.Schedule != "" && c.Schedule != ScheduleOff {
		if err := playbooks.CheckSchedule(c.Schedule); err != nil {
			bad("schedule: %v", err)
		}
	}
	if c.BlastRadius.PerRun < 0 || c.BlastRadius.PerHour < 0 {
		bad("blastRadius: limits must not be negative")
	}
	if c.Approval.Deadline < 0 {
		bad("approval: the deadline must not be negative")
	}
	switch c.Approval.Default {
	case "", "approve", "deny":
	default:
		bad("approval: default %q: want approve or deny", c.Approval.Default)
	}
	return errors.Join(errs...)
}
