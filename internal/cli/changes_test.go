package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/stewardhq/steward/internal/api"
	"github.com/stewardhq/steward/internal/awssim"
)

// TestServeChangesAndRollback: a playbook on a real `steward serve` plans a
// deletion (an unconfigured playbook is observed: the call is not made),
// records a change it made by other means with its undo; `steward changes
// ls|show` list them and `steward rollback` undoes the recorded change
// through the simulated AWS.
func TestServeChangesAndRollback(t *testing.T) {
	sim := awssim.New(awssim.Options{})
	sc, err := awssim.LoadScenario(strings.NewReader(`
regions: [us-east-1]
credentials: [{access_key_id: AKIDSTEWARD, secret_access_key: secret, account: "111122223333"}]
accounts:
  - id: "111122223333"
    regions:
      us-east-1:
        volumes: [{id: vol-1, size: 8, state: available, type: gp3, availability_zone: us-east-1a, tags: {x: y}}]
`))
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Apply(sc); err != nil {
		t.Fatal(err)
	}
	url, stopSim := sim.Start()
	defer stopSim()
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": "AKIDSTEWARD", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "",
		"AWS_CA_BUNDLE": "", "AWS_PROFILE": "", "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"} {
		t.Setenv(k, v)
	}
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "steward.yaml")
	if err := os.WriteFile(cfgFile, []byte("awsEndpoint: "+url+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("STEWARD_CONFIG", cfgFile)
	p := startServe(t, dir)
	key, err := api.LoadAccessKey(dir, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	client := api.NewClient(p.url, key)
	def := `{"StartAt":"Plan","States":{
		"Plan":{"Type":"Task","Resource":"steward:plan","Parameters":{"Service":"ec2","Action":"StopInstances","Resource":"i-1","Reason":"idle"},"ResultPath":"$.plan","Next":"Delete"},
		"Delete":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:ec2:deleteVolume","Parameters":{"VolumeId":"vol-1"},"ResultPath":"$.deleted","Next":"Record"},
		"Record":{"Type":"Task","Resource":"steward:record","Parameters":{"Service":"ec2","Action":"CreateTags","Resource":"vol-1",
			"Parameters":{"Resources":["vol-1"],"Tags":[{"Key":"x","Value":"y"}]},
			"Undo":[{"Service":"ec2","Action":"DeleteTags","Parameters":{"Resources":["vol-1"],"Tags":[{"Key":"x"}]}}]},"End":true}}}`
	sm, err := client.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("cleanup"), Definition: aws.String(def), RoleArn: aws.String("arn:aws:iam::000000000000:role/steward")})
	if err != nil {
		t.Fatal(err)
	}
	ex, err := client.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Input: aws.String(`{"account":"111122223333","region":"us-east-1"}`)})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(ex.ExecutionArn)
	deadline := time.Now().Add(20 * time.Second)
	for {
		d, err := client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: ex.ExecutionArn})
		if err == nil && d.Status != types.ExecutionStatusRunning {
			if d.Status != types.ExecutionStatusSucceeded {
				t.Fatalf("execution %s: %s %s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("execution still running: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := sim.Calls()["ec2:DeleteVolume"]; n != 0 {
		t.Fatalf("an observed playbook deleted the volume (%d calls)", n)
	}

	flags := []string{"--data", dir, "--endpoint", p.url}
	code, out, errOut := steward(t, append([]string{"changes", "ls", "--execution", arn}, flags...)...)
	if code != 0 || strings.Count(out, "\n") != 4 || !strings.Contains(out, "ec2:DeleteVolume") || !strings.Contains(out, "planned") || !strings.Contains(out, "observe") {
		t.Fatalf("changes ls: %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = steward(t, append([]string{"changes", "ls", "--execution", arn, "--status", "applied", "--json"}, flags...)...)
	var list struct {
		Changes []struct{ ID, Action, Status string }
	}
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list.Changes) != 1 || list.Changes[0].Action != "CreateTags" {
		t.Fatalf("changes ls --json: %d %s %s", code, out, errOut)
	}
	code, out, errOut = steward(t, append([]string{"changes", "show", list.Changes[0].ID}, flags...)...)
	if code != 0 || !strings.Contains(out, "undo:") || !strings.Contains(out, "DeleteTags") {
		t.Fatalf("changes show: %d %s %s", code, out, errOut)
	}

	code, out, errOut = steward(t, append([]string{"rollback", arn}, flags...)...)
	if code == 0 || !strings.Contains(errOut, "--by") {
		t.Fatalf("rollback without --by: %d %s %s", code, out, errOut)
	}
	code, out, errOut = steward(t, append([]string{"rollback", arn, "--by", "alice", "--dry-run"}, flags...)...)
	if code != 0 || !strings.Contains(out, "dry run") || !strings.Contains(out, "ec2:DeleteTags") || sim.Calls()["ec2:DeleteTags"] != 0 {
		t.Fatalf("rollback --dry-run: %d %s %s", code, out, errOut)
	}
	code, out, errOut = steward(t, append([]string{"rollback", arn, "--by", "alice"}, flags...)...)
	if code != 0 || !strings.Contains(out, "1 change(s) rolled back") {
		t.Fatalf("rollback: %d %s %s", code, out, errOut)
	}
	if n := sim.Calls()["ec2:DeleteTags"]; n != 1 {
		t.Fatalf("DeleteTags calls: %d", n)
	}
	code, out, errOut = steward(t, append([]string{"rollback", arn, "--by", "alice"}, flags...)...)
	if code == 0 || !strings.Contains(errOut, "nothing to roll back") {
		t.Fatalf("rollback twice: %d %s %s", code, out, errOut)
	}
	code, out, errOut = steward(t, append([]string{"rollback", "vol-1", "--by", "alice"}, flags...)...)
	if code == 0 || !strings.Contains(errOut, "hint:") {
		t.Fatalf("rollback of a bad target: %d %s %s", code, out, errOut)
	}
	code, out, errOut = steward(t, append([]string{"changes", "ls", "--execution", arn}, flags...)...)
	if code != 0 || !strings.Contains(out, "rolled back by alice") {
		t.Fatalf("changes ls after rollback: %d %s %s", code, out, errOut)
	}

	code, out, errOut = steward(t, append([]string{"playbooks", "paused"}, flags...)...)
	if code != 0 || !strings.Contains(out, "no playbook is paused") {
		t.Fatalf("playbooks paused: %d %s %s", code, out, errOut)
	}
	code, out, errOut = steward(t, append([]string{"playbooks", "resume", "cleanup"}, flags...)...)
	if code == 0 || !strings.Contains(errOut, "not paused") {
		t.Fatalf("resume of a running playbook: %d %s %s", code, out, errOut)
	}
	p.stop(t)
}
