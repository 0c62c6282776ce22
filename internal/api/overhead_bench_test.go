package api

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/stewardhq/steward/internal/engine"
)

// BenchmarkStartExecutionOverhead is BenchmarkStartExecution with the
// engine replaced by an in-memory stub: the cost of the API layer alone
// (the SDK client, loopback HTTP, SigV4 on both sides, JSON), the ceiling
// the store and engine are measured against.
func BenchmarkStartExecutionOverhead(b *testing.B) {
	key := AccessKey{AccessKeyID: "STWBENCH000000000001", SecretAccessKey: "bench-secret-0123456789abcdefghijklmnopq"}
	srv := httptest.NewServer(New(Config{Engine: stubEngine{real: engine.New(engine.Config{})}, Keys: key.Keys()}))
	defer srv.Close()
	var n atomic.Int64
	b.SetParallelism(4)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c := NewClient(srv.URL, key)
		for pb.Next() {
			_, err := c.StartExecution(context.Background(), &sfn.StartExecutionInput{StateMachineArn: aws.String("arn:aws:states:us-east-1:000000000000:stateMachine:bench"),
				Name: aws.String(fmt.Sprintf("x-%d", n.Add(1))), Input: aws.String(`{"detail": {"instance-id": "i-0123456789abcdef0"}}`)})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "starts/s")
}
