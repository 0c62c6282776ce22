package catalog_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/catalog"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/stage"
	"github.com/stewardhq/steward/playbooks"
)

func mustParse(t *testing.T, y string) *config.Config {
	t.Helper()
	c, err := config.Parse([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestStagePrecedence(t *testing.T) {
	cfg := mustParse(t, `
playbooks:
  defaults:
    stages: {default: notify, sandbox: enforce}
  ebs-unused:
    stages: {development: enforce, production: notify}
    blastRadius: {perRun: 10}
    approval: {deadline: 72h}
`)
	c, err := catalog.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		playbook, class string
		want            stage.Stage
	}{
		{"ebs-unused", "development", stage.Enforce},   // the playbook's entry for the class
		{"ebs-unused", "production", stage.Notify},     // likewise
		{"ebs-unused", "sandbox", stage.Enforce},       // the defaults' entry for the class
		{"ebs-unused", "staging", stage.Notify},        // the defaults' default
		{"ebs-unused", "", stage.Notify},               // unknown class: the defaults' default
		{"no-such-playbook", "sandbox", stage.Observe}, // unknown playbook
	}
	for _, tc := range tests {
		if got := c.Stage(tc.playbook, tc.class); got != tc.want {
			t.Errorf("Stage(%s, %s) = %s, want %s", tc.playbook, tc.class, got, tc.want)
		}
	}
	if b := c.Limits("ebs-unused"); b.PerRun != 10 || b.PerHour != 50 {
		t.Errorf("Limits = %+v, want perRun 10 from config and perHour 50 from the metadata", b)
	}
	if d, def := c.Approval("ebs-unused"); d != 72*time.Hour || def != "approve" {
		t.Errorf("Approval = %v %s", d, def)
	}
}

func TestDefaultsObserve(t *testing.T) {
	c, err := catalog.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range c.All() {
		if !c.Enabled(p.Name) {
			t.Errorf("%s disabled by default", p.Name)
		}
		for _, class := range []string{"production", "development", "sandbox", ""} {
			if got := c.Stage(p.Name, class); got.AtLeast(stage.Enforce) && p.Stages["default"] != stage.Enforce {
				t.Errorf("%s enforces in %q without configuration", p.Name, class)
			}
		}
	}
	if len(c.Schedules()) == 0 {
		t.Error("no schedules")
	}
}

func TestScheduleOffAndDisabled(t *testing.T) {
	c, err := catalog.New(mustParse(t, `
playbooks:
  ebs-unused:
    schedule: "off"
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range c.Schedules() {
		if s.Playbook == "ebs-unused" {
			t.Error("schedule off still listed")
		}
	}
	c, err = catalog.New(mustParse(t, "playbooks:\n  ebs-unused: {enabled: false, schedule: \"15 4 * * *\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Enabled("ebs-unused") || c.ScheduleOf("ebs-unused") != "15 4 * * *" {
		t.Errorf("enabled %v, schedule %q", c.Enabled("ebs-unused"), c.ScheduleOf("ebs-unused"))
	}
	for _, p := range c.EnabledPlaybooks() {
		if p.Name == "ebs-unused" {
			t.Error("disabled playbook listed as enabled")
		}
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"unknown stage", "playbooks:\n  ebs-unused: {stages: {production: enforcing}}\n", `ebs-unused: stages: class "production": unknown stage "enforcing"`},
		{"bad cron", "playbooks:\n  ebs-unused: {schedule: \"61 * * * *\"}\n", `ebs-unused: schedule: invalid schedule "61 * * * *"`},
		{"unknown playbook", "playbooks:\n  ebs-unsued: {}\n", `"ebs-unsued" is not a playbook of the catalogue`},
		{"unknown field", "playbooks:\n  ebs-unused: {stage: enforce}\n", "field stage not found"},
		{"defaults schedule", "playbooks:\n  defaults: {schedule: \"0 1 * * *\"}\n", "a schedule belongs to one playbook"},
		{"approval default", "playbooks:\n  ebs-unused: {approval: {default: maybe}}\n", `default "maybe"`},
		{"negative limit", "playbooks:\n  defaults: {blastRadius: {perRun: -1}}\n", "must not be negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Parse([]byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, config.ErrInvalid) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestCatalogProblems(t *testing.T) {
	c, err := catalog.NewFrom(nil, nil, playbooks.ErrInvalidPlaybook)
	if err != nil || !errors.Is(c.Problems(), playbooks.ErrInvalidPlaybook) {
		t.Errorf("problems not reported: %v, %v", err, c.Problems())
	}
}

func FuzzConfigPlaybooks(f *testing.F) {
	f.Add("playbooks:\n  defaults: {stages: {default: observe}}\n  ebs-unused: {schedule: \"0 6 * * *\", blastRadius: {perRun: 3}}\n")
	f.Add("playbooks:\n  ebs-unused: {approval: {deadline: 48h, default: deny}, enabled: false}\n")
	f.Fuzz(func(t *testing.T, y string) {
		cfg, err := config.Parse([]byte(y))
		if err != nil {
			return
		}
		c, err := catalog.New(cfg)
		if err != nil {
			return
		}
		for _, p := range c.All() {
			if !c.Stage(p.Name, "production").Valid() {
				t.Fatalf("invalid stage for %s", p.Name)
			}
			_ = c.Limits(p.Name)
		}
		_ = c.Schedules()
	})
}
