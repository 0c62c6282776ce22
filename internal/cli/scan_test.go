package cli

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stewardhq/steward/internal/api"
	"github.com/stewardhq/steward/internal/api/scansapi"
	"github.com/stewardhq/steward/internal/awssim"
)

// TestScanThroughServe runs `steward scan` against a real steward serve
// over the simulated AWS: a dry run of ebs-unused in one account and two
// regions lists every unattached volume, starts one execution each, and
// the summary accounts for all of them.
func TestScanThroughServe(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the steward serve scan judge")
	}
	const account = "111122223333"
	sim := awssim.New(awssim.Options{})
	if err := sim.AddAccount(awssim.AccountInfo{ID: account, Name: "dev"}); err != nil {
		t.Fatal(err)
	}
	if err := sim.AddCredential(awssim.Credential{AccessKeyID: "AKIDSTEWARD", SecretAccessKey: "secret", Account: account}); err != nil {
		t.Fatal(err)
	}
	const perRegion = 7
	for _, r := range []string{"us-east-1", "eu-west-1"} {
		vols := make([]awssim.Volume, perRegion)
		for i := range vols {
			vols[i] = awssim.Volume{Size: 10 + i, State: "available"}
		}
		vols = append(vols, awssim.Volume{Size: 8, State: "in-use",
			Attachments: []awssim.VolumeAttachment{{InstanceID: "i-0123456789abcdef0", Device: "/dev/sdf", State: "attached"}}})
		if err := sim.AddResources(account, r, awssim.Resources{Volumes: vols}); err != nil {
			t.Fatal(err)
		}
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
	t.Setenv(api.EnvAccessKeyID, "")
	t.Setenv(api.EnvSecretAccessKey, "")

	cfgDir := t.TempDir()
	writeFile(t, cfgDir, "accounts.yaml", []byte(fmt.Sprintf("regions: [us-east-1, eu-west-1]\naccounts:\n  - {id: \"%s\", name: dev, class: development}\n", account)))
	t.Setenv("STEWARD_CONFIG", writeFile(t, cfgDir, "steward.yaml", []byte("accounts: accounts.yaml\nawsEndpoint: "+url+"\n")))
	dir := filepath.Join(t.TempDir(), "steward-data")
	p := startServe(t, dir)
	defer p.stop(t)

	code, out, errOut := steward(t, "scan", "--playbook", "ebs-unused", "--dry-run", "--data", dir, "--endpoint", p.url, "--json", "--interval", "20ms")
	if code != 0 {
		t.Fatalf("exit %d: %s %s\nserve: %s", code, out, errOut, p.stdout)
	}
	var v scansapi.ScanView
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	want := 2 * perRegion
	if v.Status != "SUCCEEDED" || v.Listed != want || v.Started != want || v.Targets != 2 || !v.DryRun || v.Summary == nil ||
		v.Summary.Found != want || v.Summary.Running != 0 || v.Finished == nil || *v.Finished+v.Summary.Waiting != want {
		t.Fatalf("scan %s", out)
	}
	if v.Summary.Fixed != 0 {
		t.Errorf("a dry run fixed %d volumes", v.Summary.Fixed)
	}
	t.Logf("steward scan --dry-run through serve: %d listed, %d started; summary %+v", v.Listed, v.Started, *v.Summary)

	// The table form, following the same scan; and the lists.
	code, out, errOut = steward(t, "scan", "--id", v.Scan, "--data", dir, "--endpoint", p.url, "--interval", "20ms")
	if code != 0 || !strings.Contains(out, "OUTCOME") || !strings.Contains(out, fmt.Sprintf("found             %d", want)) || !strings.Contains(out, "listed 14  started 14") {
		t.Fatalf("table: exit %d: %s %s", code, out, errOut)
	}
	code, out, _ = steward(t, "scans", "--data", dir, "--endpoint", p.url)
	if code != 0 || !strings.Contains(out, v.Scan) || !strings.Contains(out, "manual (dry run)") {
		t.Fatalf("scans: %d %s", code, out)
	}
	code, out, _ = steward(t, "schedules", "--data", dir, "--endpoint", p.url)
	if code != 0 || !strings.Contains(out, "playbook/ebs-unused") || !strings.Contains(out, "0 6 * * *") {
		t.Fatalf("schedules: %d %s", code, out)
	}
	code, _, errOut = steward(t, "scan", "--playbook", "no-such-playbook", "--data", dir, "--endpoint", p.url)
	if code == 0 || !strings.Contains(errOut, "no-such-playbook") {
		t.Fatalf("unknown playbook: exit %d: %s", code, errOut)
	}
	code, _, errOut = steward(t, "scan", "--playbook", "ebs-unused", "--accounts", "999999999999", "--data", dir, "--endpoint", p.url)
	if code == 0 || !strings.Contains(errOut, "999999999999") {
		t.Fatalf("unknown account: exit %d: %s", code, errOut)
	}
}
