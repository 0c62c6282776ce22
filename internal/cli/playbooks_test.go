package cli

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/awssim"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/store/storesqlite"
	"github.com/stewardhq/steward/playbooks"
)

func TestPlaybooksLs(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "steward.yaml", []byte(`playbooks:
  defaults:
    stages: {production: notify}
  ebs-unused:
    stages: {development: enforce}
    schedule: "30 5 * * *"
    blastRadius: {perRun: 7}
`))
	code, out, errOut := steward(t, "playbooks", "ls", "--config", cfg)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var line string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "ebs-unused ") {
			line = l
		}
	}
	for _, want := range []string{"schedule", "30 5 * * *", "default=observe", "development=enforce", "production=notify", "7/50"} {
		if !strings.Contains(line, want) {
			t.Errorf("ebs-unused line %q lacks %q\n%s", line, want, out)
		}
	}
	code, out, _ = steward(t, "playbooks", "ls", "--json")
	var rows []playbookRow
	if code != 0 || json.Unmarshal([]byte(out), &rows) != nil || len(rows) != len(playbooks.All()) {
		t.Fatalf("ls --json: %d %s", code, out)
	}
	code, _, errOut = steward(t, "playbooks", "ls", "--config", writeFile(t, dir, "bad.yaml", []byte("playbooks:\n  ebs-unused: {schedule: \"0 6 * *\"}\n")))
	if code == 0 || !strings.Contains(errOut, "ebs-unused: schedule") {
		t.Errorf("bad cron: exit %d, %s", code, errOut)
	}
}

func TestPlaybooksShowAndPolicy(t *testing.T) {
	p, err := playbooks.Get("ebs-unused")
	if err != nil {
		t.Fatal(err)
	}
	if code, out, _ := steward(t, "playbooks", "show", "ebs-unused"); code != 0 || out != string(p.Definition) {
		t.Errorf("show: %d", code)
	}
	if code, out, _ := steward(t, "playbooks", "show", "ebs-unused", "--meta"); code != 0 || out != string(p.Metadata) {
		t.Errorf("show --meta: %d", code)
	}
	if code, _, errOut := steward(t, "playbooks", "show", "nope"); code == 0 || !strings.Contains(errOut, "unknown playbook") {
		t.Errorf("show nope: %d %s", code, errOut)
	}
	code, out, _ := steward(t, "playbooks", "policy", "ebs-unused")
	var doc struct {
		Statement []struct {
			Sid    string
			Action []string
		}
	}
	if code != 0 || json.Unmarshal([]byte(out), &doc) != nil || len(doc.Statement) != 1 {
		t.Fatalf("policy: %d %s", code, out)
	}
	acts := strings.Join(doc.Statement[0].Action, " ")
	for _, want := range []string{"ec2:DeleteVolume", "ec2:CreateSnapshot", "ec2:DescribeVolumes", "cloudtrail:LookupEvents", "tag:TagResources"} {
		if !strings.Contains(acts, want) {
			t.Errorf("policy lacks %s: %s", want, acts)
		}
	}
	code, out, _ = steward(t, "playbooks", "policy", "--all")
	if code != 0 || json.Unmarshal([]byte(out), &doc) != nil || len(doc.Statement) != len(playbooks.All()) {
		t.Errorf("policy --all: %d %s", code, out)
	}
	if code, _, _ := steward(t, "playbooks", "policy"); code == 0 {
		t.Error("policy without a name succeeded")
	}
}

// TestRunCatalogueDryRun runs ebs-unused by name with --dry-run on a volume
// unattached for 60 days: the run plans the snapshot and the deletion and
// makes neither.
func TestRunCatalogueDryRun(t *testing.T) {
	sim := awssim.New(awssim.Options{})
	const acct = "111122223333"
	if err := sim.AddAccount(awssim.AccountInfo{ID: acct, Name: "dev"}); err != nil {
		t.Fatal(err)
	}
	if err := sim.AddCredential(awssim.Credential{AccessKeyID: "AKIDSTEWARD", SecretAccessKey: "secret", Account: acct}); err != nil {
		t.Fatal(err)
	}
	old := time.Now().UTC().Add(-60 * 24 * time.Hour).Format(time.RFC3339)
	if err := sim.AddResources(acct, "eu-west-1", awssim.Resources{Volumes: []awssim.Volume{{ID: "vol-0123456789abcdef0", Size: 8,
		Tags: awssim.Tags{{Key: "steward:last-seen", Value: old}}}}}); err != nil {
		t.Fatal(err)
	}
	url, stop := sim.Start()
	defer stop()
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDSTEWARD")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_CA_BUNDLE", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	t.Setenv("STEWARD_CONFIG", "")
	in := `{"account":"` + acct + `","region":"eu-west-1","resource":{"VolumeId":"vol-0123456789abcdef0"},"trigger":"schedule"}`
	code, out, errOut := steward(t, "run", "ebs-unused", "--dry-run", "--json", "--aws-endpoint", url, "--input", in)
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	var res struct {
		Status string
		Output map[string]any
		Error  *string
		Cause  *string
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if res.Status != "SUCCEEDED" || res.Output["outcome"] != "fixed" || !strings.HasPrefix(res.Output["snapshotId"].(string), "snap-planned-") {
		t.Fatalf("dry run: %s", out)
	}
	calls := sim.Calls()
	if calls["ec2:DeleteVolume"] != 0 || calls["ec2:CreateSnapshot"] != 0 {
		t.Errorf("a dry run changed AWS: %v", calls)
	}
}

// TestServeCreatesCatalogue starts steward serve twice on one data
// directory: the first start creates a state machine per enabled playbook
// (named as the playbook, with its definition), the second finds them
// unchanged. A state machine someone made under a playbook's name before
// is left as it is.
func TestServeCreatesCatalogue(t *testing.T) {
	dir := t.TempDir()
	const mine = `{"StartAt":"Mine","States":{"Mine":{"Type":"Pass","End":true}}}`
	{
		st, err := storesqlite.Open(filepath.Join(dir, storeFile), storesqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateStateMachine(context.Background(), store.CreateStateMachineParams{
			ARN: "arn:aws:states:us-east-1:000000000000:stateMachine:eip-unused", Name: "eip-unused", Type: "STANDARD",
			Definition: mine, RoleARN: "arn:aws:iam::000000000000:role/mine", RevisionID: "r1", Now: time.Now()}); err != nil {
			t.Fatal(err)
		}
		st.Close()
	}
	for i := 0; i < 2; i++ {
		p := startServe(t, dir)
		p.stop(t)
	}
	st, err := storesqlite.Open(filepath.Join(dir, storeFile), storesqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sms, _, err := st.ListStateMachines(context.Background(), store.ListParams{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*store.StateMachine{}
	for _, sm := range sms {
		byName[sm.Name] = sm
	}
	if sm := byName["eip-unused"]; sm == nil || sm.Definition != mine {
		t.Errorf("the user's eip-unused state machine was replaced: %+v", sm)
	}
	for _, pb := range playbooks.All() {
		sm := byName[pb.Name]
		if pb.Name == "eip-unused" {
			continue
		}
		if sm == nil || sm.Definition != string(pb.Definition) || sm.Revision != 1 {
			t.Errorf("playbook %s: state machine %+v", pb.Name, sm)
		}
	}
}
