// Package catalog is the resolved catalogue: the embedded playbooks
// (package playbooks) as steward.yaml configures them. It answers, for the
// parts of steward serve, which playbooks are enabled, the stage of a
// playbook in an account class (it is the stage.Resolver of the change gate
// and the built-ins), each playbook's blast radius and approval, and the
// schedules to keep.
package catalog

import (
	"fmt"
	"time"

	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/rules"
	"github.com/stewardhq/steward/internal/stage"
	"github.com/stewardhq/steward/playbooks"
)

// Catalog is the embedded playbooks under one configuration. It is
// immutable and safe for concurrent use.
type Catalog struct {
	problems error
	cfg      config.PlaybooksConfig
	byName   map[string]*playbooks.Playbook
	order    []*playbooks.Playbook
}

var _ stage.Resolver = (*Catalog)(nil)

// New resolves the catalogue under cfg (nil: steward's defaults). It fails
// when the configuration names a playbook the catalogue lacks. Embedded
// playbooks that did not load are left out and reported by Problems.
func New(cfg *config.Config) (*Catalog, error) {
	return NewFrom(cfg, playbooks.All(), playbooks.Problems())
}

// NewFrom resolves a catalogue of the given playbooks (tests pass their
// own); problems are what loading them reported.
func NewFrom(cfg *config.Config, all []*playbooks.Playbook, problems error) (*Catalog, error) {
	if cfg == nil {
		cfg = config.Default()
	}
	c := &Catalog{cfg: cfg.Playbooks, byName: map[string]*playbooks.Playbook{}, problems: problems}
	for _, p := range all {
		c.byName[p.Name] = p
		c.order = append(c.order, p)
	}
	for name := range c.cfg.ByName {
		if c.byName[name] == nil {
			return nil, fmt.Errorf("catalog: %w: steward.yaml configures %q", playbooks.ErrUnknownPlaybook, name)
		}
	}
	return c, nil
}

// Problems reports the playbooks that did not load (and so are not in the
// catalogue), or nil.
func (c *Catalog) Problems() error { return c.problems }

// Playbook returns a playbook of the catalogue, enabled or not.
func (c *Catalog) Playbook(name string) (*playbooks.Playbook, error) {
	p, ok := c.byName[name]
	if !ok {
		return nil, fmt.Errorf("%w %q", playbooks.ErrUnknownPlaybook, name)
	}
	return p, nil
}

// All returns every playbook of the catalogue, enabled or not, by name.
func (c *Catalog) All() []*playbooks.Playbook { return c.order }

// Enabled reports whether a playbook is in the catalogue and not turned
// off (its own enabled, else the defaults', else on).
func (c *Catalog) Enabled(name string) bool {
	if _, ok := c.byName[name]; !ok {
		return false
	}
	if e := c.cfg.ByName[name].Enabled; e != nil {
		return *e
	}
	if e := c.cfg.Defaults.Enabled; e != nil {
		return *e
	}
	return true
}

// EnabledPlaybooks returns the enabled playbooks, by name.
func (c *Catalog) EnabledPlaybooks() []*playbooks.Playbook {
	var out []*playbooks.Playbook
	for _, p := range c.order {
		if c.Enabled(p.Name) {
			out = append(out, p)
		}
	}
	return out
}

// Stage implements stage.Resolver: the playbook's entry for the class,
// its "default", the defaults' entry for the class, the defaults'
// "default", the playbook's metadata (class, then default), else observe.
// An unknown playbook is observed.
func (c *Catalog) Stage(playbook, accountClass string) stage.Stage {
	p, ok := c.byName[playbook]
	if !ok {
		return stage.Observe
	}
	lookups := []map[string]string{c.cfg.ByName[playbook].Stages, c.cfg.Defaults.Stages}
	for _, m := range lookups {
		for _, key := range []string{accountClass, "default"} {
			if key == "" && accountClass == "" {
				continue
			}
			if s, ok := m[key]; ok {
				if st, err := stage.Parse(s); err == nil {
					return st
				}
				return stage.Observe
			}
		}
	}
	for _, key := range []string{accountClass, "default"} {
		if s, ok := p.Stages[key]; ok && key != "" {
			return s
		}
	}
	return stage.Observe
}

// Limits returns a playbook's blast radius: configuration field by field,
// else its metadata's (0: no limit of steward's own; the change gate
// applies its defaults).
func (c *Catalog) Limits(playbook string) playbooks.BlastRadius {
	var b playbooks.BlastRadius
	if p, ok := c.byName[playbook]; ok {
		b = p.BlastRadius
	}
	for _, pc := range []config.PlaybookConfig{c.cfg.Defaults, c.cfg.ByName[playbook]} {
		if pc.BlastRadius.PerRun > 0 {
			b.PerRun = pc.BlastRadius.PerRun
		}
		if pc.BlastRadius.PerHour > 0 {
			b.PerHour = pc.BlastRadius.PerHour
		}
	}
	return b
}

// LimitsFunc adapts Limits to the change gate's Limits field, with the
// gate's defaults where neither metadata nor configuration set one.
func (c *Catalog) LimitsFunc(defPerRun, defPerHour int) func(string) (int, int) {
	return func(name string) (int, int) {
		b := c.Limits(name)
		if b.PerRun == 0 {
			b.PerRun = defPerRun
		}
		if b.PerHour == 0 {
			b.PerHour = defPerHour
		}
		return b.PerRun, b.PerHour
	}
}

// Approval returns how a playbook asks a person: configuration, else
// metadata, else a 48-hour deadline defaulting to approve.
func (c *Catalog) Approval(playbook string) (deadline time.Duration, def string) {
	deadline, def = 48*time.Hour, "approve"
	if p, ok := c.byName[playbook]; ok {
		if p.Approval.Deadline > 0 {
			deadline = time.Duration(p.Approval.Deadline)
		}
		if p.Approval.Default != "" {
			def = p.Approval.Default
		}
	}
	for _, pc := range []config.PlaybookConfig{c.cfg.Defaults, c.cfg.ByName[playbook]} {
		if pc.Approval.Deadline > 0 {
			deadline = pc.Approval.Deadline
		}
		if pc.Approval.Default != "" {
			def = pc.Approval.Default
		}
	}
	return deadline, def
}

// Schedule is one scheduled playbook's cron expression.
type Schedule struct {
	Playbook string
	Cron     string
	Scan     *playbooks.Scan
}

// Schedules returns the schedules of the enabled scheduled playbooks
// whose schedule is not "off", by playbook name.
func (c *Catalog) Schedules() []Schedule {
	var out []Schedule
	for _, p := range c.EnabledPlaybooks() {
		if p.Trigger != playbooks.TriggerSchedule {
			continue
		}
		cron := p.Schedule
		if s := c.cfg.ByName[p.Name].Schedule; s != "" {
			cron = s
		}
		if cron == config.ScheduleOff || cron == "" {
			continue
		}
		out = append(out, Schedule{Playbook: p.Name, Cron: cron, Scan: p.Scan})
	}
	return out
}

// ScheduleOf returns a playbook's effective schedule ("off" when turned
// off, "" for event playbooks).
func (c *Catalog) ScheduleOf(name string) string {
	p, ok := c.byName[name]
	if !ok || p.Trigger != playbooks.TriggerSchedule {
		return ""
	}
	if s := c.cfg.ByName[name].Schedule; s != "" {
		return s
	}
	return p.Schedule
}

// Rules returns the rules of the enabled event playbooks.
func (c *Catalog) Rules() []rules.Rule {
	var out []rules.Rule
	for _, p := range c.EnabledPlaybooks() {
		out = append(out, p.Rules...)
	}
	return out
}
