package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/stewardhq/steward/internal/api"
)

// TestTaskLs: `steward task ls` finds the task a running execution waits
// on and its token, which `steward task success` then answers.
func TestTaskLs(t *testing.T) {
	dir := t.TempDir()
	p := startServe(t, dir)
	key, err := api.LoadAccessKey(dir, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	client := api.NewClient(p.url, key)
	def := `{"StartAt":"Ask","States":{"Ask":{"Type":"Task","Resource":"steward:echo.waitForTaskToken","Parameters":{"taskToken.$":"$$.Task.Token"},"End":true}}}`
	sm, err := client.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("ask"), Definition: aws.String(def), RoleArn: aws.String("arn:aws:iam::000000000000:role/steward")})
	if err != nil {
		t.Fatal(err)
	}
	ex, err := client.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Name: aws.String("one")})
	if err != nil {
		t.Fatal(err)
	}
	flags := []string{"--data", dir, "--endpoint", p.url}
	var listed struct{ Tasks []waitingTask }
	deadline := time.Now().Add(20 * time.Second)
	for len(listed.Tasks) == 0 {
		code, out, errOut := steward(t, append([]string{"task", "ls", "--json"}, flags...)...)
		if code != 0 {
			t.Fatalf("task ls: %d %s %s", code, out, errOut)
		}
		if err := json.Unmarshal([]byte(out), &listed); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("no waiting task listed")
		}
		time.Sleep(50 * time.Millisecond)
	}
	w := listed.Tasks[0]
	if w.ExecutionARN != aws.ToString(ex.ExecutionArn) || w.State != "Ask" || w.Token == "" || !strings.HasSuffix(w.Resource, ".waitForTaskToken") {
		t.Fatalf("listed %+v", w)
	}
	if code, out, errOut := steward(t, append([]string{"task", "success", w.Token, "--output", `{"ok":true}`}, flags...)...); code != 0 {
		t.Fatalf("task success: %d %s %s", code, out, errOut)
	}
	for {
		d, err := client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: ex.ExecutionArn})
		if err == nil && d.Status == "SUCCEEDED" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("execution did not finish: %v %v", d, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code, out, _ := steward(t, append([]string{"task", "ls"}, flags...)...); code != 0 || !strings.Contains(out, "no task is waiting") {
		t.Errorf("after the answer: %d %s", code, out)
	}
}
