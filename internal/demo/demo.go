// Package demo is the simulated organisation `steward demo` runs against:
// an embedded scenario (scenario.yaml: three member accounts, production,
// development and sandbox, in two regions, full of what the playbooks fix)
// served by internal/awssim, the events the demo sends (events/*.json), and
// the report it prints from steward's store. Nothing in it reaches AWS: the
// sim listens on 127.0.0.1 and accepts only the scenario's own key.
package demo

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"text/template"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/stewardhq/steward/internal/awssim"
)

//go:embed scenario.yaml events/*.json
var files embed.FS

// The simulated organisation's fixed names.
const (
	// HomeAccount is the security account steward runs in.
	HomeAccount = "999999999999"
	// AccessKeyID and SecretAccessKey are steward's key in the sim (the
	// scenario's credential). They work nowhere else.
	AccessKeyID     = "AKIASTEWARDDEMO00001"
	SecretAccessKey = "demo-secret-not-a-real-key"
	// SandboxAccessKeyID and SandboxSecretAccessKey are a developer's key
	// in the sandbox account, for trying the AWS CLI against the sim.
	SandboxAccessKeyID     = "AKIASANDBOXDEMO00001"
	SandboxSecretAccessKey = "sandbox-secret-not-a-real-key"
	// RoleTemplate is the role steward assumes in each member account,
	// as in docs/iam.
	RoleTemplate = "arn:aws:iam::{account}:role/steward-remediator"
)

// ErrScenario reports an embedded file that does not render or load.
var ErrScenario = errors.New("demo: invalid embedded scenario")

// render executes an embedded template: {{ago N}} is the time N days
// before now (RFC 3339, UTC), {{day N}} the date N days from now.
func render(name string, now time.Time) ([]byte, error) {
	src, err := files.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrScenario, name, err)
	}
	now = now.UTC().Truncate(time.Second)
	funcs := template.FuncMap{
		"ago": func(days int) string { return now.AddDate(0, 0, -days).Format(time.RFC3339) },
		"day": func(days int) string { return now.AddDate(0, 0, days).Format("2006-01-02") },
	}
	t, err := template.New(name).Funcs(funcs).Option("missingkey=error").Parse(string(src))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrScenario, name, err)
	}
	var out bytes.Buffer
	if err := t.Execute(&out, nil); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrScenario, name, err)
	}
	return out.Bytes(), nil
}

// Scenario returns the demo's organisation as of now.
func Scenario(now time.Time) (*awssim.Scenario, error) {
	b, err := render("scenario.yaml", now)
	if err != nil {
		return nil, err
	}
	sc, err := awssim.LoadScenario(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrScenario, err)
	}
	return sc, nil
}

// Org is the simulated organisation, running.
type Org struct {
	// Sim is the simulated AWS; URL where it listens (127.0.0.1).
	Sim *awssim.Sim
	URL string
	// Scenario is what it was seeded with.
	Scenario *awssim.Scenario
	stop     func()
}

// Start seeds a simulated AWS with the scenario as of now() and starts it
// on a loopback port. Close stops it.
func Start(now func() time.Time) (*Org, error) {
	sc, err := Scenario(now())
	if err != nil {
		return nil, err
	}
	sim := awssim.New(awssim.Options{Now: now})
	if err := sim.Apply(sc); err != nil {
		return nil, fmt.Errorf("seed the simulated AWS: %w", err)
	}
	sim.ExtendEC2Volumes()
	url, stop := sim.Start()
	return &Org{Sim: sim, URL: url, Scenario: sc, stop: stop}, nil
}

// Close stops the simulated AWS.
func (o *Org) Close() {
	if o.stop != nil {
		o.stop()
	}
}

// Members are the accounts steward acts in: all but the security account.
func (o *Org) Members() []awssim.ScenarioAccount {
	var out []awssim.ScenarioAccount
	for _, a := range o.Scenario.Accounts {
		if a.ID != HomeAccount {
			out = append(out, a)
		}
	}
	return out
}

// Inventory is the account inventory (internal/cloud's YAML) of the
// member accounts: their class, the scenario's regions, the remediator
// role.
func (o *Org) Inventory() []byte {
	type entry struct {
		ID    string `yaml:"id"`
		Name  string `yaml:"name"`
		Class string `yaml:"class"`
		OU    string `yaml:"ou,omitempty"`
	}
	inv := struct {
		Role     string   `yaml:"role"`
		Regions  []string `yaml:"regions"`
		Accounts []entry  `yaml:"accounts"`
	}{Role: RoleTemplate, Regions: o.Scenario.Regions}
	for _, a := range o.Members() {
		inv.Accounts = append(inv.Accounts, entry{ID: a.ID, Name: a.Name, Class: a.Class, OU: path.Base(a.OU)})
	}
	b, _ := yaml.Marshal(inv) // plain structs always marshal
	return b
}

// Classes returns the member accounts' classes, sorted.
func (o *Org) Classes() []string {
	seen := map[string]bool{}
	var out []string
	for _, a := range o.Members() {
		if !seen[a.Class] {
			seen[a.Class] = true
			out = append(out, a.Class)
		}
	}
	sort.Strings(out)
	return out
}

// Event is one EventBridge event the demo sends.
type Event struct {
	// Name is the file's name without .json (the playbook it is meant to
	// start, when that playbook exists).
	Name string
	// Body is the event, JSON.
	Body []byte
}

// Events returns the demo's events as of now, by name.
func Events(now time.Time) ([]Event, error) {
	names, err := fs.Glob(files, "events/*.json")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	out := make([]Event, 0, len(names))
	for _, n := range names {
		b, err := render(n, now)
		if err != nil {
			return nil, err
		}
		out = append(out, Event{Name: strings.TrimSuffix(path.Base(n), ".json"), Body: b})
	}
	return out, nil
}
