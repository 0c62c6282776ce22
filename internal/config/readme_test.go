package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stewardhq/steward/internal/cloud"
	"github.com/stewardhq/steward/internal/config"
)

// TestREADMEExamples keeps the README true: its steward.yaml and
// accounts.yaml examples (the yaml blocks whose first line names the
// file) must load.
func TestREADMEExamples(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := map[string]string{}
	for _, part := range strings.Split(string(data), "```yaml\n")[1:] {
		body, _, _ := strings.Cut(part, "```")
		first, _, _ := strings.Cut(body, "\n")
		blocks[strings.TrimSpace(strings.TrimPrefix(first, "#"))] = body
	}
	for _, name := range []string{"steward.yaml", "accounts.yaml"} {
		if blocks[name] == "" {
			t.Fatalf("README has no yaml block starting with # %s", name)
		}
	}
	cfg, err := config.Parse([]byte(blocks["steward.yaml"]))
	if err != nil {
		t.Fatalf("README's steward.yaml: %v", err)
	}
	if cfg.Accounts != "accounts.yaml" || cfg.Playbooks.ByName["ebs-unused"].BlastRadius.PerRun != 10 {
		t.Errorf("README's steward.yaml read as %+v", cfg)
	}
	if _, err := cloud.ParseInventory(strings.NewReader(blocks["accounts.yaml"])); err != nil {
		t.Fatalf("README's accounts.yaml: %v", err)
	}
}
