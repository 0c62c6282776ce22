package playbooktest_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/stewardhq/steward/internal/awssim"
	"github.com/stewardhq/steward/internal/playbooktest"
)

const describe = `{"StartAt": "Describe", "States": {
  "Describe": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:ec2:describeVolumes",
    "Parameters": {"VolumeIds.$": "States.Array($.volume)"}, "ResultSelector": {"State.$": "$.Volumes[0].State"}, "Next": "Wait"},
  "Wait": {"Type": "Wait", "Seconds": 3600, "Next": "Done"},
  "Done": {"Type": "Pass", "Parameters": {"outcome": "compliant", "state.$": "$.State"}, "End": true}}}`

func TestHarnessRunsAcrossAccounts(t *testing.T) {
	h := playbooktest.New(t, playbooktest.Options{Definitions: map[string]string{"describe": describe}})
	h.NeedSim("seeds volumes with fixed ids")
	for _, acct := range []string{playbooktest.Production, playbooktest.Sandbox} {
		if err := h.Sim.AddResources(acct, "eu-west-1", awssim.Resources{Volumes: []awssim.Volume{{ID: "vol-0000000000000000" + acct[:1]}}}); err != nil {
			t.Fatal(err)
		}
	}
	out, err := ec2.NewFromConfig(h.AWSConfig(playbooktest.Sandbox, "eu-west-1")).DescribeVolumes(h.Context(), &ec2.DescribeVolumesInput{})
	if err != nil || len(out.Volumes) != 1 || aws.ToString(out.Volumes[0].VolumeId) != "vol-00000000000000003" {
		t.Fatalf("sandbox volumes via the test's own client: %v, %v", out, err)
	}
	run := h.Start("describe", map[string]any{"account": playbooktest.Sandbox, "region": "eu-west-1", "volume": "vol-00000000000000003"})
	// Parked on the Wait state until the clock moves.
	run.Park()
	h.Advance(time.Hour)
	res := run.Wait()
	if res.Status != "SUCCEEDED" || res.Outcome() != "compliant" || res.Out["state"] != "available" {
		t.Fatalf("run: %s %v %s %s\n%s", res.Status, res.Out, res.Error, res.Cause, run.History())
	}
	// The same volume id is not in the production account's region: the call acted where the input said.
	run = h.Start("describe", map[string]any{"account": playbooktest.Production, "region": "us-east-1", "volume": "vol-00000000000000003"})
	res = run.Wait()
	if res.Status != "FAILED" || res.Error != "Ec2.InvalidVolume.NotFoundException" {
		t.Fatalf("run in production: %s %s %s", res.Status, res.Error, res.Cause)
	}
	if cs := h.Changes(run); len(cs) != 0 {
		t.Errorf("read-only calls recorded changes: %v", cs)
	}
}
