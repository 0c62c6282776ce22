package cli

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/stewardhq/steward/internal/api"
	"github.com/stewardhq/steward/internal/api/approvalsapi"
	"github.com/stewardhq/steward/internal/awssim"
)

// askDef asks for approval, then echoes (the "fix").
const askDef = `{"StartAt":"Ask","States":{
 "Ask":{"Type":"Task","Resource":"steward:approval.waitForTaskToken",
  "Parameters":{"Resource.$":"$.resource","Owner.$":"$.owner","Subject":"Internet gateway attached","Action":"detach it",
   "Choices":["approve","exception-month","deny"],"TaskToken.$":"$$.Task.Token"},
  "ResultPath":"$.approval","Next":"Done"},
 "Done":{"Type":"Pass","End":true}}}`

// TestApprovalsCLI runs steward serve with approvals configured (a webhook
// receives the notices, e-mail is not configured so that send fails
// visibly), and decides from the command line: approve, a second decision
// refused, an exception with --until granted and tagged in the simulated
// AWS.
func TestApprovalsCLI(t *testing.T) {
	const account = "123456789012"
	sim := awssim.New(awssim.Options{})
	if err := sim.AddAccount(awssim.AccountInfo{ID: account, Name: "dev", Class: "development"}); err != nil {
		t.Fatal(err)
	}
	if err := sim.AddCredential(awssim.Credential{AccessKeyID: "AKIDAPPROVALTEST", SecretAccessKey: "secret", Account: account}); err != nil {
		t.Fatal(err)
	}
	if err := sim.AddResources(account, "us-east-1", awssim.Resources{Volumes: []awssim.Volume{
		{ID: "vol-1", Size: 8, State: "available", AvailabilityZone: "us-east-1a"},
		{ID: "vol-2", Size: 8, State: "available", AvailabilityZone: "us-east-1a"},
	}}); err != nil {
		t.Fatal(err)
	}
	simURL, stop := sim.Start()
	t.Cleanup(stop)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDAPPROVALTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CA_BUNDLE", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv(api.EnvAccessKeyID, "STWAPPROVALS00000001")
	t.Setenv(api.EnvSecretAccessKey, "approvals-secret-0123456789")

	var mu sync.Mutex
	var hooks []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		hooks = append(hooks, string(b))
		mu.Unlock()
	}))
	t.Cleanup(hook.Close)

	dir := t.TempDir()
	cfg := writeFile(t, dir, "steward.yaml", []byte(`
awsEndpoint: `+simURL+`
notify:
  owners: {alice: alice@example.com}
  webhook: {url: `+hook.URL+`}
approvals:
  batchWindow: 1ms
playbooks:
  igw-attach: {enabled: false, stages: {default: enforce}}
`))
	ctx, cancel := context.WithCancel(context.Background())
	out := &lockedBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"serve", "--data", filepath.Join(dir, "data"), "--addr", "127.0.0.1:0", "--config", cfg}, nil, out, out)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	var url string
	for deadline := time.Now().Add(20 * time.Second); url == "" && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		s := out.String()
		if i := strings.Index(s, "http://"); i >= 0 {
			url = strings.Fields(s[i:])[0]
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited %d: %s", code, out.String())
		default:
		}
	}
	if url == "" {
		t.Fatalf("no URL: %s", out.String())
	}
	key, _ := api.LoadAccessKey(t.TempDir(), func(k string) string {
		return map[string]string{api.EnvAccessKeyID: "STWAPPROVALS00000001", api.EnvSecretAccessKey: "approvals-secret-0123456789"}[k]
	})
	client := api.NewClient(url, key)
	sm, err := client.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("igw-attach"), Definition: aws.String(askDef), RoleArn: aws.String("arn:aws:iam::000000000000:role/steward")})
	if err != nil {
		t.Fatal(err)
	}
	startOne := func(vol string) string {
		in := `{"account":"` + account + `","region":"us-east-1","owner":"alice","resource":"arn:aws:ec2:us-east-1:` + account + `:volume/` + vol + `"}`
		ex, err := client.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Input: aws.String(in)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(ex.ExecutionArn)
	}
	flags := []string{"--endpoint", url}
	pending := func(exec string) approvalsapi.View {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			code, o, e := steward(t, append([]string{"approvals", "ls", "--json", "--execution", exec}, flags...)...)
			if code != 0 {
				t.Fatalf("approvals ls: %d %s %s", code, o, e)
			}
			var l approvalsapi.ListOutput
			if err := json.Unmarshal([]byte(o), &l); err != nil {
				t.Fatal(err)
			}
			if len(l.Approvals) == 1 && l.Approvals[0].LastError != "" {
				return l.Approvals[0]
			}
			if time.Now().After(deadline) {
				t.Fatalf("no approval with its send failure for %s: %s", exec, o)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	finished := func(exec string) map[string]any {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			d, err := client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(exec)})
			if err == nil && d.Status != "RUNNING" {
				var o map[string]any
				json.Unmarshal([]byte(aws.ToString(d.Output)), &o)
				if d.Status != "SUCCEEDED" {
					t.Fatalf("%s: %s", exec, d.Status)
				}
				return o
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s did not finish: %v", exec, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	exec1 := startOne("vol-1")
	a := pending(exec1)
	if a.Status != "pending" || a.Owner != "alice" || !strings.Contains(a.LastError, "email:alice@example.com") {
		t.Errorf("listed: %+v", a)
	}
	// The table shows the failure too.
	if code, o, _ := steward(t, append([]string{"approvals", "ls"}, flags...)...); code != 0 || !strings.Contains(o, a.ID) || !strings.Contains(o, "failed") {
		t.Errorf("ls table: %d %s", code, o)
	}
	mu.Lock()
	gotHook := len(hooks) > 0 && strings.Contains(hooks[0], a.ID) && strings.Contains(hooks[0], "/approve/")
	mu.Unlock()
	if !gotHook {
		t.Errorf("webhook did not get the notice with its links: %v", hooks)
	}
	if code, o, e := steward(t, append([]string{"approve", a.ID}, flags...)...); code == 0 || !strings.Contains(e, "--by") {
		t.Errorf("approve without --by: %d %s %s", code, o, e)
	}
	if code, o, e := steward(t, append([]string{"approve", a.ID, "--by", "alice", "--reason", "fine"}, flags...)...); code != 0 || !strings.Contains(o, "approve by alice") {
		t.Fatalf("approve: %d %s %s", code, o, e)
	}
	res := finished(exec1)
	ap := res["approval"].(map[string]any)
	if ap["decision"] != "approve" || ap["by"] != "alice" || ap["channel"] != "cli" {
		t.Errorf("execution output: %v", res)
	}
	if code, o, e := steward(t, append([]string{"deny", a.ID, "--by", "mallory"}, flags...)...); code == 0 || !strings.Contains(e, "409") {
		t.Errorf("second decision: %d %s %s", code, o, e)
	}
	if code, _, e := steward(t, append([]string{"approve", "apr-nope", "--by", "x"}, flags...)...); code == 0 || !strings.Contains(e, "404") {
		t.Errorf("unknown approval: %d %s", code, e)
	}

	// An exception from the terminal: recorded, tagged in AWS, the playbook
	// told.
	exec2 := startOne("vol-2")
	b := pending(exec2)
	until := time.Now().UTC().AddDate(0, 0, 20).Format(time.DateOnly)
	if code, o, e := steward(t, append([]string{"except", b.ID, "--by", "bob", "--reason", "migration"}, flags...)...); code == 0 || !strings.Contains(e, "--until") {
		t.Errorf("except without --until: %d %s %s", code, o, e)
	}
	if code, o, e := steward(t, append([]string{"except", b.ID, "--until", until, "--by", "bob", "--reason", "migration"}, flags...)...); code != 0 || !strings.Contains(o, "exception by bob") {
		t.Fatalf("except: %d %s %s", code, o, e)
	}
	res = finished(exec2)
	if ap := res["approval"].(map[string]any); ap["decision"] != "exception" || ap["until"] == nil {
		t.Errorf("execution output: %v", res)
	}
	var tagged bool
	sim.WithRegion(account, "us-east-1", func(rs *awssim.RegionState) error {
		if v := rs.Volumes["vol-2"]; v != nil {
			for _, tg := range v.Tags {
				tagged = tagged || (tg.Key == "steward:exception" && strings.Contains(tg.Value, "migration"))
			}
		}
		return nil
	})
	if !tagged {
		t.Errorf("vol-2 not tagged with steward:exception")
	}
	if code, o, _ := steward(t, append([]string{"approvals", "ls", "--status", "all"}, flags...)...); code != 0 || !strings.Contains(o, "exception by bob via cli until") {
		t.Errorf("ls all: %s", o)
	}
}
