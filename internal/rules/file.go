package rules

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"go.yaml.in/yaml/v3"

	"github.com/stewardhq/steward/internal/asl"
)

// File is a rules file: YAML (or JSON, which is YAML) with a list of rules.
//
//	rules:
//	  - name: s3-dangling-dns
//	    pattern: {source: [aws.s3], detail: {eventName: [DeleteBucket]}}
//	    playbooks: [s3-dangling-dns]
type File struct {
	Rules []Rule
}

type yamlRule struct {
	Name             string            `yaml:"name"`
	Description      string            `yaml:"description"`
	Pattern          any               `yaml:"pattern"`
	Playbooks        []string          `yaml:"playbooks"`
	InputTransformer *InputTransformer `yaml:"inputTransformer"`
	Threshold        *Threshold        `yaml:"threshold"`
	Disabled         bool              `yaml:"disabled"`
}

// ParseFile decodes a rules file. Patterns may be written as YAML mappings
// or as JSON strings. It checks the shape only; Set.Put validates each rule.
func ParseFile(data []byte) (*File, error) {
	var doc struct {
		Rules []yamlRule `yaml:"rules"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("rules file: %w", err)
	}
	f := &File{}
	seen := map[string]bool{}
	for i, yr := range doc.Rules {
		if yr.Name == "" {
			return nil, fmt.Errorf("rules file: rule %d has no name", i+1)
		}
		if seen[yr.Name] {
			return nil, fmt.Errorf("rules file: rule %q appears twice", yr.Name)
		}
		seen[yr.Name] = true
		var pat json.RawMessage
		switch p := yr.Pattern.(type) {
		case nil:
		case string:
			pat = json.RawMessage(p)
		default:
			conv, err := asl.FromYAML(p)
			if err != nil {
				return nil, fmt.Errorf("rules file: rule %q: pattern: %w", yr.Name, err)
			}
			if pat, err = json.Marshal(conv); err != nil {
				return nil, fmt.Errorf("rules file: rule %q: pattern: %w", yr.Name, err)
			}
		}
		f.Rules = append(f.Rules, Rule{
			Name: yr.Name, Description: yr.Description, Pattern: pat, Playbooks: yr.Playbooks,
			InputTransformer: yr.InputTransformer, Threshold: yr.Threshold, Disabled: yr.Disabled,
		})
	}
	return f, nil
}

// LoadFile reads and parses a rules file.
func LoadFile(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := ParseFile(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// PutAll adds every rule of the file to the set, or none: the first invalid
// rule stops the load and leaves the set as it was.
func (s *Set) PutAll(rules []Rule) error {
	var errs []error
	for _, r := range rules {
		if _, err := compile(r, s.exists); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	for _, r := range rules {
		if err := s.Put(r); err != nil {
			return err
		}
	}
	return nil
}
