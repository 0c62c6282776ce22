package builtin

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/store"
)

func BenchmarkParseExceptionTag(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := ParseExceptionTag("2026-06-30;kept for the Q2 audit"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseRecordIdentity(b *testing.B) {
	rec := []byte(`{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLE:alice@example.com",
	"arn":"arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123/alice@example.com","accountId":"111122223333",
	"sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123"}}},
	"eventTime":"2026-03-01T12:00:00Z","eventSource":"ec2.amazonaws.com","eventName":"RunInstances","awsRegion":"us-east-1"}`)
	for i := 0; i < b.N; i++ {
		id, err := ParseRecordIdentity(rec)
		if err != nil {
			b.Fatal(err)
		}
		if o, ok := id.Owner(); !ok || o != "alice@example.com" {
			b.Fatal(o)
		}
	}
}

// BenchmarkExceptionTask is steward:exception with a store holding 1,000
// exceptions, the resource's tag mirroring one of them: the per-resource
// cost of a scheduled scan's exception check.
func BenchmarkExceptionTask(b *testing.B) {
	e := newEnvB(b)
	db := openStoreB(b)
	tk := e.tasks(func(d *Deps) { d.Exceptions = db })
	ctx := context.Background()
	for i := 0; i < 1000; i++ {
		if _, err := db.GrantException(ctx, store.Exception{Resource: volARN(fmt.Sprintf("vol-%d", i)), Playbook: "ebs-unused", Until: t0.Add(time.Duration(i%3-1) * 24 * time.Hour), GrantedBy: "a", GrantedAt: t0}); err != nil {
			b.Fatal(err)
		}
	}
	call := callFor(execARN, `{"Resource": "`+volARN("vol-7")+`", "Tags": [{"Key": "steward:exception", "Value": "2026-02-28"}, {"Key": "Name", "Value": "x"}]}`)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := tk.Exception(ctx, call); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLastSeenTask is steward:last-seen over HTTP to the simulated
// AWS: a tagged volume not in use, one LookupEvents call.
func BenchmarkLastSeenTask(b *testing.B) {
	e := newEnvB(b)
	tk := e.tasks(nil)
	call := callFor(execARN, `{"Resource": "`+volARN("vol-1")+`", "Tags": {"steward:last-seen": "2026-02-01T00:00:00Z"}, "InUse": false, "EventNames": ["AttachVolume"], "ResourceName": "vol-1"}`)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := tk.LastSeen(ctx, call); err != nil {
			b.Fatal(err)
		}
	}
}
