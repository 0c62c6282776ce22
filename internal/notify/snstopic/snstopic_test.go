package snstopic

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/stewardhq/steward/internal/approve"
	"github.com/stewardhq/steward/internal/awssim"
	"github.com/stewardhq/steward/internal/notify"
)

const (
	account = "111111111111"
	region  = "us-east-1"
	topic   = "arn:aws:sns:us-east-1:111111111111:steward-alerts"
)

func startSim(t *testing.T) (*awssim.Sim, *sns.Client) {
	t.Helper()
	sim := awssim.New(awssim.Options{Now: func() time.Time { return time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC) }})
	sc, err := awssim.LoadScenario(strings.NewReader(`
regions: [us-east-1]
credentials:
  - {access_key_id: AKIDNOTIFY, secret_access_key: secret, account: "111111111111"}
accounts:
  - id: "111111111111"
    name: security
    class: production
    regions:
      us-east-1:
        topics: [{name: steward-alerts}]
`))
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Apply(sc); err != nil {
		t.Fatal(err)
	}
	url, stop := sim.Start()
	t.Cleanup(stop)
	cfg := aws.Config{Region: region, BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDNOTIFY", "secret", ""),
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} }} // notify.Retry does the retrying
	return sim, sns.NewFromConfig(cfg)
}

func notice() notify.Notice {
	return notify.Notice{ApprovalID: "appr-1", ExecutionARN: "arn:x", Playbook: "igw-attach", Title: "Internet gateway attached\nin a private account",
		Resources: []notify.Resource{{Account: account, Region: region, ID: "igw-0123456789abcdef0"}},
		Action:    "detach the gateway", Deadline: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC),
		Choices: notify.Choices(false, func(c approve.Choice) string { return "https://steward.example.com/approve/" + string(c) })}
}

func TestPublish(t *testing.T) {
	sim, client := startSim(t)
	ctx := context.Background()
	to := notify.Recipient{Kind: notify.KindSNS, Address: topic}

	p, err := New(Config{Client: client})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := p.Notify(ctx, to, notice())
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := sim.Published(account, region, topic)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("published %d: %v", len(msgs), err)
	}
	m := msgs[0]
	if m.ID != rc.ID || !strings.HasPrefix(m.Subject, "[steward] igw-attach: Internet gateway attached in a private") || len(m.Subject) > 100 ||
		!strings.Contains(m.Body, "igw-0123456789abcdef0") || !strings.Contains(m.Body, "https://steward.example.com/approve/deny") ||
		m.Attributes["steward.playbook"] != "igw-attach" || m.Attributes["steward.approvals"] != "appr-1" {
		t.Fatalf("message %+v", m)
	}

	pj, _ := New(Config{Client: client, Format: FormatJSON})
	if _, err := pj.Notify(ctx, to, notice()); err != nil {
		t.Fatal(err)
	}
	msgs, _ = sim.Published(account, region, topic)
	var body struct {
		Notices []notify.Notice `json:"notices"`
	}
	if err := json.Unmarshal([]byte(msgs[1].Body), &body); err != nil || len(body.Notices) != 1 || body.Notices[0].ApprovalID != "appr-1" {
		t.Fatalf("json body %v: %s", err, msgs[1].Body)
	}

	// A topic that does not exist: permanent.
	_, err = p.Notify(ctx, notify.Recipient{Kind: notify.KindSNS, Address: topic + "-nope"}, notice())
	var de *notify.DeliveryError
	if !errors.As(err, &de) || de.Transient || de.Attempts != 1 {
		t.Fatalf("missing topic: %v", err)
	}

	// Throttled every time: transient, bounded.
	sim.SetFaults(awssim.Faults{ThrottleRate: 1})
	var waits []time.Duration
	pt, _ := New(Config{Client: client, Retry: notify.RetryPolicy{Attempts: 3, SleepFunc: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }}})
	_, err = pt.Notify(ctx, to, notice())
	if !errors.As(err, &de) || !de.Transient || de.Attempts != 3 || len(waits) != 2 {
		t.Fatalf("throttled: %v (waits %v)", err, waits)
	}
	sim.SetFaults(awssim.Faults{})

	if _, err := p.Notify(ctx, notify.Recipient{Kind: notify.KindEmail, Address: "a@b"}, notice()); err == nil {
		t.Fatal("sent to an e-mail recipient")
	}
	if _, err := New(Config{}); err == nil {
		t.Fatal("no client accepted")
	}
}

func TestSubjectAndTruncate(t *testing.T) {
	if s := Subject("héllo\nworld " + strings.Repeat("x", 200)); len(s) > 100 || strings.ContainsAny(s, "\né") {
		t.Fatalf("subject %q", s)
	}
	if Subject("\n\n") != "steward notice" {
		t.Fatal("empty subject")
	}
	long := strings.Repeat("é", maxMessage)
	if got := truncate(long); len(got) > maxMessage+100 || !strings.HasSuffix(got, "too long for SNS]\n") || !strings.HasPrefix(got, "éé") {
		t.Fatalf("truncate: %d", len(got))
	}
}
