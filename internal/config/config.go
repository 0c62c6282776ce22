// Package config reads steward's configuration file (steward.yaml): where
// the accounts are, how far each playbook may go in each account class, how
// people are notified and asked. Every section is optional: steward runs on
// its embedded defaults without a file.
//
// Each section's type lives in its own file (playbooks.go, notify.go) next
// to the code that explains it.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"go.yaml.in/yaml/v3"
)

// DefaultTagPrefix begins every tag steward writes; it never touches tags
// without it.
const DefaultTagPrefix = "steward:"

// ErrInvalid is wrapped by every error about the file's content.
var ErrInvalid = errors.New("invalid configuration")

// Config is steward.yaml.
type Config struct {
	// TagPrefix begins the tags steward writes (default "steward:").
	TagPrefix string `yaml:"tagPrefix"`
	// Accounts is the account inventory file (relative to this file).
	Accounts string `yaml:"accounts"`
	// AWSEndpoint overrides AWS's endpoints (LocalStack, moto).
	AWSEndpoint string `yaml:"awsEndpoint"`
	// BaseURL is where people reach this steward (approval links), e.g.
	// https://steward.example.com.
	BaseURL string `yaml:"baseURL"`
	// Playbooks configures the playbooks: stages, schedules, limits.
	Playbooks PlaybooksConfig `yaml:"playbooks"`
	// Notify configures the notifiers and owner routing.
	Notify NotifyConfig `yaml:"notify"`
	// Approvals configures approvals: deadlines, reminders, link keys.
	Approvals ApprovalsConfig `yaml:"approvals"`

	// dir is the directory of the file, for relative paths.
	dir string
}

// Default returns the configuration steward runs with when there is no
// file.
func Default() *Config {
	c := &Config{}
	c.applyDefaults()
	return c
}

func (c *Config) applyDefaults() {
	if c.TagPrefix == "" {
		c.TagPrefix = DefaultTagPrefix
	}
	c.Playbooks.applyDefaults()
	c.Notify.applyDefaults()
	c.Approvals.applyDefaults()
}

// Load reads and checks a configuration file.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	c.dir = filepath.Dir(path)
	return c, nil
}

// Parse reads and checks a configuration. Unknown fields are errors: a
// misspelt setting must not silently do nothing.
func Parse(data []byte) (*Config, error) {
	c := &Config{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, errEOF) {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	c.applyDefaults()
	if err := c.check(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Config) check() error {
	return errors.Join(c.Playbooks.check(), c.Notify.check(), c.Approvals.check())
}

// Path resolves a path written in the file relative to the file's folder.
func (c *Config) Path(p string) string {
	if p == "" || filepath.IsAbs(p) || c.dir == "" {
		return p
	}
	return filepath.Join(c.dir, p)
}
