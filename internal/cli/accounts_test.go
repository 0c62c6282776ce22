package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runAccounts(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestAccountsLs(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "steward.yaml")
	if err := os.WriteFile(good, []byte(`role: arn:aws:iam::{account}:role/steward-remediator
regions: [us-east-1, eu-west-1]
accounts:
  - id: "222222222222"
    name: web-dev
    class: development
  - id: "111111111111"
    name: payments-prod
    class: production
    regions: [us-east-1]
    tags: {owner: payments, cost-center: "42"}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runAccounts(t, "accounts", "ls", "--config", good)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "ACCOUNT") {
		t.Fatalf("table:\n%s", out)
	}
	for _, want := range []string{"111111111111", "payments-prod", "production", "arn:aws:iam::111111111111:role/steward-remediator", "cost-center=42,owner=payments"} {
		if !strings.Contains(lines[1], want) {
			t.Fatalf("first row %q lacks %q", lines[1], want)
		}
	}
	if !strings.Contains(lines[2], "us-east-1,eu-west-1") {
		t.Fatalf("second row %q lacks the default regions", lines[2])
	}

	code, out, errOut = runAccounts(t, "accounts", "ls", "--config", good, "--json")
	if code != 0 {
		t.Fatalf("--json exit %d: %s", code, errOut)
	}
	var got []map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil || len(got) != 2 || got[0]["id"] != "111111111111" || got[1]["class"] != "development" {
		t.Fatalf("--json: %v\n%s", err, out)
	}

	t.Setenv("STEWARD_CONFIG", good)
	if code, _, errOut := runAccounts(t, "accounts", "ls"); code != 0 {
		t.Fatalf("STEWARD_CONFIG: exit %d: %s", code, errOut)
	}
}

func TestAccountsLsErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, file string
		want       []string
	}{
		{"missing", filepath.Join(dir, "nope.yaml"), []string{"error: ", "no such file", "hint: "}},
		{"malformed", write("bad.yaml", "accounts: [\n"), []string{"error: ", "inventory", "hint: "}},
		{"bad id", write("id.yaml", "regions: [us-east-1]\naccounts:\n  - id: 1234\n"), []string{"line 3", "accounts[0].id", "12 digits"}},
		{"unknown field", write("field.yaml", "regions: [us-east-1]\naccounts:\n  - id: \"123456789012\"\n    klass: prod\n"), []string{"klass"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runAccounts(t, "accounts", "ls", "--config", tt.file)
			if code == 0 {
				t.Fatal("exit 0")
			}
			for _, w := range tt.want {
				if !strings.Contains(errOut, w) {
					t.Fatalf("stderr %q lacks %q", errOut, w)
				}
			}
		})
	}
}
