package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stewardhq/steward/internal/awssim"
)

// TestRunAWSSDKTasks runs a playbook whose tasks are AWS SDK integrations
// with `steward run --aws-endpoint`, against the simulated AWS: the call
// acts in the account and region of the event that started the execution,
// and an AWS error is caught by its Step Functions name.
func TestRunAWSSDKTasks(t *testing.T) {
	sim := awssim.New(awssim.Options{})
	if err := sim.AddAccount(awssim.AccountInfo{ID: "111122223333", Name: "dev"}); err != nil {
		t.Fatal(err)
	}
	if err := sim.AddCredential(awssim.Credential{AccessKeyID: "AKIDSTEWARD", SecretAccessKey: "secret", Account: "111122223333"}); err != nil {
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

	dir := t.TempDir()
	def := writeFile(t, dir, "p.json", []byte(`{"StartAt":"Who","States":{
		"Who":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:sts:getCallerIdentity","Parameters":{},"ResultSelector":{"account.$":"$.Account"},"ResultPath":"$.who","Next":"Snapshot"},
		"Snapshot":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:ec2:createSnapshot","Parameters":{"VolumeId":"vol-0123456789abcdef0"},
			"Catch":[{"ErrorEquals":["Ec2.InvalidVolume.NotFoundException"],"ResultPath":"$.error","Next":"Gone"}],"End":true},
		"Gone":{"Type":"Pass","End":true}}}`))
	code, out, errOut := steward(t, "run", def, "--json", "--aws-endpoint", url, "--input", `{"account":"111122223333","region":"eu-west-1","detail":{}}`)
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	var res struct {
		Status string
		Output struct {
			Who   struct{ Account string }
			Error struct{ Error, Cause string }
		}
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if res.Status != "SUCCEEDED" || res.Output.Who.Account != "111122223333" || res.Output.Error.Error != "Ec2.InvalidVolume.NotFoundException" || !strings.Contains(res.Output.Error.Cause, "vol-0123456789abcdef0") {
		t.Errorf("got %s", out)
	}
	if calls := sim.Calls(); calls["ec2:CreateSnapshot"] != 1 || calls["sts:GetCallerIdentity"] != 1 {
		t.Errorf("calls the simulated AWS saw: %v", calls)
	}
}
