package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/stewardhq/steward/internal/api"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/store/storesqlite"
	"github.com/stewardhq/steward/internal/testdata"
)

// TestServeEventsEndToEnd: a real DeleteBucket CloudTrail record, sent with
// `steward events import`, matches a rule saved with `steward rules put`
// and starts its playbook on `steward serve`; the AWS CLI's put-events
// does the same through the PutEvents API.
func TestServeEventsEndToEnd(t *testing.T) {
	dir := t.TempDir()
	p := startServe(t, dir)
	key, err := api.LoadAccessKey(dir, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	client := api.NewClient(p.url, key)
	def := `{"StartAt":"Note","States":{"Note":{"Type":"Pass","Parameters":{"bucket.$":"$.bucket"},"End":true}}}`
	if _, err := client.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("my-dangling-dns"), Definition: aws.String(def), RoleArn: aws.String("arn:aws:iam::000000000000:role/steward")}); err != nil {
		t.Fatal(err)
	}
	rulesFile := filepath.Join(dir, "rules.yaml")
	os.WriteFile(rulesFile, []byte(`
rules:
  - name: my-dangling-dns
    pattern: {source: [aws.s3], detail: {eventName: [DeleteBucket]}}
    playbooks: [my-dangling-dns]
    inputTransformer:
      inputPathsMap: {bucket: $.detail.requestParameters.bucketName}
      inputTemplate: '{"bucket": <bucket>}'
`), 0o644)
	flags := []string{"--data", dir, "--endpoint", p.url}
	if code, out, errOut := steward(t, append([]string{"rules", "put", rulesFile}, flags...)...); code != 0 {
		t.Fatalf("rules put: %d %s %s", code, out, errOut)
	}
	if code, out, errOut := steward(t, append([]string{"rules", "put", writeFile(t, dir, "bad.yaml", []byte("rules:\n  - name: x\n    pattern: {source: [a]}\n    playbooks: [nope]\n"))}, flags...)...); code == 0 || !strings.Contains(errOut, `unknown playbook "nope"`) {
		t.Errorf("a rule naming an unknown playbook was accepted: %d %s %s", code, out, errOut)
	}
	record := filepath.Join(testdata.Dir(t, "cloudtrail", "raw"), "DeleteBucket__panther__an-s3-bucket-was-deleted.json")
	code, out, errOut := steward(t, append([]string{"events", "import", record}, flags...)...)
	if code != 0 || !strings.Contains(out, "1 events accepted") {
		t.Fatalf("events import: %d %s %s", code, out, errOut)
	}
	waitExecutions(t, client, 1)

	aws, err := exec.LookPath("aws")
	if err != nil {
		t.Log("the AWS CLI is not installed: skipping aws events put-events")
		return
	}
	cmd := exec.Command(aws, "events", "put-events", "--endpoint-url", p.url, "--region", "us-east-1", "--entries",
		`[{"Source":"aws.s3","DetailType":"AWS API Call via CloudTrail","Detail":"{\"eventName\":\"DeleteBucket\",\"requestParameters\":{\"bucketName\":\"b2\"}}"}]`)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+key.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+key.SecretAccessKey, "AWS_CA_BUNDLE=", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	res, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(res), `"FailedEntryCount": 0`) {
		t.Fatalf("aws events put-events: %v\n%s", err, res)
	}
	waitExecutions(t, client, 2)
}

func waitExecutions(t *testing.T, client *sfn.Client, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, err := client.ListExecutions(context.Background(), &sfn.ListExecutionsInput{StateMachineArn: aws.String("arn:aws:states:us-east-1:000000000000:stateMachine:my-dangling-dns")})
		if err == nil && len(out.Executions) >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("want %d executions started by events: %v %v", n, out, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestIngestCrash: under sustained ingest load, steward serve is killed
// with SIGKILL; every event whose id was acknowledged is in the store.
func TestIngestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test")
	}
	dir := t.TempDir()
	p := startServe(t, dir)
	token, err := os.ReadFile(filepath.Join(dir, ingestTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	acked := map[string]bool{}
	sent := 0
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second}
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var batch []string
				for j := 0; j < 10; j++ {
					batch = append(batch, fmt.Sprintf(`{"version":"0","id":"w%d-%d-%d","source":"crash.test","detail-type":"x","detail":{"n":%d}}`, w, i, j, j))
				}
				req, _ := http.NewRequest(http.MethodPost, p.url+"/events", strings.NewReader("["+strings.Join(batch, ",")+"]"))
				req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
				mu.Lock()
				sent += len(batch)
				mu.Unlock()
				resp, err := client.Do(req)
				if err != nil {
					return // the server is gone
				}
				var ans struct{ Accepted []string }
				json.NewDecoder(resp.Body).Decode(&ans)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					mu.Lock()
					for _, id := range ans.Accepted {
						acked[id] = true
					}
					mu.Unlock()
				}
			}
		}(w)
	}
	// Let load build, then kill -9 mid-flight.
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 2000 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done
	close(stop)
	wg.Wait()

	db, err := storesqlite.Open(filepath.Join(dir, storeFile), storesqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	stored := map[string]bool{}
	var next string
	for {
		page, tok, err := db.ListEvents(context.Background(), store.ListEventsParams{Source: "crash.test", ListParams: store.ListParams{Limit: 1000, NextToken: next}})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page {
			stored[e.ID] = true
		}
		if tok == "" {
			break
		}
		next = tok
	}
	lost := 0
	for id := range acked {
		if !stored[id] {
			lost++
		}
	}
	t.Logf("sent %d events, %d acknowledged, %d stored after kill -9 (stored but never acknowledged: %d), lost: %d", sent, len(acked), len(stored), len(stored)-len(acked)+lost, lost)
	if len(acked) == 0 {
		t.Fatal("nothing was acknowledged before the kill")
	}
	if lost != 0 {
		t.Fatalf("%d acknowledged events are not in the store", lost)
	}
}
